// A minimal JSON value for reading safetensors headers with FoundationEssentials' JSONDecoder and
// writing them back deterministically, without pulling all of Foundation onto the board.
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A parsed JSON value.
public enum JSONValue: Decodable, Equatable, Sendable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null; return }
        if let b = try? c.decode(Bool.self) { self = .bool(b); return }
        if let i = try? c.decode(Int.self) { self = .int(i); return }
        if let d = try? c.decode(Double.self) { self = .double(d); return }
        if let s = try? c.decode(String.self) { self = .string(s); return }
        if let a = try? c.decode([JSONValue].self) { self = .array(a); return }
        self = .object(try c.decode([String: JSONValue].self))
    }

    /// Parses `bytes` as one JSON document.
    public static func parse(_ bytes: UnsafeRawBufferPointer) throws -> JSONValue {
        try refuseUndecodableStrings(bytes)
        return try JSONDecoder().decode(JSONValue.self, from: Data(bytes))
    }

    /// Text whose strings JSON forbids: invalid UTF-8, a raw control character, a bad escape.
    public struct UndecodableString: Error, CustomStringConvertible {
        public let offset: Int
        public let reason: String
        public var description: String { "\(reason) at byte \(offset)" }
    }

    /// Refuses text with a string JSONDecoder cannot decode before it gets there: the decoder of Swift
    /// 6.0's Foundation (Debian's, on the board) traps on such a string instead of throwing.
    public static func refuseUndecodableStrings(_ text: some Collection<UInt8>) throws {
        var scalars = text.makeIterator(), parser = Unicode.UTF8.ForwardParser(), at = 0
        decoding: while true {
            switch parser.parseScalar(from: &scalars) {
            case let .valid(s): at += s.count
            case .emptyInput: break decoding
            case .error: throw UndecodableString(offset: at, reason: "invalid UTF-8")
            }
        }
        let b = Array(text)
        func hex4(_ i: Int) throws -> UInt32 {
            guard i + 4 <= b.count else { throw UndecodableString(offset: i, reason: "a cut \\u escape") }
            var v: UInt32 = 0
            for c in b[i..<(i + 4)] {
                switch c {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): v = v << 4 | UInt32(c - UInt8(ascii: "0"))
                case UInt8(ascii: "a")...UInt8(ascii: "f"): v = v << 4 | UInt32(c - UInt8(ascii: "a") + 10)
                case UInt8(ascii: "A")...UInt8(ascii: "F"): v = v << 4 | UInt32(c - UInt8(ascii: "A") + 10)
                default: throw UndecodableString(offset: i, reason: "a \\u escape without four hex digits")
                }
            }
            return v
        }
        var i = 0, inString = false
        while i < b.count {
            let c = b[i]
            if !inString {
                if c == UInt8(ascii: "\"") { inString = true }
                i += 1
                continue
            }
            switch c {
            case UInt8(ascii: "\""): inString = false; i += 1
            case 0..<0x20: throw UndecodableString(offset: i, reason: "control character \(c) unescaped in a string")
            case UInt8(ascii: "\\"):
                guard i + 1 < b.count else { throw UndecodableString(offset: i, reason: "a cut escape") }
                switch b[i + 1] {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                     UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                    i += 2
                case UInt8(ascii: "u"):
                    let v = try hex4(i + 2)
                    if (0xDC00...0xDFFF).contains(v) { throw UndecodableString(offset: i, reason: "a lone low surrogate") }
                    if (0xD800...0xDBFF).contains(v) {
                        guard i + 7 < b.count, b[i + 6] == UInt8(ascii: "\\"), b[i + 7] == UInt8(ascii: "u"),
                              (0xDC00...0xDFFF).contains(try hex4(i + 8)) else {
                            throw UndecodableString(offset: i, reason: "a high surrogate without its low surrogate")
                        }
                        i += 12
                    } else {
                        i += 6
                    }
                default: throw UndecodableString(offset: i, reason: "an unknown escape")
                }
            default: i += 1
            }
        }
    }

    /// Compact JSON text with object keys sorted, so written files are byte-for-byte reproducible.
    public var serialized: String {
        var out = ""
        write(to: &out)
        return out
    }

    private func write(to out: inout String) {
        switch self {
        case .null: out += "null"
        case let .bool(b): out += b ? "true" : "false"
        case let .int(i): out += String(i)
        case let .double(d): out += d.isFinite ? "\(d)" : "null"
        case let .string(s): JSONValue.writeString(s, to: &out)
        case let .array(a):
            out += "["
            for (i, v) in a.enumerated() {
                if i > 0 { out += "," }
                v.write(to: &out)
            }
            out += "]"
        case let .object(o):
            out += "{"
            for (i, key) in o.keys.sorted().enumerated() {
                if i > 0 { out += "," }
                JSONValue.writeString(key, to: &out)
                out += ":"
                o[key]!.write(to: &out)
            }
            out += "}"
        }
    }

    private static func writeString(_ s: String, to out: inout String) {
        out += "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
    }
}
