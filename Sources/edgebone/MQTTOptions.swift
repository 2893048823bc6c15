// `edgebone run --mqtt URL` and its companions: where results go, how often, and how securely.
import ArgumentParser
import Edgebone
import EdgeboneModels
import EdgeboneMQTT
#if canImport(Glibc)
import Glibc
#endif

struct MQTTOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Publish to an MQTT broker: mqtt://[user[:password]@]host[:port]/PREFIX or mqtts://… (the password may come from EDGEBONE_MQTT_PASSWORD instead).", valueName: "url"))
    var mqtt: String?

    @Option(name: .long, help: "This board's topic level: PREFIX/DEVICE/{result,stats,status} (default: the host name).")
    var deviceId: String?

    @Option(name: .long, help: "Which results are published: every (each frame) or change (top-1 class changes or its score moves by more than --publish-delta, plus a heartbeat).")
    var publish: String = "change"

    @Option(name: .long, help: "Score change that counts as a change.")
    var publishDelta: Double = 0.05

    @Option(name: .long, help: "Seconds between heartbeat results in change mode (0: none).")
    var publishInterval: Double = 30

    @Option(name: .long, help: ArgumentHelp("CA certificate(s) for mqtts:// (default: the system's).", valueName: "file"))
    var mqttCa: String?

    @Option(name: .long, help: ArgumentHelp("Client certificate for mqtts://.", valueName: "file"))
    var mqttCert: String?

    @Option(name: .long, help: ArgumentHelp("Client private key for mqtts://.", valueName: "file"))
    var mqttKey: String?

    @Option(name: .long, help: ArgumentHelp("QoS of result, stats and status messages.", valueName: "r,s,s"))
    var mqttQos: String = "0,1,1"

    @Option(name: .long, help: "Messages held while the broker is slow or away; the oldest go first.")
    var mqttQueue: Int = 64

    @Option(name: .long, help: "Seconds of silence before broker and daemon check on each other.")
    var mqttKeepalive: Int = 30

    @Option(name: .long, help: "Longest wait between reconnection attempts, seconds.")
    var mqttMaxBackoff: Double = 30

    func validate() throws {
        guard mqtt != nil else {
            let given = [deviceId != nil, mqttCa != nil, mqttCert != nil, mqttKey != nil]
            if given.contains(true) { throw ValidationError("--device-id and --mqtt-ca/--mqtt-cert/--mqtt-key need --mqtt URL") }
            return
        }
        guard PublishMode(rawValue: publish) != nil else { throw ValidationError("--publish must be every or change, got '\(publish)'") }
        guard publishDelta >= 0 && publishDelta.isFinite else { throw ValidationError("--publish-delta must be a non-negative number") }
        guard publishInterval >= 0 && publishInterval <= 1e6 else { throw ValidationError("--publish-interval must be 0 to 1000000 seconds") }
        _ = try qos()
    }

    private func qos() throws -> (Int32, Int32, Int32) {
        let parts = mqttQos.split(separator: ",", omittingEmptySubsequences: false).map { Int32($0) }
        guard parts.count == 3, let r = parts[0], let s = parts[1], let t = parts[2], [r, s, t].allSatisfy({ (0...2).contains($0) }) else {
            throw ValidationError("--mqtt-qos takes three QoS levels (0, 1 or 2) for results, stats and status, e.g. 0,1,1; got '\(mqttQos)'")
        }
        return (r, s, t)
    }

    static var hostName: String {
        var buf = [CChar](repeating: 0, count: 256)
        guard gethostname(&buf, 255) == 0 else { return "edgebone" }
        let name = String(cString: buf)
        return name.isEmpty ? "edgebone" : name
    }

    /// The publisher for `classifier`, not started; nil without --mqtt.
    func makePublisher(classifier: ImageClassifier, threads: Int, top: Int, log: @escaping @Sendable (String) -> Void) throws -> MQTTPublisher? {
        guard let mqtt else { return nil }
        let environment = getenv("EDGEBONE_MQTT_PASSWORD").map { String(cString: $0) }
        let endpoint = try MQTTEndpoint(url: mqtt, environmentPassword: environment)
        var c = MQTTPublisherConfiguration(endpoint: endpoint, deviceID: deviceId ?? MQTTOptions.hostName)
        c.caFile = mqttCa; c.certFile = mqttCert; c.keyFile = mqttKey
        (c.resultQoS, c.statsQoS, c.statusQoS) = try qos()
        c.queueSlots = mqttQueue
        c.keepalive = mqttKeepalive
        c.maxBackoff = mqttMaxBackoff
        // A result line: fixed fields plus, per class, its index, score and escaped label.
        let longestLabel = classifier.labels.map { jsonStringBytes($0).count }.max() ?? 0
        c.slotBytes = max(1024, 256 + min(top, classifier.labels.count) * (64 + longestLabel))
        let json = MQTTPublisher.jsonString
        c.onlineDetails = "\"model\":\(json(classifier.arch)),\"precision\":\(json(classifier.precision)),\"isa\":\(json(classifier.isa.rawValue))," +
            "\"threads\":\(threads),\"version\":\(json(EdgeboneVersion.string)),\"topics\":{\"result\":\(json(c.topic("result")))," +
            "\"stats\":\(json(c.topic("stats")))}"
        return try MQTTPublisher(c, log: log)
    }

    var publishPolicy: PublishPolicy {
        PublishPolicy(mode: PublishMode(rawValue: publish) ?? .change, delta: publishDelta, interval: publishInterval)
    }
}
