// The architecture registry: every family Edgebone builds, found by its --arch names. Commands ask
// the registry; adding an architecture is one file here plus a line in `Architectures.all`.
import Edgebone

/// One model family: its configuration (from a checkpoint's metadata and options), the plain float32
/// graph it builds from a timm-named checkpoint, its preprocessing and labels.
public protocol Architecture: Sendable {
    /// The `--arch` values (timm model names) this family accepts.
    static var archNames: [String] { get }
    /// The configuration for `arch`. `options` (from the file's `__metadata__`, overridden by
    /// `--arch-option KEY=VALUE`) set family parameters such as `channel_multiplier` or `num_classes`;
    /// an option the family does not know is an error that lists the ones it does.
    init(arch: String, options: [String: String]) throws
    /// Option keys this family reads.
    static var optionKeys: [String] { get }
    var arch: String { get }
    var numClasses: Int { get }
    var preprocessing: Preprocessing { get set }
    /// One line for `inspect`: what this configuration is.
    var summary: String { get }
    /// The plain float32 graph (one node per step of the model, activations and squeeze-and-excite
    /// apart, input normalization in `normalization`). Missing, extra or mis-shaped tensors are
    /// `ModelFileError`s naming the tensor.
    func graph(checkpoint: SafeTensorsFile) throws -> Graph
}

extension Architecture {
    /// ImageNet's labels for 1000 classes, "class N" otherwise.
    public var labels: [String] { numClasses == imageNetLabels.count ? imageNetLabels : (0..<numClasses).map { "class \($0)" } }
}

public enum Architectures {
    /// Every family this build knows.
    public static let all: [any Architecture.Type] = [EfficientNetConfig.self, SwinV2Config.self]

    public static var archNames: [String] { all.flatMap { $0.archNames } }

    /// The configuration for a checkpoint: `arch` or the file's `arch` metadata picks the family;
    /// the file's metadata, then `options`, set its parameters; the file's `preprocessing` (JSON)
    /// replaces the family's default when present.
    public static func configuration(checkpoint file: SafeTensorsFile, arch: String? = nil, options: [String: String] = [:]) throws -> any Architecture {
        let m = file.metadata
        guard let name = arch ?? m["arch"] else {
            throw ArchitectureError.badParameter("\(file.path) does not name its architecture; pass --arch (one of \(archNames.joined(separator: ", ")))")
        }
        guard let family = all.first(where: { $0.archNames.contains(name) }) else { throw ArchitectureError.unknown(name, known: archNames) }
        var merged: [String: String] = [:]
        for key in family.optionKeys { if let v = m[key] { merged[key] = v } }
        merged.merge(options) { _, new in new }
        var config = try family.init(arch: name, options: merged)
        if let text = m["preprocessing"] { config.preprocessing = try Preprocessing(json: text, path: file.path) }
        return config
    }
}

/// Unknown architectures and bad configuration values.
public enum ArchitectureError: Error, CustomStringConvertible, Equatable {
    case unknown(String, known: [String])
    case badParameter(String)

    public var description: String {
        switch self {
        case let .unknown(name, known): return "unknown architecture '\(name)' (known: \(known.joined(separator: ", ")))"
        case let .badParameter(s): return "bad architecture parameter: \(s)"
        }
    }
}

/// Reads a positive number option (e.g. a width multiplier) within `range`.
func numberOption(_ options: [String: String], _ key: String, default value: Double, range: ClosedRange<Double>) throws -> Double {
    guard let s = options[key] else { return value }
    guard let v = Double(s), v.isFinite, range.contains(v) else {
        throw ArchitectureError.badParameter("\(key) '\(s)' must be a number in \(range.lowerBound)…\(range.upperBound)")
    }
    return v
}
