// Publishes a daemon's results, statistics and status to an MQTT broker through libmosquitto, from a
// thread of its own. The inference thread only copies bytes into a preallocated ring and pokes a pipe;
// everything that can wait — DNS, TCP, TLS, a slow broker, reconnection with capped backoff — waits
// here. libmosquitto is driven by hand (its socket in our poll beside the wake-up pipe), so that one
// thread owns the client and messages are handed over only when the socket has room: a broker that
// stops reading costs dropped results, counted, never memory.
import CMosquitto
#if canImport(Glibc)
import Glibc
#endif

public enum MQTTTopic: UInt8, Sendable {
    case result = 0, stats = 1

    public var name: String { self == .result ? "result" : "stats" }
}

public struct MQTTPublisherConfiguration: Sendable {
    public var endpoint: MQTTEndpoint
    /// Topics are PREFIX/DEVICE/{result,stats,status}.
    public var deviceID: String
    public var caFile: String?
    public var certFile: String?
    public var keyFile: String?
    public var keepalive = 30
    public var resultQoS: Int32 = 0
    public var statsQoS: Int32 = 1
    public var statusQoS: Int32 = 1
    public var queueSlots = 64
    public var slotBytes = 16_384
    /// Seconds; reconnection waits 0.5 s, then doubles up to this.
    public var maxBackoff = 30.0
    /// JSON members (without braces) added to the retained `online` status, e.g. `"model":"…"`.
    public var onlineDetails = ""

    public init(endpoint: MQTTEndpoint, deviceID: String) {
        self.endpoint = endpoint
        self.deviceID = deviceID
    }

    public func topic(_ leaf: String) -> String { "\(endpoint.prefix)/\(deviceID)/\(leaf)" }

    /// Problems a user can fix before anything starts.
    public func validate() throws(MQTTConfigurationError) {
        if deviceID.isEmpty { throw MQTTConfigurationError("--device-id must not be empty") }
        if deviceID.contains("/") { throw MQTTConfigurationError("--device-id '\(deviceID)' contains '/' (it is one topic level)") }
        if let why = MQTTEndpoint.topicProblem(deviceID) { throw MQTTConfigurationError("--device-id '\(deviceID)' \(why)") }
        for (qos, name) in [(resultQoS, "result"), (statsQoS, "stats"), (statusQoS, "status")] where !(0...2).contains(qos) {
            throw MQTTConfigurationError("the \(name) QoS must be 0, 1 or 2 (got \(qos))")
        }
        if !(5...65535).contains(keepalive) { throw MQTTConfigurationError("--mqtt-keepalive must be 5 to 65535 seconds") }
        if queueSlots < 1 || queueSlots > 100_000 { throw MQTTConfigurationError("--mqtt-queue must be 1 to 100000 messages") }
        if !(maxBackoff >= 0.5 && maxBackoff <= 3600) { throw MQTTConfigurationError("--mqtt-max-backoff must be 0.5 to 3600 seconds") }
        if (certFile == nil) != (keyFile == nil) { throw MQTTConfigurationError("--mqtt-cert and --mqtt-key go together") }
        if !endpoint.tls && (caFile != nil || certFile != nil) {
            throw MQTTConfigurationError("--mqtt-ca/--mqtt-cert/--mqtt-key need an mqtts:// URL")
        }
        for (path, flag) in [(caFile, "--mqtt-ca"), (certFile, "--mqtt-cert"), (keyFile, "--mqtt-key")] {
            guard let path else { continue }
            if access(path, R_OK) != 0 { throw MQTTConfigurationError("\(flag) \(path): \(String(cString: strerror(errno)))") }
        }
    }
}

/// What the publisher has done so far.
public struct MQTTCounters: Sendable, Equatable {
    public var published = 0
    /// Results and statistics that never reached the broker: overwritten in the queue while it was
    /// slow or away, or too large for a queue slot.
    public var dropped = 0
    /// Successful connections after the first.
    public var reconnects = 0
    public var failedAttempts = 0
    public var connected = false
}

public final class MQTTPublisher: @unchecked Sendable {
    public let configuration: MQTTPublisherConfiguration
    private let ring: MessageRing
    private let log: @Sendable (String) -> Void
    private var mosq: OpaquePointer?
    private var thread = pthread_t()
    private var started = false
    private let wakeRead: Int32, wakeWrite: Int32
    private let counterLock = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private var counters = MQTTCounters()
    private let exitedCondition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var stopRequested = false
    private var stopDeadline: UInt64 = 0
    private var exited = false
    // Publisher-thread state.
    private let scratch: UnsafeMutablePointer<UInt8>
    private let pollSet = UnsafeMutablePointer<pollfd>.allocate(capacity: 2)
    private let resultTopic: String, statsTopic: String, statusTopic: String
    private let onlinePayload: [UInt8], offlinePayload: [UInt8]
    private enum Link { case down(retryAt: UInt64), handshaking(since: UInt64), up }
    private var link = Link.down(retryAt: 0)
    private var backoff = 0.5
    private var everConnected = false
    /// Message ids of QoS 1/2 messages not yet acknowledged (libmosquitto reports QoS 0 ones as
    /// published once written, with ids of their own).
    private var inFlight = Set<Int32>()
    private var offlineMessage: Int32 = -1
    private var offlineAcknowledged = false
    private var lastLibraryError: String?
    /// The CONNACK code the connect callback saw; handled once the library call that ran the
    /// callback has returned (calling back into libmosquitto from a callback can deadlock it).
    private var connack: Int32?

    /// Checks the configuration, creates the client (Last Will set: retained `offline`) and the queue.
    /// Nothing touches the network before `start()`.
    public init(_ configuration: MQTTPublisherConfiguration, log: @escaping @Sendable (String) -> Void) throws(MQTTConfigurationError) {
        try configuration.validate()
        self.configuration = configuration
        self.log = log
        ring = MessageRing(slots: configuration.queueSlots, slotBytes: configuration.slotBytes)
        scratch = .allocate(capacity: configuration.slotBytes)
        resultTopic = configuration.topic("result")
        statsTopic = configuration.topic("stats")
        statusTopic = configuration.topic("status")
        let device = MQTTPublisher.jsonString(configuration.deviceID)
        let details = configuration.onlineDetails.isEmpty ? "" : "," + configuration.onlineDetails
        onlinePayload = Array("{\"state\":\"online\",\"device\":\(device)\(details)}".utf8)
        offlinePayload = Array("{\"state\":\"offline\",\"device\":\(device)}".utf8)
        var fds: [Int32] = [-1, -1]
        guard eb_mqtt_wake_pipe(&fds) == 0 else {
            // Not fully initialized yet: deinit will not run, so free here.
            scratch.deallocate(); pollSet.deallocate(); counterLock.deallocate(); exitedCondition.deallocate()
            throw MQTTConfigurationError("mqtt: cannot create a pipe: \(String(cString: strerror(errno)))")
        }
        wakeRead = fds[0]; wakeWrite = fds[1]
        pthread_mutex_init(counterLock, nil)
        pthread_cond_init(exitedCondition, nil)
        MQTTPublisher.initializeLibrary()
        // Every property is set by now, so a failure here still runs deinit, which frees what init made.
        try makeClient()
    }

    deinit {
        if started { stop(timeout: 0) }
        if let mosq { mosquitto_destroy(mosq) }
        close(wakeRead); close(wakeWrite)
        pthread_cond_destroy(exitedCondition)
        pthread_mutex_destroy(counterLock)
        counterLock.deallocate(); exitedCondition.deallocate()
        scratch.deallocate(); pollSet.deallocate()
    }

    private static let libraryReady: Bool = { mosquitto_lib_init() == MOSQ_ERR_SUCCESS.rawValue }()
    private static func initializeLibrary() { _ = libraryReady }

    private func makeClient() throws(MQTTConfigurationError) {
        let c = configuration
        let clientID = "edgebone-\(c.deviceID)"
        guard let m = mosquitto_new(clientID, true, Unmanaged.passUnretained(self).toOpaque()) else {
            throw MQTTConfigurationError("mqtt: cannot create a client: \(String(cString: strerror(errno)))")
        }
        mosq = m
        func check(_ rc: Int32, _ what: String) throws(MQTTConfigurationError) {
            guard rc == MOSQ_ERR_SUCCESS.rawValue else {
                throw MQTTConfigurationError("mqtt: \(what): \(String(cString: mosquitto_strerror(rc)))")
            }
        }
        if let user = c.endpoint.username {
            try check(mosquitto_username_pw_set(m, user, c.endpoint.password), "user name and password")
        }
        try check(offlinePayload.withUnsafeBytes {
            mosquitto_will_set(m, statusTopic, Int32($0.count), $0.baseAddress, c.statusQoS, true)
        }, "Last Will on \(statusTopic)")
        if c.endpoint.tls {
            if c.caFile == nil {
                try check(mosquitto_int_option(m, MOSQ_OPT_TLS_USE_OS_CERTS, 1), "the system's CA certificates")
            }
            if c.caFile != nil || c.certFile != nil {
                // libmosquitto wants a CA file or folder whenever TLS files are given.
                let caPath: String? = c.caFile == nil ? "/etc/ssl/certs" : nil
                try check(mosquitto_tls_set(m, c.caFile, caPath, c.certFile, c.keyFile, nil), "TLS files")
            }
        }
        mosquitto_connect_callback_set(m) { _, me, rc in
            Unmanaged<MQTTPublisher>.fromOpaque(me!).takeUnretainedValue().connack = rc
        }
        mosquitto_publish_callback_set(m) { _, me, mid in
            Unmanaged<MQTTPublisher>.fromOpaque(me!).takeUnretainedValue().acknowledged(mid)
        }
        mosquitto_log_callback_set(m) { _, me, level, text in
            guard level & (MOSQ_LOG_ERR | MOSQ_LOG_WARNING) != 0, let text else { return }
            Unmanaged<MQTTPublisher>.fromOpaque(me!).takeUnretainedValue().lastLibraryError = String(cString: text)
        }
    }

    // MARK: - Any thread

    /// Starts the publisher thread; the first connection attempt is immediate.
    public func start() {
        guard !started else { return }
        started = true
        let me = Unmanaged.passRetained(self).toOpaque()
        let rc = pthread_create(&thread, nil, { arg in
            let publisher = Unmanaged<MQTTPublisher>.fromOpaque(arg!).takeRetainedValue()
            eb_mqtt_name_thread("edgebone-mqtt")
            publisher.loop()
            publisher.markExited()
            return nil
        }, me)
        precondition(rc == 0, "pthread_create failed: \(rc)")
    }

    /// Queues a message for `topic`. Never blocks on the network and allocates nothing: a copy into
    /// the ring and one byte into the wake-up pipe.
    public func publish(_ topic: MQTTTopic, _ bytes: UnsafeBufferPointer<UInt8>) {
        ring.push(kind: topic.rawValue, bytes)
        var one: UInt8 = 1
        _ = write(wakeWrite, &one, 1)
    }

    public var snapshot: MQTTCounters {
        pthread_mutex_lock(counterLock)
        var c = counters
        pthread_mutex_unlock(counterLock)
        c.dropped = ring.dropped
        return c
    }

    /// Sends what is queued (while the broker takes it, within `timeout` seconds), the retained
    /// `offline` status, and a clean disconnect (so the broker does not fire the Last Will); joins the
    /// thread. A thread stuck in a blocking connect (a host that does not answer) is left behind after
    /// two more seconds rather than holding up the exit.
    public func stop(timeout: Double = 3) {
        guard started else { return }
        started = false
        pthread_mutex_lock(counterLock)
        stopRequested = true
        let deadline = MQTTPublisher.now() &+ UInt64(max(0, timeout) * 1e9)
        stopDeadline = deadline
        pthread_mutex_unlock(counterLock)
        var one: UInt8 = 1
        _ = write(wakeWrite, &one, 1)
        var limit = timespec()
        clock_gettime(CLOCK_REALTIME, &limit)
        let wait = max(0, timeout) + 2
        limit.tv_sec += Int(wait)
        limit.tv_nsec += Int((wait - Double(Int(wait))) * 1e9)
        if limit.tv_nsec >= 1_000_000_000 { limit.tv_sec += 1; limit.tv_nsec -= 1_000_000_000 }
        pthread_mutex_lock(counterLock)
        while !exited {
            if pthread_cond_timedwait(exitedCondition, counterLock, &limit) == ETIMEDOUT { break }
        }
        let done = exited
        pthread_mutex_unlock(counterLock)
        if done {
            pthread_join(thread, nil)
        } else {
            pthread_detach(thread)
            log("mqtt: the publisher did not finish in time (a connection attempt still blocked); leaving it")
        }
    }

    private func markExited() {
        pthread_mutex_lock(counterLock)
        exited = true
        pthread_cond_broadcast(exitedCondition)
        pthread_mutex_unlock(counterLock)
    }

    // MARK: - Publisher thread

    private func loop() {
        guard let mosq else { return }
        var stopping = false, deadline: UInt64 = 0
        var drainedAtStop = false
        while true {
            let now = MQTTPublisher.now()
            if !stopping {
                pthread_mutex_lock(counterLock)
                stopping = stopRequested; deadline = stopDeadline
                pthread_mutex_unlock(counterLock)
            }
            if stopping {
                // No connection and none under way: nothing can leave. A handshake under way (TLS takes
                // a few round trips) may still finish within the deadline and deliver what is queued.
                if case .down = link { break }
                if now >= deadline { break }
                if case .up = link, !drainedAtStop && ring.waiting == 0 && !mosquitto_want_write(mosq) {
                    drainedAtStop = true
                    sendOffline()
                }
                if offlineAcknowledged { break }
            }
            switch link {
            case let .down(retryAt) where now >= retryAt && !stopping:
                attemptConnection()
            case let .handshaking(since) where now &- since > 10_000_000_000:
                lost("no answer from the broker within 10 s")
            case .up:
                drainRing()
            default:
                break
            }
            pollOnce(timeoutMs: pollTimeout(now: now, stopping: stopping))
        }
        if case .up = link {
            mosquitto_disconnect(mosq)
            // The DISCONNECT packet is queued: give it a moment to leave.
            var rounds = 0
            while mosquitto_want_write(mosq) && rounds < 20 {
                _ = mosquitto_loop_write(mosq, 1)
                rounds += 1
            }
        }
        setConnected(false)
        // What could not be sent by the end is lost: counted with the drops, never silently gone.
        ring.abandon()
    }

    private func pollTimeout(now: UInt64, stopping: Bool) -> Int32 {
        if stopping { return 50 }
        if case let .down(retryAt) = link {
            return Int32(clamping: min(1000, max(0, Int64(bitPattern: retryAt &- now) / 1_000_000) + 1))
        }
        return 1000
    }

    private func pollOnce(timeoutMs: Int32) {
        guard let mosq else { return }
        pollSet[0] = pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0)
        pollSet[1] = pollfd(fd: -1, events: 0, revents: 0)
        let sock = mosquitto_socket(mosq)
        let linked: Bool
        switch link { case .down: linked = false; default: linked = true }
        if linked && sock >= 0 {
            pollSet[1].fd = sock
            pollSet[1].events = Int16(POLLIN) | (mosquitto_want_write(mosq) ? Int16(POLLOUT) : 0)
        }
        let n = poll(pollSet, 2, timeoutMs)
        if n > 0 && pollSet[0].revents != 0 {
            while read(wakeRead, scratch, min(256, configuration.slotBytes)) > 0 {}
        }
        guard linked && sock >= 0 else { return }
        if n > 0 && pollSet[1].revents & Int16(POLLIN | POLLERR | POLLHUP) != 0 {
            let rc = mosquitto_loop_read(mosq, 8)
            if let code = connack {
                connack = nil
                connected(code)
            }
            if rc != MOSQ_ERR_SUCCESS.rawValue { lost(reason(rc)); return }
        }
        if case .down = link { return }
        if mosquitto_want_write(mosq) {
            let rc = mosquitto_loop_write(mosq, 8)
            if rc != MOSQ_ERR_SUCCESS.rawValue { lost(reason(rc)); return }
        }
        if case .down = link { return }
        let rc = mosquitto_loop_misc(mosq)
        if rc != MOSQ_ERR_SUCCESS.rawValue { lost(reason(rc)) }
    }

    private func attemptConnection() {
        guard let mosq else { return }
        let c = configuration
        lastLibraryError = nil
        connack = nil
        let rc = mosquitto_connect(mosq, c.endpoint.host, Int32(c.endpoint.port), Int32(c.keepalive))
        if rc == MOSQ_ERR_SUCCESS.rawValue {
            link = .handshaking(since: MQTTPublisher.now())
        } else {
            failed(reason(rc))
        }
    }

    /// A connection attempt failed: log it and wait (doubling up to the maximum).
    private func failed(_ why: String) {
        pthread_mutex_lock(counterLock); counters.failedAttempts += 1; pthread_mutex_unlock(counterLock)
        log("mqtt: cannot connect to \(configuration.endpoint.address): \(why); retrying in \(MQTTPublisher.seconds(backoff)) s")
        scheduleRetry()
    }

    private func scheduleRetry() {
        link = .down(retryAt: MQTTPublisher.now() &+ UInt64(backoff * 1e9))
        backoff = min(backoff * 2, configuration.maxBackoff)
    }

    private func lost(_ why: String) {
        switch link {
        case .down: return
        case .handshaking:
            link = .down(retryAt: 0)
            closeSocket()
            failed(why)
        case .up:
            link = .down(retryAt: 0)
            closeSocket()
            setConnected(false)
            inFlight.removeAll(keepingCapacity: true)
            backoff = 0.5
            log("mqtt: connection to \(configuration.endpoint.address) lost: \(why); reconnecting in \(MQTTPublisher.seconds(backoff)) s")
            scheduleRetry()
        }
    }

    private func connected(_ rc: Int32) {
        guard case .handshaking = link else { return }
        guard rc == 0 else {
            let why = "the broker refused the connection: \(String(cString: mosquitto_connack_string(rc)))"
            link = .down(retryAt: 0)
            closeSocket()
            failed(why)
            return
        }
        link = .up
        backoff = 0.5
        inFlight.removeAll(keepingCapacity: true)
        pthread_mutex_lock(counterLock)
        if everConnected { counters.reconnects += 1 }
        counters.connected = true
        pthread_mutex_unlock(counterLock)
        everConnected = true
        log("mqtt: connected to \(configuration.endpoint.address), publishing under \(configuration.endpoint.prefix)/\(configuration.deviceID)/")
        _ = send(statusTopic, onlinePayload, qos: configuration.statusQoS, retain: true)
    }

    /// A DISCONNECT if the socket still works (libmosquitto closes it once that is written); the
    /// broker then drops our session without waiting for a keepalive.
    private func closeSocket() {
        guard let mosq else { return }
        if mosquitto_disconnect(mosq) == MOSQ_ERR_SUCCESS.rawValue { _ = mosquitto_loop_write(mosq, 1) }
    }

    private func acknowledged(_ mid: Int32) {
        inFlight.remove(mid)
        if mid == offlineMessage { offlineAcknowledged = true }
    }

    private func setConnected(_ up: Bool) {
        pthread_mutex_lock(counterLock); counters.connected = up; pthread_mutex_unlock(counterLock)
    }

    /// Hands queued messages to libmosquitto while the socket has room and QoS 1/2 messages in
    /// flight stay few; the rest wait in the ring (where the oldest give way to new ones).
    private func drainRing() {
        guard let mosq else { return }
        var handed = 0
        while handed < 64, case .up = link, !mosquitto_want_write(mosq), let kind = ring.peekKind() {
            let qos = kind == MQTTTopic.stats.rawValue ? configuration.statsQoS : configuration.resultQoS
            if qos > 0 && inFlight.count >= 16 { return }
            guard let (k, n) = ring.pop(into: scratch) else { return }
            let topic = k == MQTTTopic.stats.rawValue ? statsTopic : resultTopic
            var mid: Int32 = 0
            let rc = mosquitto_publish(mosq, &mid, topic, Int32(n), scratch, qos, false)
            if rc != MOSQ_ERR_SUCCESS.rawValue { lost(reason(rc)); return }
            if qos > 0 { inFlight.insert(mid) }
            pthread_mutex_lock(counterLock); counters.published += 1; pthread_mutex_unlock(counterLock)
            handed += 1
            // Let it leave now rather than at the next poll.
            let w = mosquitto_loop_write(mosq, 1)
            if w != MOSQ_ERR_SUCCESS.rawValue { lost(reason(w)); return }
        }
    }

    private func send(_ topic: String, _ payload: [UInt8], qos: Int32, retain: Bool) -> Int32? {
        guard let mosq else { return nil }
        var mid: Int32 = 0
        let rc = payload.withUnsafeBytes { mosquitto_publish(mosq, &mid, topic, Int32($0.count), $0.baseAddress, qos, retain) }
        if rc != MOSQ_ERR_SUCCESS.rawValue { lost(reason(rc)); return nil }
        if qos > 0 { inFlight.insert(mid) }
        return mid
    }

    private func sendOffline() {
        offlineMessage = send(statusTopic, offlinePayload, qos: configuration.statusQoS, retain: true) ?? -1
    }

    private func reason(_ rc: Int32) -> String {
        var text: String
        if rc == MOSQ_ERR_ERRNO.rawValue {
            text = String(cString: strerror(errno))
        } else {
            text = String(cString: mosquitto_strerror(rc))
        }
        if let detail = lastLibraryError, !detail.isEmpty, detail != text { text += " (\(detail))" }
        return text
    }

    private static func now() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
    }

    private static func seconds(_ s: Double) -> String {
        s < 10 ? String(Double(Int(s * 10)) / 10) : String(Int(s))
    }

    /// A JSON string literal.
    public static func jsonString(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 {
                    let hex = String(u.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        return out + "\""
    }
}
