// The model file (format version 2): one safetensors file holding the graph's structure as JSON in
// `__metadata__["edgebone.graph"]` and every constant as a tensor named NODE.ROLE. Readable by the
// standard safetensors package; validated whole before anything runs.
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension Graph {
    public static let formatName = "edgebone"
    public static let formatVersion = 2

    /// What the JSON holds: everything but the constants.
    struct Description: Codable {
        var tensors: [GraphTensor]
        var nodes: [Node]
        var input: Int
        var output: Int
        var normalization: InputNormalization
    }

    /// The structure as JSON (sorted keys: the same graph always gives the same bytes).
    public var descriptionJSON: String {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        let d = Description(tensors: tensors, nodes: nodes, input: input, output: output, normalization: normalization)
        return String(decoding: try! enc.encode(d), as: UTF8.self)
    }

    /// Adds the graph (structure, format keys and constants) to a file being written.
    public func write(into w: inout SafeTensorsWriter) {
        w.metadata["edgebone.format"] = Self.formatName
        w.metadata["edgebone.format_version"] = String(Self.formatVersion)
        w.metadata["edgebone.graph"] = descriptionJSON
        for name in constants.keys.sorted() {
            let c = constants[name]!
            w.add(name, dtype: c.dtype, shape: c.shape, bytes: c.bytes)
        }
    }

    /// Whether `file` claims to be an Edgebone model (of any version).
    public static func isModelFile(_ file: SafeTensorsFile) -> Bool { file.metadata["edgebone.format"] != nil }

    /// Reads the graph of an Edgebone model file (every tensor owned by a node; `Network` validates the rest). A version-1 file (int8 program with an
    /// optional float prefix) is refused with the command that makes a current one.
    public init(file: SafeTensorsFile) throws {
        let m = file.metadata
        guard m["edgebone.format"] == Self.formatName, m["edgebone.format_version"] == String(Self.formatVersion) else {
            let found = "\(m["edgebone.format"] ?? "no format") version \(m["edgebone.format_version"] ?? "none")"
            if m["edgebone.format"] == "edgebone-int8" {
                throw ModelFileError.unsupportedFormat(path: file.path, found: found + ", the int8-program format before one graph; " +
                    "re-quantize the checkpoint: edgebone quantize --weights CHECKPOINT.safetensors --calibration IMAGES --out MODEL.safetensors")
            }
            throw ModelFileError.unsupportedFormat(path: file.path, found: found)
        }
        guard let text = m["edgebone.graph"] else { throw ModelFileError.invalidMetadata(path: file.path, key: "edgebone.graph", detail: "missing") }
        let d: Description
        do {
            try JSONValue.refuseUndecodableStrings(text.utf8)
            d = try JSONDecoder().decode(Description.self, from: Data(text.utf8))
        } catch {
            throw ModelFileError.invalidMetadata(path: file.path, key: "edgebone.graph", detail: "not a valid graph: \(error)")
        }
        self.init()
        tensors = d.tensors; nodes = d.nodes; input = d.input; output = d.output; normalization = d.normalization
        for name in file.names {
            let t = file.tensors[name]!
            guard [.f32, .i8, .i32].contains(t.dtype) else {
                throw ModelFileError.unsupportedDType(path: file.path, tensor: name, dtype: t.dtype.rawValue)
            }
            constants[name] = Constant(dtype: t.dtype, shape: t.shape, bytes: [UInt8](file.bytes(t)))
        }
        // The graph itself is validated by `Network` before anything is planned.
        let owners = Set(nodes.map(\.name))
        let unused = constants.keys.filter { !owners.contains(Graph.owner(ofConstant: $0)) }.sorted()
        guard unused.isEmpty else { throw ModelFileError.unexpectedTensors(path: file.path, tensors: unused) }
    }
}
