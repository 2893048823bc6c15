// Where results go: `mqtt://[user[:password]@]host[:port]/PREFIX` or `mqtts://…`, parsed and checked
// up front so that a typo is an error at start-up, never a daemon retrying a bad address forever.

public struct MQTTConfigurationError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

public struct MQTTEndpoint: Equatable, Sendable {
    public var tls: Bool
    public var host: String
    public var port: Int
    public var username: String?
    public var password: String?
    /// Topic prefix, without a trailing slash ("edgebone" when the URL has no path).
    public var prefix: String

    public static let defaultPrefix = "edgebone"

    /// Parses `url`. The password may also come from `EDGEBONE_MQTT_PASSWORD` (passed as
    /// `environmentPassword`) so that it stays out of `ps`; one in the URL wins.
    public init(url: String, environmentPassword: String? = nil) throws(MQTTConfigurationError) {
        let bad = { (why: String) in MQTTConfigurationError("--mqtt \(MQTTEndpoint.redacted(url)): \(why)") }
        let rest: Substring
        if url.hasPrefix("mqtt://") {
            tls = false; rest = url.dropFirst(7)
        } else if url.hasPrefix("mqtts://") {
            tls = true; rest = url.dropFirst(8)
        } else {
            throw bad("expected mqtt://[user[:password]@]host[:port]/PREFIX or mqtts://…")
        }
        let authority: Substring, path: Substring
        if let slash = rest.firstIndex(of: "/") {
            authority = rest[..<slash]; path = rest[rest.index(after: slash)...]
        } else {
            authority = rest; path = ""
        }
        var hostPort = authority
        username = nil; password = nil
        if let at = authority.lastIndex(of: "@") {
            let userInfo = authority[..<at]
            hostPort = authority[authority.index(after: at)...]
            if let colon = userInfo.firstIndex(of: ":") {
                username = try MQTTEndpoint.percentDecoded(userInfo[..<colon], what: "user name", in: url)
                password = try MQTTEndpoint.percentDecoded(userInfo[userInfo.index(after: colon)...], what: "password", in: url)
            } else {
                username = try MQTTEndpoint.percentDecoded(userInfo, what: "user name", in: url)
            }
            if username?.isEmpty == true { throw bad("empty user name before '@'") }
        }
        if password == nil, username != nil, let env = environmentPassword { password = env }
        // Host: a name, an IPv4 address or a bracketed IPv6 address; then an optional port.
        var portText: Substring?
        if hostPort.hasPrefix("[") {
            guard let close = hostPort.firstIndex(of: "]") else { throw bad("unclosed '[' in the host") }
            host = String(hostPort[hostPort.index(after: hostPort.startIndex)..<close])
            let after = hostPort[hostPort.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw bad("unexpected text after the IPv6 address") }
                portText = after.dropFirst()
            }
        } else if let colon = hostPort.lastIndex(of: ":") {
            host = String(hostPort[..<colon]); portText = hostPort[hostPort.index(after: colon)...]
        } else {
            host = String(hostPort)
        }
        if host.isEmpty { throw bad("no host") }
        if host.contains(where: { $0 == " " || $0 == "/" || $0 == "?" || $0 == "#" }) { throw bad("invalid host '\(host)'") }
        if let p = portText {
            guard let v = Int(p), (1...65535).contains(v) else { throw bad("port '\(p)' is not a number from 1 to 65535") }
            port = v
        } else {
            port = tls ? 8883 : 1883
        }
        var prefix = String(path)
        while prefix.hasSuffix("/") { prefix.removeLast() }
        if prefix.isEmpty { prefix = MQTTEndpoint.defaultPrefix }
        if let why = MQTTEndpoint.topicProblem(prefix) { throw bad("topic prefix '\(prefix)' \(why)") }
        self.prefix = prefix
    }

    /// Why `topic` cannot be published to, or nil: MQTT forbids the wildcards and NUL in a topic
    /// name, and a leading '$' is reserved for the broker.
    public static func topicProblem(_ topic: String) -> String? {
        if topic.contains("+") || topic.contains("#") { return "contains a wildcard ('+' or '#')" }
        if topic.utf8.contains(0) { return "contains a NUL character" }
        if topic.hasPrefix("$") { return "starts with '$' (reserved for the broker)" }
        if topic.utf8.count > 60_000 { return "is too long" }
        return nil
    }

    /// `url` with any password replaced by `***`, for messages.
    public static func redacted(_ url: String) -> String {
        let chars = Array(url)
        guard let schemeEnd = (0..<max(0, chars.count - 2)).first(where: { chars[$0] == ":" && chars[$0 + 1] == "/" && chars[$0 + 2] == "/" })
        else { return url }
        let start = schemeEnd + 3
        let authorityEnd = chars[start...].firstIndex(of: "/") ?? chars.count
        guard let at = chars[start..<authorityEnd].lastIndex(of: "@"),
              let colon = chars[start..<at].firstIndex(of: ":") else { return url }
        return String(chars[..<(colon + 1)]) + "***" + String(chars[at...])
    }

    private static func percentDecoded(_ s: Substring, what: String, in url: String) throws(MQTTConfigurationError) -> String {
        var out: [UInt8] = []
        var bytes = s.utf8.makeIterator()
        while let b = bytes.next() {
            guard b == UInt8(ascii: "%") else { out.append(b); continue }
            guard let h = bytes.next(), let l = bytes.next(), let hi = hexValue(h), let lo = hexValue(l) else {
                throw MQTTConfigurationError("--mqtt \(redacted(url)): bad percent-escape in the \(what)")
            }
            out.append(hi << 4 | lo)
        }
        guard let text = String(validating: out, as: UTF8.self) else {
            throw MQTTConfigurationError("--mqtt \(redacted(url)): the \(what) is not UTF-8")
        }
        return text
    }

    private static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    /// host:port as a person would write it.
    public var address: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
