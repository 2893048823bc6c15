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

extension FloatClassifier: ImageClassifier {
    public var precision: String { "fp32" }
    public var arch: String { config.arch }
    public var isa: ISA { network.kernels.isa }
    public var arenaBytes: Int { network.plan.arenaBytes }
    public var weightsBytes: Int { network.graph.parameters.count * 4 }
    public func runCropped() -> UnsafeBufferPointer<Float> {
        preprocessor.normalize(into: network.input)
        network.run()
        return network.output
    }
    public var opNames: [String] { network.graph.opNames }
    public var opKinds: [String] { network.graph.ops.map(\.kind) }
    public func opMACs(_ i: Int) -> Int { network.graph.ops[i].macs(network.graph.tensors) }
    public func profileCropped(_ nanos: UnsafeMutableBufferPointer<UInt64>) {
        preprocessor.normalize(into: network.input)
        network.run(profile: nanos)
    }
}

/// An int8 model file ready to classify frames.
public final class Int8Classifier: ImageClassifier {
    public let network: Int8Network
    public let preprocessor: Preprocessor
    public let labels: [String]
    public let arch: String

    public init(path: String, isa: ISA = .best, threads: Int = 1, splitEveryStep: Bool = false) throws {
        let file = try SafeTensorsFile(path: path)
        network = try Int8Network(file: file, isa: isa, threads: threads, splitEveryStep: splitEveryStep)
        guard let pre = file.metadata["preprocessing"] else {
            throw ModelFileError.invalidMetadata(path: path, key: "preprocessing", detail: "missing")
        }
        let preset = try Preprocessing(json: pre, path: path)
        guard preset.inputSize == network.inputSize else {
            throw ModelFileError.invalidMetadata(path: path, key: "preprocessing", detail: "input size \(preset.inputSize) ≠ the program's \(network.inputSize)")
        }
        preprocessor = Preprocessor(preset: preset, isa: isa)
        arch = file.metadata["arch"] ?? "unknown"
        let n = network.program.outputCount
        if let text = file.metadata["labels"], let parsed = try? Array(text.utf8).withUnsafeBytes({ try JSONValue.parse($0) }),
           case let .array(items) = parsed, items.count == n {
            labels = items.map { if case let .string(s) = $0 { return s } else { return "?" } }
        } else {
            labels = n == imageNetLabels.count ? imageNetLabels : (0..<n).map { "class \($0)" }
        }
    }

    /// "int8", or "int8+fp32" when the quantizer kept leading ops in float32.
    public var precision: String { network.floatPrefix == nil ? "int8" : "int8+fp32" }
    public var isa: ISA { network.isa }
    /// Int8 arena plus, with a float prefix, its float arena.
    public var arenaBytes: Int { network.plan.arenaBytes + (network.floatPrefix?.plan.arenaBytes ?? 0) }
    public var weightsBytes: Int { network.weightsBytes + 4 * (network.floatPrefix?.graph.parameters.count ?? 0) }
    public func runCropped() -> UnsafeBufferPointer<Float> {
        network.setInput(rgb: preprocessor.cropped.pixels)
        network.run()
        return network.output
    }
    /// Float-prefix ops (kinds "f32 …") first, then the int8 ops, as `run(profile:)` times them.
    public var opNames: [String] { (network.floatPrefix?.graph.opNames ?? []) + network.program.ops.map(\.name) }
    public var opKinds: [String] {
        (network.floatPrefix?.graph.ops.map { "f32 " + $0.kind } ?? []) +
            network.program.ops.map { $0.kind.rawValue + ($0.activation.map { "+" + $0.rawValue } ?? "") }
    }
    public func opMACs(_ i: Int) -> Int {
        let p = network.floatPrefixOpCount
        if let f = network.floatPrefix, i < p { return f.graph.ops[i].macs(f.graph.tensors) }
        return network.macs(op: i - p)
    }
    public func profileCropped(_ nanos: UnsafeMutableBufferPointer<UInt64>) {
        network.setInput(rgb: preprocessor.cropped.pixels)
        network.run(profile: nanos)
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

/// Opens a model file of either kind: an Edgebone int8 model, or a float checkpoint (which needs an
/// architecture from its metadata or `arch`).
public func loadClassifier(path: String, arch: String? = nil, channelMultiplier: Double? = nil, depthMultiplier: Double? = nil,
                           numClasses: Int? = nil, isa: ISA = .best, threads: Int = 1) throws -> ImageClassifier {
    let file = try SafeTensorsFile(path: path)
    if file.metadata["edgebone.format"] != nil {
        return try Int8Classifier(path: path, isa: isa, threads: threads)
    }
    let config = try EfficientNetConfig(checkpoint: file, arch: arch, channelMultiplier: channelMultiplier,
                                        depthMultiplier: depthMultiplier, numClasses: numClasses)
    return try FloatClassifier(checkpoint: file, config: config, isa: isa, threads: threads)
}
