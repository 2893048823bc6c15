// Memory-mapped safetensors reader. Everything in the header is validated before any tensor is
// used: header bounds, JSON shape, dtypes, shapes, and that each byte range lies inside the data
// section and matches shape × dtype. A corrupt file gives a ModelFileError, never a crash.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One tensor's header entry.
public struct TensorInfo: Sendable, Equatable {
    public let name: String
    public let dtype: DType
    /// Row-major shape (safetensors order: for a PyTorch conv weight, [out, in, kh, kw]).
    public let shape: [Int]
    /// Byte range inside the data section.
    public let begin: Int
    public let end: Int

    public var elementCount: Int { shape.reduce(1, *) }
}

/// A safetensors file mapped read-only. Tensor pointers stay valid while this object lives.
public final class SafeTensorsFile: @unchecked Sendable {
    public let path: String
    /// Tensors by name.
    public let tensors: [String: TensorInfo]
    /// The `__metadata__` map (string values), empty if absent.
    public let metadata: [String: String]
    /// Start of the data section within the mapping.
    public let dataStart: UnsafeRawPointer
    public let dataBytes: Int

    private let mapping: UnsafeMutableRawPointer?
    private let mappingSize: Int

    /// Maps and validates `path`.
    public init(path: String) throws {
        self.path = path
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw ModelFileError.unreadable(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw ModelFileError.unreadable(path: path, reason: String(cString: strerror(errno))) }
        if (st.st_mode & S_IFMT) == S_IFDIR { throw ModelFileError.unreadable(path: path, reason: "is a directory") }
        let size = Int(st.st_size)
        guard size >= 10 else { throw ModelFileError.truncated(path: path, fileSize: size) }
        guard let base = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), base != MAP_FAILED else {
            throw ModelFileError.unreadable(path: path, reason: "mmap: " + String(cString: strerror(errno)))
        }
        do {
            let parsed = try SafeTensorsFile.parseHeader(path: path, base: UnsafeRawPointer(base), size: size)
            tensors = parsed.tensors
            metadata = parsed.metadata
            dataStart = UnsafeRawPointer(base) + parsed.dataOffset
            dataBytes = size - parsed.dataOffset
        } catch {
            munmap(base, size)
            throw error
        }
        mapping = base
        mappingSize = size
    }

    deinit {
        if let mapping { munmap(mapping, mappingSize) }
    }

    /// Tensor names, sorted.
    public var names: [String] { tensors.keys.sorted() }

    /// The entry for `name`, or `missingTensor`.
    public func info(_ name: String) throws -> TensorInfo {
        guard let t = tensors[name] else { throw ModelFileError.missingTensor(path: path, tensor: name) }
        return t
    }

    /// The entry for `name`, checked against an expected dtype and shape.
    @discardableResult
    public func expect(_ name: String, dtype: DType, shape: [Int]) throws -> TensorInfo {
        let t = try info(name)
        guard t.dtype == dtype else { throw ModelFileError.dtypeMismatch(path: path, tensor: name, expected: dtype, found: t.dtype) }
        guard t.shape == shape else { throw ModelFileError.shapeMismatch(path: path, tensor: name, expected: shape, found: t.shape) }
        return t
    }

    /// Raw bytes of a tensor; valid while this file lives.
    public func bytes(_ t: TensorInfo) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: dataStart + t.begin, count: t.end - t.begin)
    }

    /// A copy of a float32 tensor's elements (load time only), checked against `shape`.
    public func floats(_ name: String, shape: [Int]) throws -> [Float] {
        let t = try expect(name, dtype: .f32, shape: shape)
        return try finite(copyElements(t, as: Float.self), name)
    }

    /// A copy of any F32 tensor's elements, whatever its shape.
    public func floats(_ name: String) throws -> [Float] {
        let t = try info(name)
        guard t.dtype == .f32 else { throw ModelFileError.dtypeMismatch(path: path, tensor: name, expected: .f32, found: t.dtype) }
        return try finite(copyElements(t, as: Float.self), name)
    }

    /// `values` when every one is finite: one NaN or infinity in a weight poisons every output (and
    /// used to trap the quantizer's calibration histogram).
    private func finite(_ values: [Float], _ name: String) throws -> [Float] {
        if let i = values.firstIndex(where: { !$0.isFinite }) {
            throw ModelFileError.malformedEntry(path: path, tensor: name, detail: "element \(i) is \(values[i]) (weights must be finite)")
        }
        return values
    }

    /// Copies elements out, tolerating unaligned offsets.
    public func copyElements<T>(_ t: TensorInfo, as type: T.Type) -> [T] {
        precondition(MemoryLayout<T>.size == t.dtype.size, "element size mismatch for \(t.name)")
        let raw = bytes(t)
        return [T](unsafeUninitializedCapacity: t.elementCount) { buf, count in
            UnsafeMutableRawBufferPointer(buf).copyMemory(from: raw)
            count = t.elementCount
        }
    }

    // MARK: - Header

    struct ParsedHeader {
        var tensors: [String: TensorInfo]
        var metadata: [String: String]
        var dataOffset: Int
    }

    static func parseHeader(path: String, base: UnsafeRawPointer, size: Int) throws -> ParsedHeader {
        let headerLength = base.loadUnaligned(as: UInt64.self).littleEndian
        guard headerLength >= 2, headerLength <= UInt64(size - 8) else {
            throw ModelFileError.headerLengthOutOfRange(path: path, headerLength: headerLength, fileSize: size)
        }
        let n = Int(headerLength)
        let headerBytes = UnsafeRawBufferPointer(start: base + 8, count: n)
        let json: JSONValue
        do {
            json = try JSONValue.parse(headerBytes)
        } catch {
            throw ModelFileError.headerNotJSON(path: path, detail: "invalid JSON (\(n) header bytes)")
        }
        guard case let .object(entries) = json else {
            throw ModelFileError.headerNotJSON(path: path, detail: "top level is not an object")
        }
        let dataBytes = size - 8 - n
        var tensors: [String: TensorInfo] = [:]
        var metadata: [String: String] = [:]
        for (name, value) in entries {
            if name == "__metadata__" {
                guard case let .object(m) = value else {
                    throw ModelFileError.invalidMetadata(path: path, key: "__metadata__", detail: "not an object")
                }
                for (k, v) in m {
                    guard case let .string(s) = v else {
                        throw ModelFileError.invalidMetadata(path: path, key: k, detail: "value is not a string")
                    }
                    metadata[k] = s
                }
                continue
            }
            tensors[name] = try parseEntry(path: path, name: name, value: value, dataBytes: dataBytes)
        }
        // Byte ranges must not overlap (holes are tolerated on read; the writer never makes them).
        let sorted = tensors.values.filter { $0.end > $0.begin }.sorted { ($0.begin, $0.name) < ($1.begin, $1.name) }
        for (a, b) in zip(sorted, sorted.dropFirst()) where b.begin < a.end {
            throw ModelFileError.overlappingTensors(path: path, first: a.name, second: b.name)
        }
        return ParsedHeader(tensors: tensors, metadata: metadata, dataOffset: 8 + n)
    }

    static func parseEntry(path: String, name: String, value: JSONValue, dataBytes: Int) throws -> TensorInfo {
        guard case let .object(fields) = value else {
            throw ModelFileError.malformedEntry(path: path, tensor: name, detail: "entry is not an object")
        }
        guard case let .string(dtypeName)? = fields["dtype"] else {
            throw ModelFileError.malformedEntry(path: path, tensor: name, detail: "missing or non-string 'dtype'")
        }
        guard let dtype = DType(rawValue: dtypeName) else {
            throw ModelFileError.unsupportedDType(path: path, tensor: name, dtype: dtypeName)
        }
        guard case let .array(shapeValues)? = fields["shape"] else {
            throw ModelFileError.malformedEntry(path: path, tensor: name, detail: "missing or non-array 'shape'")
        }
        var shape: [Int] = []
        var count = 1
        for v in shapeValues {
            guard case let .int(d) = v, d >= 0, d <= Int(Int32.max) else {
                throw ModelFileError.malformedEntry(path: path, tensor: name, detail: "shape \(shapeValues) has a non-integer or negative dimension")
            }
            shape.append(d)
            let (product, overflow) = count.multipliedReportingOverflow(by: d)
            guard !overflow, product <= Int(Int32.max) * 16 else {
                throw ModelFileError.malformedEntry(path: path, tensor: name, detail: "shape \(shape) is too large")
            }
            count = product
        }
        guard case let .array(offsets)? = fields["data_offsets"], offsets.count == 2,
              case let .int(begin) = offsets[0], case let .int(end) = offsets[1] else {
            throw ModelFileError.malformedEntry(path: path, tensor: name, detail: "'data_offsets' must be two integers")
        }
        guard begin >= 0, end >= begin, end <= dataBytes else {
            throw ModelFileError.offsetsOutOfRange(path: path, tensor: name, begin: begin, end: end, dataBytes: dataBytes)
        }
        let expected = count * dtype.size
        guard end - begin == expected else {
            throw ModelFileError.byteCountMismatch(path: path, tensor: name, expected: expected, found: end - begin)
        }
        return TensorInfo(name: name, dtype: dtype, shape: shape, begin: begin, end: end)
    }
}
