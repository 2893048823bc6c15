// Writes safetensors files: sorted keys, header padded so the data section starts 8-byte aligned,
// tensors contiguous with no holes (as the reference `safetensors` package requires). The file is
// written to a temporary name and renamed, so a failure never leaves a half-written file behind.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Collects tensors and metadata, then writes one safetensors file.
public struct SafeTensorsWriter {
    struct Pending {
        var name: String
        var dtype: DType
        var shape: [Int]
        var bytes: [UInt8]
    }

    private var pending: [Pending] = []
    public var metadata: [String: String] = [:]

    public init() {}

    /// Adds a tensor from its raw little-endian bytes.
    public mutating func add(_ name: String, dtype: DType, shape: [Int], bytes: [UInt8]) {
        precondition(shape.reduce(1, *) * dtype.size == bytes.count, "\(name): \(bytes.count) bytes for shape \(shape) \(dtype)")
        precondition(!pending.contains { $0.name == name }, "duplicate tensor \(name)")
        pending.append(Pending(name: name, dtype: dtype, shape: shape, bytes: bytes))
    }

    /// Adds a tensor from an array of plain elements (Float, Int32, Int8…).
    public mutating func add<T>(_ name: String, dtype: DType, shape: [Int], elements: [T]) {
        precondition(MemoryLayout<T>.stride == dtype.size)
        let bytes = elements.withUnsafeBytes { [UInt8]($0) }
        add(name, dtype: dtype, shape: shape, bytes: bytes)
    }

    /// The complete file image.
    public func serialized() -> [UInt8] {
        // Wider elements first so that, with an 8-aligned data start, they stay naturally aligned.
        let ordered = pending.sorted { ($1.dtype.size, $0.name) < ($0.dtype.size, $1.name) }
        var header: [String: JSONValue] = [:]
        var offset = 0
        for t in ordered {
            header[t.name] = .object([
                "dtype": .string(t.dtype.rawValue),
                "shape": .array(t.shape.map { .int($0) }),
                "data_offsets": .array([.int(offset), .int(offset + t.bytes.count)]),
            ])
            offset += t.bytes.count
        }
        if !metadata.isEmpty {
            header["__metadata__"] = .object(metadata.mapValues { .string($0) })
        }
        var json = Array(JSONValue.object(header).serialized.utf8)
        while (8 + json.count) % 8 != 0 { json.append(0x20) }
        var out: [UInt8] = []
        out.reserveCapacity(8 + json.count + offset)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(contentsOf: json)
        for t in ordered { out.append(contentsOf: t.bytes) }
        return out
    }

    /// Writes atomically: `path.tmp-PID`, fsync, rename.
    public func write(to path: String) throws {
        let image = serialized()
        let temp = path + ".tmp-\(getpid())"
        let fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw ModelFileError.writeFailed(path: path, reason: String(cString: strerror(errno))) }
        var written = 0
        let ok: Bool = image.withUnsafeBytes { buf in
            while written < buf.count {
                let n = Glibc.write(fd, buf.baseAddress! + written, buf.count - written)
                if n < 0 { if errno == EINTR { continue }; return false }
                written += n
            }
            return fsync(fd) == 0
        }
        let reason = ok ? "" : String(cString: strerror(errno))
        close(fd)
        guard ok, rename(temp, path) == 0 else {
            let why = ok ? String(cString: strerror(errno)) : reason
            unlink(temp)
            throw ModelFileError.writeFailed(path: path, reason: why)
        }
    }
}
