// Typed errors for reading model and checkpoint files. Each names the file and, where there is one,
// the tensor, and says what was expected against what was found.

/// What is wrong with a safetensors file, checkpoint or model file.
public enum ModelFileError: Error, Equatable, CustomStringConvertible {
    case unreadable(path: String, reason: String)
    case truncated(path: String, fileSize: Int)
    case headerLengthOutOfRange(path: String, headerLength: UInt64, fileSize: Int)
    case headerNotJSON(path: String, detail: String)
    case malformedEntry(path: String, tensor: String, detail: String)
    case unsupportedDType(path: String, tensor: String, dtype: String)
    case offsetsOutOfRange(path: String, tensor: String, begin: Int, end: Int, dataBytes: Int)
    case byteCountMismatch(path: String, tensor: String, expected: Int, found: Int)
    case overlappingTensors(path: String, first: String, second: String)
    case missingTensor(path: String, tensor: String)
    case unexpectedTensors(path: String, tensors: [String])
    case shapeMismatch(path: String, tensor: String, expected: [Int], found: [Int])
    case dtypeMismatch(path: String, tensor: String, expected: DType, found: DType)
    case invalidMetadata(path: String, key: String, detail: String)
    case writeFailed(path: String, reason: String)
    case unsupportedFormat(path: String, found: String)
    case invalidGraph(path: String, node: String, detail: String)

    public var description: String {
        switch self {
        case let .unreadable(path, reason):
            return "\(path): cannot read the file: \(reason)"
        case let .truncated(path, size):
            return "\(path): truncated: \(size) bytes, too short for a safetensors header (8-byte length + JSON)"
        case let .headerLengthOutOfRange(path, length, size):
            return "\(path): header length \(length) runs past the end of the file (\(size) bytes)"
        case let .headerNotJSON(path, detail):
            return "\(path): header is not a JSON object of tensors: \(detail)"
        case let .malformedEntry(path, tensor, detail):
            return "\(path): tensor '\(tensor)': \(detail)"
        case let .unsupportedDType(path, tensor, dtype):
            return "\(path): tensor '\(tensor)': unsupported dtype '\(dtype)'"
        case let .offsetsOutOfRange(path, tensor, begin, end, dataBytes):
            return "\(path): tensor '\(tensor)': byte range [\(begin), \(end)) lies outside the data section (\(dataBytes) bytes)"
        case let .byteCountMismatch(path, tensor, expected, found):
            return "\(path): tensor '\(tensor)': shape × dtype needs \(expected) bytes, the offsets give \(found)"
        case let .overlappingTensors(path, first, second):
            return "\(path): tensors '\(first)' and '\(second)' overlap"
        case let .missingTensor(path, tensor):
            return "\(path): missing tensor '\(tensor)'"
        case let .unexpectedTensors(path, tensors):
            let shown = tensors.prefix(5).joined(separator: "', '")
            let more = tensors.count > 5 ? " and \(tensors.count - 5) more" : ""
            return "\(path): unexpected tensors '\(shown)'\(more) (is this checkpoint of another architecture?)"
        case let .shapeMismatch(path, tensor, expected, found):
            return "\(path): tensor '\(tensor)': expected shape \(expected), found \(found)"
        case let .dtypeMismatch(path, tensor, expected, found):
            return "\(path): tensor '\(tensor)': expected dtype \(expected.rawValue), found \(found.rawValue)"
        case let .invalidMetadata(path, key, detail):
            return "\(path): metadata '\(key)': \(detail)"
        case let .writeFailed(path, reason):
            return "\(path): cannot write: \(reason)"
        case let .unsupportedFormat(path, found):
            return "\(path): not an Edgebone model of a version this build reads (found \(found); this build reads \(Graph.formatName) version \(Graph.formatVersion))"
        case let .invalidGraph(path, node, detail):
            return "\(path): '\(node)': \(detail)"
        }
    }
}
