// How a frame becomes network input: resize the shorter side, center-crop, normalize. Mirrors
// timm's eval transform (Resize(floor(size / crop_pct)) → CenterCrop(size) → ToTensor → Normalize).

/// Resampling filter for the resize step.
public enum Interpolation: String, Sendable, Codable {
    case bilinear, bicubic
}

/// A model's preprocessing preset.
public struct Preprocessing: Sendable, Equatable, Codable {
    /// Square network input side, pixels.
    public var inputSize: Int
    /// Fraction of the resized image kept by the center crop (timm's crop_pct).
    public var cropFraction: Double
    public var interpolation: Interpolation
    /// Per-channel (R, G, B) mean and std on the [0, 1] scale: x' = (x / 255 − mean) / std.
    public var mean: [Float]
    public var std: [Float]

    public init(inputSize: Int, cropFraction: Double, interpolation: Interpolation, mean: [Float], std: [Float]) {
        precondition(mean.count == 3 && std.count == 3)
        self.inputSize = inputSize
        self.cropFraction = cropFraction
        self.interpolation = interpolation
        self.mean = mean
        self.std = std
    }

    /// The shorter side after resizing, before the crop: floor(inputSize / cropFraction).
    public var resizeShorterSide: Int { Int((Double(inputSize) / cropFraction).rounded(.down)) }

    /// Size of an image resized so its shorter side is `resizeShorterSide` (torchvision's rule:
    /// the longer side is truncated, int(short' * long / short)).
    public func resizedSize(width: Int, height: Int) -> (width: Int, height: Int) {
        let s = resizeShorterSide
        if width <= height {
            return (s, Int(Double(s) * Double(height) / Double(width)))
        }
        return (Int(Double(s) * Double(width) / Double(height)), s)
    }

    /// Per-channel affine form of the normalization on 0…255 pixels: x' = x * scale + offset.
    public var normalizationScale: [Float] { std.map { 1 / (255 * $0) } }
    public var normalizationOffset: [Float] { zip(mean, std).map { -$0 / $1 } }
}
