// A byte buffer for one output line that is reused from line to line: integers and fixed-point
// decimals are formatted in place, so writing a result line per frame allocates nothing once the
// buffer has grown to its working size.
#if canImport(Glibc)
import Glibc
#endif

public final class LineWriter {
    private var storage: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    public private(set) var count = 0

    public init(capacity: Int = 4096) {
        self.capacity = max(capacity, 64)
        storage = .allocate(capacity: self.capacity)
    }

    deinit { storage.deallocate() }

    /// The line so far.
    public var bytes: UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(start: storage, count: count) }

    public func reset() { count = 0 }

    private func reserve(_ extra: Int) {
        guard count + extra > capacity else { return }
        let grown = UnsafeMutablePointer<UInt8>.allocate(capacity: max(2 * capacity, count + extra))
        grown.update(from: storage, count: count)
        storage.deallocate()
        storage = grown
        capacity = max(2 * capacity, count + extra)
    }

    public func append(byte: UInt8) {
        reserve(1)
        storage[count] = byte
        count += 1
    }

    public func append(_ raw: UnsafeBufferPointer<UInt8>) {
        reserve(raw.count)
        if let base = raw.baseAddress { (storage + count).update(from: base, count: raw.count) }
        count += raw.count
    }

    public func append(_ s: StaticString) { s.withUTF8Buffer { append($0) } }
    public func append(_ raw: [UInt8]) { raw.withUnsafeBufferPointer { append($0) } }

    public func append(_ v: Int) {
        if v < 0 { append(byte: UInt8(ascii: "-")) }
        var m = v.magnitude
        var digits = 0
        var probe = m
        repeat { digits += 1; probe /= 10 } while probe > 0
        reserve(digits)
        for i in stride(from: digits - 1, through: 0, by: -1) {
            storage[count + i] = UInt8(ascii: "0") + UInt8(m % 10)
            m /= 10
        }
        count += digits
    }

    /// `v` with exactly `decimals` (0…9) digits after the point, rounded half away from zero;
    /// non-finite or huge values become null (JSON has no NaN).
    public func append(_ v: Double, decimals: Int) {
        precondition((0...9).contains(decimals))
        var scale = 1
        for _ in 0..<decimals { scale *= 10 }
        guard v.isFinite, abs(v) < 9e15 / Double(scale) else { append("null"); return }
        let scaled = Int((abs(v) * Double(scale)).rounded())
        if v < 0 && scaled > 0 { append(byte: UInt8(ascii: "-")) }
        append(scaled / scale)
        guard decimals > 0 else { return }
        append(byte: UInt8(ascii: "."))
        var frac = scaled % scale, div = scale / 10
        for _ in 0..<decimals {
            append(byte: UInt8(ascii: "0") + UInt8(frac / div))
            frac %= div
            div = max(div / 10, 1)
        }
    }

    /// Writes the line and a newline to `stream` and flushes it; false (errno set) when the stream
    /// did not take it all — a closed pipe, a full disk.
    @discardableResult
    public func writeLine(to stream: UnsafeMutablePointer<FILE>) -> Bool {
        append(byte: UInt8(ascii: "\n"))
        let written = fwrite(storage, 1, count, stream)
        let flushed = fflush(stream) == 0
        count -= 1
        return written == count + 1 && flushed
    }
}

/// A JSON string literal (quotes and escapes) for `s`, as UTF-8 bytes: JSONValue's escaping, made
/// once per label at start-up so result lines copy bytes.
public func jsonStringBytes(_ s: String) -> [UInt8] { Array(JSONValue.string(s).serialized.utf8) }
