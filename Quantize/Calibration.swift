// Calibration data and activation observers: which images, which views of them, and the range each
// tensor gets (min/max, percentile, or an MSE search over a histogram).
import Edgebone
#if canImport(Glibc)
import Glibc
#endif

/// Why calibration input could not be used.
public enum CalibrationError: Error, CustomStringConvertible, Equatable {
    case empty(String)
    case unreadable(String, String)

    public var description: String {
        switch self {
        case let .empty(path): return "\(path): no PNG or JPEG images to calibrate with"
        case let .unreadable(path, why): return "\(path): \(why)"
        }
    }
}

/// Image files for calibration: a folder (PNG/JPEG, sorted), one image file, or a Y4M video.
public func calibrationImagePaths(_ path: String) throws -> [String] {
    var st = stat()
    guard stat(path, &st) == 0 else { throw CalibrationError.unreadable(path, String(cString: strerror(errno))) }
    if (st.st_mode & S_IFMT) != S_IFDIR { return [path] }
    guard let dir = opendir(path) else { throw CalibrationError.unreadable(path, String(cString: strerror(errno))) }
    defer { closedir(dir) }
    var names: [String] = []
    while let entry = readdir(dir) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let lower = name.lowercased()
        if lower.hasSuffix(".png") || lower.hasSuffix(".jpg") || lower.hasSuffix(".jpeg") || lower.hasSuffix(".y4m") { names.append(name) }
    }
    guard !names.isEmpty else { throw CalibrationError.empty(path) }
    return names.sorted().map { path + "/" + $0 }
}

/// Network-sized uint8 views of the calibration images: the eval crop of each image, plus
/// `augment` random resized crops and flips of it (deterministic for a seed).
public func calibrationViews(paths: [String], preset: Preprocessing, augment: Int, seed: UInt64,
                             progress: ((Int, Int) -> Void)? = nil) throws -> [[UInt8]] {
    var rng = SplitMix64(seed: seed)
    let pre = Preprocessor(preset: preset)
    let s = preset.inputSize
    var views: [[UInt8]] = []
    // Each image (or Y4M frame, up to 2000 per video) gives its eval crop and `augment` random views.
    func addViews(_ image: RGBImage) {
        pre.crop(image)
        views.append(pre.cropped.bytes)
        for _ in 0..<augment {
            // A random square-ish region covering 30–100% of the shorter side, then the eval resize.
            let side = min(image.width, image.height)
            let cw = max(s / 2, Int(Double(side) * Double.random(in: 0.3...1.0, using: &rng)))
            let ch = max(s / 2, min(image.height, Int(Double(cw) * Double.random(in: 0.8...1.25, using: &rng))))
            let cwc = min(cw, image.width)
            let x0 = Int.random(in: 0...(image.width - cwc), using: &rng), y0 = Int.random(in: 0...(image.height - ch), using: &rng)
            let flip = Bool.random(using: &rng)
            let region = RGBImage(width: cwc, height: ch)
            for y in 0..<ch {
                for x in 0..<cwc {
                    let sx = flip ? x0 + cwc - 1 - x : x0 + x
                    for c in 0..<3 { region.pixels[(y * cwc + x) * 3 + c] = image.pixels[((y0 + y) * image.width + sx) * 3 + c] }
                }
            }
            let square = Preprocessor(preset: Preprocessing(inputSize: s, cropFraction: 1, interpolation: preset.interpolation,
                                                            mean: preset.mean, std: preset.std))
            square.crop(region)
            views.append(square.cropped.bytes)
        }
    }
    for (i, path) in paths.enumerated() {
        if path.lowercased().hasSuffix(".y4m") {
            let reader = try Y4MReader(path: path)
            let frame = RGBImage(width: 1, height: 1)
            while reader.framesRead < 2000, try reader.next(into: frame) { addViews(frame) }
            if reader.framesRead == 0 { throw CalibrationError.empty(path) }
        } else {
            addViews(try ImageDecoder.decode(path: path))
        }
        progress?(i + 1, paths.count)
    }
    return views
}

/// How an activation range is chosen from what calibration saw.
public enum RangeMethod: String, CaseIterable, Sendable {
    case minmax, percentile, mse
}

/// Running statistics of one float tensor: min/max in a first pass, a histogram in a second.
final class TensorObserver {
    static let bins = 2048
    var lo = Float.infinity, hi = -Float.infinity
    var histogram = [Double](repeating: 0, count: bins)
    var histLo: Float = 0, histHi: Float = 0
    /// Per-channel (last dimension) sums and the number of rows summed, for channel means.
    var channelSums: [Double] = []
    var rows = 0

    func observeRange(_ p: UnsafePointer<Float>, _ n: Int, channels: Int) {
        var a = lo, b = hi
        for i in 0..<n { let v = p[i]; if v < a { a = v }; if v > b { b = v } }
        lo = a; hi = b
        if channelSums.isEmpty { channelSums = [Double](repeating: 0, count: channels) }
        let r = n / channels
        for row in 0..<r {
            let base = p + row * channels
            for c in 0..<channels { channelSums[c] += Double(base[c]) }
        }
        rows += r
    }

    /// Mean of each channel over everything observed.
    var channelMeans: [Float] { channelSums.map { Float($0 / Double(max(rows, 1))) } }

    func startHistogram() {
        histLo = min(lo, 0); histHi = max(hi, 0)
        if histHi - histLo < 1e-8 { histHi = histLo + 1e-8 }
    }

    func observeHistogram(_ p: UnsafePointer<Float>, _ n: Int) {
        let scale = Float(Self.bins) / (histHi - histLo)
        for i in 0..<n {
            let b = Int((p[i] - histLo) * scale)
            histogram[min(max(b, 0), Self.bins - 1)] += 1
        }
    }

    /// The quantization range by `method`.
    func range(_ method: RangeMethod) -> (Float, Float) {
        switch method {
        case .minmax: return (min(lo, 0), max(hi, 0))
        case .percentile:
            let total = histogram.reduce(0, +)
            let cut = total * 1e-4
            var acc = 0.0, a = 0, b = Self.bins - 1
            while a < Self.bins - 1 && acc + histogram[a] <= cut { acc += histogram[a]; a += 1 }
            acc = 0
            while b > 0 && acc + histogram[b] <= cut { acc += histogram[b]; b -= 1 }
            let w = (histHi - histLo) / Float(Self.bins)
            return (min(histLo + Float(a) * w, 0), max(histLo + Float(b + 1) * w, 0))
        case .mse:
            return mseRange()
        }
    }

    /// Searches clip ranges [lo·f, hi·g] for the least expected squared error: rounding noise (s²/12)
    /// inside the range, the squared clipping distance outside.
    private func mseRange() -> (Float, Float) {
        let w = Double(histHi - histLo) / Double(Self.bins)
        let centers = (0..<Self.bins).map { Double(histLo) + (Double($0) + 0.5) * w }
        let nonzero = histogram.indices.filter { histogram[$0] > 0 }
        func cost(_ a: Double, _ b: Double) -> Double {
            let s = (b - a) / 255
            var e = 0.0
            for i in nonzero {
                let v = centers[i]
                if v < a { e += histogram[i] * (a - v) * (a - v) } else if v > b { e += histogram[i] * (v - b) * (v - b) } else { e += histogram[i] * s * s / 12 }
            }
            return e
        }
        let lo0 = Double(min(lo, 0)), hi0 = Double(max(hi, 0))
        var best = (lo0, hi0), bestCost = cost(lo0, hi0)
        let fractions = stride(from: 1.0, through: 0.05, by: -0.05).map { $0 }
        for f in fractions {
            for g in fractions {
                let c = cost(lo0 * f, hi0 * g)
                if c < bestCost { bestCost = c; best = (lo0 * f, hi0 * g) }
            }
        }
        return (Float(best.0), Float(best.1))
    }
}
