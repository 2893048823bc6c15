import EdgeboneMQTT
import Testing

struct MQTTEndpointTests {
    @Test func fullURL() throws {
        let e = try MQTTEndpoint(url: "mqtt://cam:s%40cret@broker.lan:1884/site/shelves/")
        #expect(e == MQTTEndpoint.make(tls: false, host: "broker.lan", port: 1884, user: "cam", password: "s@cret", prefix: "site/shelves"))
    }

    @Test func defaultsAndEnvironmentPassword() throws {
        let plain = try MQTTEndpoint(url: "mqtt://10.0.0.2")
        #expect(plain.port == 1883 && plain.prefix == "edgebone" && plain.username == nil && plain.password == nil)
        let tls = try MQTTEndpoint(url: "mqtts://fleet@[::1]/p", environmentPassword: "from-env")
        #expect(tls.tls && tls.host == "::1" && tls.port == 8883 && tls.password == "from-env" && tls.address == "[::1]:8883")
        let urlWins = try MQTTEndpoint(url: "mqtt://u:inurl@h/p", environmentPassword: "env")
        #expect(urlWins.password == "inurl")
        // No user: the environment's password is not sent anywhere.
        #expect(try MQTTEndpoint(url: "mqtt://h/p", environmentPassword: "env").password == nil)
    }

    @Test(arguments: [
        ("http://h/p", "expected mqtt://"),
        ("mqtt://:1883/p", "no host"),
        ("mqtt://h:0/p", "port '0'"),
        ("mqtt://h:99999/p", "port '99999'"),
        ("mqtt://h:12ab/p", "port '12ab'"),
        ("mqtt://h/a/+/b", "wildcard"),
        ("mqtt://h/a#", "wildcard"),
        ("mqtt://h/$SYS", "reserved"),
        ("mqtt://[::1/p", "unclosed"),
        ("mqtt://u:p%zz@h/p", "percent-escape in the password"),
        ("mqtt://@h/p", "empty user name"),
    ])
    func refusals(url: String, says: String) {
        #expect {
            try MQTTEndpoint(url: url)
        } throws: { error in
            "\(error)".contains(says)
        }
    }

    @Test func messagesNeverShowThePassword() {
        #expect(MQTTEndpoint.redacted("mqtt://u:secret@h:1/p") == "mqtt://u:***@h:1/p")
        #expect(MQTTEndpoint.redacted("mqtt://u@h/p:x@y") == "mqtt://u@h/p:x@y")
        do {
            _ = try MQTTEndpoint(url: "mqtt://u:secret@h:0/p")
            Issue.record("port 0 accepted")
        } catch {
            #expect(!"\(error)".contains("secret"))
        }
    }

    @Test func configurationChecks() throws {
        let e = try MQTTEndpoint(url: "mqtt://h/p")
        var c = MQTTPublisherConfiguration(endpoint: e, deviceID: "cam/1")
        #expect(throws: MQTTConfigurationError.self) { try c.validate() }
        c.deviceID = "cam1"
        try c.validate()
        #expect(c.topic("result") == "p/cam1/result")
        c.caFile = "/etc/hostname"
        #expect(throws: MQTTConfigurationError("--mqtt-ca/--mqtt-cert/--mqtt-key need an mqtts:// URL")) { try c.validate() }
        c.endpoint.tls = true
        c.caFile = "/no/such/ca.pem"
        #expect { try c.validate() } throws: { "\($0)".contains("/no/such/ca.pem") }
        c.caFile = nil
        c.certFile = "/etc/hostname"
        #expect(throws: MQTTConfigurationError("--mqtt-cert and --mqtt-key go together")) { try c.validate() }
        c.certFile = nil
        c.resultQoS = 3
        #expect(throws: MQTTConfigurationError.self) { try c.validate() }
    }
}

extension MQTTEndpoint {
    static func make(tls: Bool, host: String, port: Int, user: String?, password: String?, prefix: String) -> MQTTEndpoint {
        var e = try! MQTTEndpoint(url: "mqtt://x")
        e.tls = tls; e.host = host; e.port = port; e.username = user; e.password = password; e.prefix = prefix
        return e
    }
}

struct MessageRingTests {
    func push(_ ring: MessageRing, _ text: String, kind: UInt8 = 0) -> Bool {
        Array(text.utf8).withUnsafeBufferPointer { ring.push(kind: kind, $0) }
    }

    func pop(_ ring: MessageRing) -> (UInt8, String)? {
        let buf = UnsafeMutablePointer<UInt8>.allocate(capacity: ring.slotBytes)
        defer { buf.deallocate() }
        guard let (k, n) = ring.pop(into: buf) else { return nil }
        return (k, String(decoding: UnsafeBufferPointer(start: buf, count: n), as: UTF8.self))
    }

    @Test func keepsOrderAndDropsTheOldestWhenFull() {
        let ring = MessageRing(slots: 3, slotBytes: 8)
        for i in 0..<5 { #expect(push(ring, "m\(i)", kind: UInt8(i))) }
        #expect(ring.waiting == 3 && ring.dropped == 2)
        #expect(ring.peekKind() == 2)
        #expect(pop(ring)! == (2, "m2"))
        #expect(push(ring, "m5"))
        #expect(pop(ring)! == (3, "m3"))
        #expect(pop(ring)! == (4, "m4"))
        #expect(pop(ring)! == (0, "m5"))
        #expect(pop(ring) == nil && ring.peekKind() == nil)
        #expect(ring.dropped == 2)
    }

    @Test func refusesAndCountsWhatDoesNotFitASlot() {
        let ring = MessageRing(slots: 2, slotBytes: 4)
        #expect(!push(ring, "12345"))
        #expect(push(ring, "1234") && push(ring, ""))
        #expect(ring.dropped == 1 && ring.oversized == 1 && ring.waiting == 2)
        #expect(pop(ring)!.1 == "1234" && pop(ring)!.1 == "")
    }

    /// What is still queued when the publisher ends is counted as dropped, not lost silently (a run
    /// that ended before its TLS handshake finished used to report 0 published and 0 dropped).
    @Test func abandonedMessagesCountAsDropped() {
        let ring = MessageRing(slots: 4, slotBytes: 8)
        for i in 0..<3 { #expect(push(ring, "m\(i)")) }
        _ = pop(ring)
        ring.abandon()
        #expect(ring.waiting == 0 && ring.dropped == 2 && pop(ring) == nil)
        #expect(push(ring, "m3") && ring.waiting == 1 && ring.dropped == 2)
    }
}

struct PublishPolicyTests {
    @Test func everyPublishesEverything() {
        var p = PublishPolicy(mode: .every, delta: 0.5, interval: 60)
        var all = true
        for i in 0..<10 { all = p.shouldPublish(top1: 1, score: 0.5, nanos: UInt64(i)) && all }
        #expect(all)
    }

    @Test func changeWaitsForAChangeOrTheHeartbeat() {
        var p = PublishPolicy(mode: .change, delta: 0.1, interval: 2)
        let s: UInt64 = 1_000_000_000
        let frames: [(Int, Double, UInt64, Bool)] = [
            (7, 0.60, 10 * s, true),          // first
            (7, 0.65, 10 * s + 1, false),     // small move
            (7, 0.69, 11 * s, false),         // still within 0.1 of 0.60
            (7, 0.71, 11 * s + 1, true),      // moved by more than 0.1
            (3, 0.71, 11 * s + 2, true),      // class changed
            (3, 0.70, 13 * s + 1, false),     // 2 s minus a nanosecond since the last one
            (3, 0.70, 13 * s + 2, true),      // heartbeat
        ]
        var got: [Bool] = []
        for (c, score, t, _) in frames { got.append(p.shouldPublish(top1: c, score: score, nanos: t)) }
        #expect(got == frames.map { $0.3 })
        var quiet = PublishPolicy(mode: .change, delta: 0.1, interval: 0)
        let first = quiet.shouldPublish(top1: 1, score: 0.5, nanos: 0)
        let muchLater = quiet.shouldPublish(top1: 1, score: 0.5, nanos: 1_000 * s)
        #expect(first && !muchLater)  // no heartbeat
    }
}
