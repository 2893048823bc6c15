// Preprocessing presets as the JSON that model and checkpoint files carry in their metadata.

extension Preprocessing {
    /// Parses the `preprocessing` metadata of a model or checkpoint file.
    public init(json text: String, path: String) throws {
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
        // Bounded below so that the resize before the crop stays a few times the input at most (1e-300
        // trapped converting to Int, 1e-12 asked for petabytes).
        guard let crop = num(o["crop_fraction"]), crop >= 0.25, crop <= 1 else { throw bad("'crop_fraction' must be in [0.25, 1]") }
        guard case let .string(interp)? = o["interpolation"], let interpolation = Interpolation(rawValue: interp) else {
            throw bad("'interpolation' must be bilinear or bicubic")
        }
        let std = try triple("std")
        guard std.allSatisfy({ $0 > 0 }) else { throw bad("'std' must be positive") }
        self.init(inputSize: Int(size), cropFraction: crop, interpolation: interpolation, mean: try triple("mean"), std: std)
    }

    /// The metadata JSON for this preset.
    public var json: String {
        JSONValue.object([
            "input_size": .int(inputSize), "crop_fraction": .double(cropFraction), "interpolation": .string(interpolation.rawValue),
            "mean": .array(mean.map { .double(Double($0)) }), "std": .array(std.map { .double(Double($0)) }),
        ]).serialized
    }
}
