// Configuration from a checkpoint's own metadata (arch, multipliers, classes, preprocessing), with
// command-line values taking precedence.
import Edgebone

extension EfficientNetConfig {
    /// The configuration for `file`: explicit arguments first, then the file's `__metadata__`
    /// (`arch`, `channel_multiplier`, `depth_multiplier`, `num_classes`, `preprocessing` as JSON),
    /// then the architecture's defaults.
    public init(checkpoint file: SafeTensorsFile, arch: String? = nil, channelMultiplier: Double? = nil,
                depthMultiplier: Double? = nil, numClasses: Int? = nil) throws {
        let m = file.metadata
        guard let name = arch ?? m["arch"] else {
            throw ArchitectureError.badParameter("\(file.path) does not name its architecture; pass --arch (one of \(Self.archNames.joined(separator: ", ")))")
        }
        func number(_ key: String) throws -> Double? {
            guard let s = m[key] else { return nil }
            guard let v = Double(s), v.isFinite, v > 0 else {
                throw ModelFileError.invalidMetadata(path: file.path, key: key, detail: "'\(s)' is not a positive number")
            }
            return v
        }
        try self.init(arch: name, channelMultiplier: try channelMultiplier ?? number("channel_multiplier") ?? 1,
                      depthMultiplier: try depthMultiplier ?? number("depth_multiplier") ?? 1,
                      numClasses: try numClasses ?? number("num_classes").map { Int($0) } ?? 1000)
        if let text = m["preprocessing"] {
            preprocessing = try Preprocessing(json: text, path: file.path)
        }
    }
}
