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
            preprocessing = try Self.parsePreprocessing(text, path: file.path)
        }
    }

    static func parsePreprocessing(_ text: String, path: String) throws -> Preprocessing {
        let bad = { (detail: String) in ModelFileError.invalidMetadata(path: path, key: "preprocessing", detail: detail) }
        let json: JSONValue
        do { json = try Array(text.utf8).withUnsafeBytes { try JSONValue.parse($0) } } catch { throw bad("not JSON") }
        guard case let .object(o) = json else { throw bad("not a JSON object") }
        func num(_ v: JSONValue?) -> Double? {
            switch v { case let .int(i)?: return Double(i); case let .double(d)?: return d; default: return nil }
        }
        func triple(_ key: String) throws -> [Float] {
            guard case let .array(a)? = o[key], a.count == 3 else { throw bad("'\(key)' must be 3 numbers") }
            let v = a.compactMap(num).map { Float($0) }
            guard v.count == 3, v.allSatisfy({ $0.isFinite }) else { throw bad("'\(key)' must be 3 numbers") }
            return v
        }
        guard let size = num(o["input_size"]), size >= 8, size <= 4096, size == size.rounded() else { throw bad("'input_size' must be an integer in 8…4096") }
        guard let crop = num(o["crop_fraction"]), crop > 0, crop <= 1 else { throw bad("'crop_fraction' must be in (0, 1]") }
        guard case let .string(interp)? = o["interpolation"], let interpolation = Interpolation(rawValue: interp) else {
            throw bad("'interpolation' must be bilinear or bicubic")
        }
        let std = try triple("std")
        guard std.allSatisfy({ $0 > 0 }) else { throw bad("'std' must be positive") }
        return Preprocessing(inputSize: Int(size), cropFraction: crop, interpolation: interpolation, mean: try triple("mean"), std: std)
    }
}
