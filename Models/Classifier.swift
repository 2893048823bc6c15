// What the command line and apps use to classify frames, whatever the precision: the float32
// network from a checkpoint, or an int8 model file.
import Edgebone
#if canImport(Glibc)
import Glibc
#endif

/// A loaded image classifier: preprocessing, network, labels.
public protocol ImageClassifier: AnyObject {
    var labels: [String] { get }
    var preprocessor: Preprocessor { get }
    /// "fp32" or "int8".
    var precision: String { get }
    var arch: String { get }
    var isa: ISA { get }
    var arenaBytes: Int { get }
    var weightsBytes: Int { get }
    /// Runs the network on `preprocessor.cropped` (call `preprocessor.crop` first); returns the logits,
    /// valid until the next run.
    func runCropped() -> UnsafeBufferPointer<Float>
    /// Per-op names, kinds and multiply-accumulates, for profiles.
    var opNames: [String] { get }
    var opKinds: [String] { get }
    func opMACs(_ i: Int) -> Int
    /// Runs once, adding each op's nanoseconds to `nanos`.
    func profileCropped(_ nanos: UnsafeMutableBufferPointer<UInt64>)
    /// How the split steps ran so far (nil with one thread).
    var threadStats: ThreadPool.Stats? { get }
}

extension ImageClassifier {
    /// Logits for one image (resized and cropped per the preset unless already at input size).
    public func logits(_ image: RGBImage) -> [Float] {
        preprocessor.crop(image)
        return Array(runCropped())
    }

    /// Short label: the first WordNet lemma ("tabby, tabby cat" → "tabby").
    public func shortLabel(_ index: Int) -> String { String(labels[index].split(separator: ",").first ?? "") }
}

/// A network ready to classify frames: a model file (int8, float or mixed) or a float checkpoint.
public final class Classifier: ImageClassifier {
    public let network: Network
    public let preprocessor: Preprocessor
    public let labels: [String]
    public let arch: String
    /// The file's `__metadata__` (empty for a checkpoint built in memory).
    public let metadata: [String: String]

    /// `path` names the file in errors.
    public init(network: Network, preprocessing: Preprocessing, labels: [String], arch: String, metadata: [String: String] = [:],
                path: String) throws {
        guard preprocessing.inputSize == network.inputSize else {
            throw ModelFileError.invalidMetadata(path: path, key: "preprocessing", detail: "input size \(preprocessing.inputSize) ≠ the graph's \(network.inputSize)")
        }
        self.network = network
        preprocessor = Preprocessor(preset: preprocessing, isa: network.isa)
        self.labels = labels
        self.arch = arch
        self.metadata = metadata
    }

    /// Loads an Edgebone model file. Every header field, tensor and node is checked before use.
    public convenience init(modelFile path: String, isa: ISA = .best, threads: Int = 1, splitEveryStep: Bool = false) throws {
        let file = try SafeTensorsFile(path: path)
        let graph = try Graph(file: file)
        let network = try makeNetwork(graph, path: path, isa: isa, threads: threads, splitEveryStep: splitEveryStep)
        guard let pre = file.metadata["preprocessing"] else {
            throw ModelFileError.invalidMetadata(path: path, key: "preprocessing", detail: "missing")
        }
        let preset = try Preprocessing(json: pre, path: path)
        let n = graph.tensors[graph.output].elementCount
        let labels: [String]
        if let text = file.metadata["labels"], let parsed = try? Array(text.utf8).withUnsafeBytes({ try JSONValue.parse($0) }),
           case let .array(items) = parsed, items.count == n {
            labels = items.map { if case let .string(s) = $0 { return s } else { return "?" } }
        } else {
            labels = n == imageNetLabels.count ? imageNetLabels : (0..<n).map { "class \($0)" }
        }
        try self.init(network: network, preprocessing: preset, labels: labels, arch: file.metadata["arch"] ?? "unknown", metadata: file.metadata,
                      path: path)
    }

    /// The float32 network of a timm-named checkpoint, fused for speed.
    public convenience init(checkpoint file: SafeTensorsFile, config: any Architecture, isa: ISA = .best, threads: Int = 1) throws {
        let graph = try config.graph(checkpoint: file).fusedForFloat()
        let network = try makeNetwork(graph, path: file.path, isa: isa, threads: threads)
        try self.init(network: network, preprocessing: config.preprocessing, labels: config.labels, arch: config.arch, path: file.path)
    }

    /// "fp32", "int8", or "int8+fp32" for a mixed graph.
    public var precision: String {
        let g = network.graph
        let compute = g.nodes.indices.filter { g.nodes[$0].op != .quantize && g.nodes[$0].op != .dequantize }
        let float = compute.filter { g.computesInFloat($0) }.count
        return float == compute.count ? "fp32" : float == 0 ? "int8" : "int8+fp32"
    }
    public var isa: ISA { network.isa }
    public var arenaBytes: Int { network.plan.arenaBytes }
    public var weightsBytes: Int { network.weightsBytes }
    public var threadStats: ThreadPool.Stats? { network.threadStats }
    public func runCropped() -> UnsafeBufferPointer<Float> {
        network.setInput(rgb: preprocessor.cropped.pixels)
        network.run()
        return network.output
    }
    public var opNames: [String] { network.graph.nodes.map(\.name) }
    /// Each op's kind label; an op whose work runs inside the previous op's parts (`Network.riders`)
    /// says so, its time counted there.
    public var opKinds: [String] {
        let riders = Set(network.riders)
        return network.graph.nodes.indices.map { network.graph.kindLabel($0) + (riders.contains($0) ? " (in prev. op)" : "") }
    }
    public func opMACs(_ i: Int) -> Int { network.graph.macs(i) }
    public func profileCropped(_ nanos: UnsafeMutableBufferPointer<UInt64>) {
        network.setInput(rgb: preprocessor.cropped.pixels)
        network.run(profile: nanos)
    }
}

/// A network for `graph`, its graph errors as model-file errors naming `path`. (Through Result: Swift 6.0
/// types a do/catch error as `any Error` even for typed throws.)
func makeNetwork(_ graph: Graph, path: String, isa: ISA, threads: Int, splitEveryStep: Bool = false) throws -> Network {
    switch Result(catching: { () throws(GraphError) in
        try Network(graph: graph, isa: isa, threads: threads, splitEveryStep: splitEveryStep, foldingBoundaries: true)
    }) {
    case let .success(network): return network
    case let .failure(error):
        if let tensor = error.missingConstant { throw ModelFileError.missingTensor(path: path, tensor: tensor) }
        throw ModelFileError.invalidGraph(path: path, node: error.node, detail: error.detail)
    }
}

/// The int8 EfficientNet-Lite0 that ships with Edgebone (real ImageNet weights, Apache-2.0).
public enum BundledModel {
    public static let fileName = "efficientnet_lite0.int8.safetensors"

    /// Where to find it: $EDGEBONE_MODEL, beside the executable, or in the source tree's Models/.
    public static var path: String? {
        var candidates: [String] = []
        if let env = getenv("EDGEBONE_MODEL") { candidates.append(String(cString: env)) }
        var buf = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buf, buf.count - 1)
        if n > 0 {
            let exe = String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            candidates.append(exe.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/") + "/" + fileName)
        }
        var source = #filePath.split(separator: "/", omittingEmptySubsequences: false)
        source.removeLast()
        candidates.append(source.joined(separator: "/") + "/" + fileName)
        return candidates.first { access($0, R_OK) == 0 }
    }
}

/// Opens a model file (an Edgebone model) or a float checkpoint (which needs an architecture from its
/// metadata or `arch`; `options` override its metadata's family parameters, e.g. `channel_multiplier`).
public func loadClassifier(path: String, arch: String? = nil, options: [String: String] = [:], isa: ISA = .best,
                           threads: Int = 1) throws -> ImageClassifier {
    let file = try SafeTensorsFile(path: path)
    if Graph.isModelFile(file) {
        return try Classifier(modelFile: path, isa: isa, threads: threads)
    }
    return try Classifier(checkpoint: file, config: try Architectures.configuration(checkpoint: file, arch: arch, options: options),
                          isa: isa, threads: threads)
}
