// Resize + center crop on uint8 RGB (Pillow-exact resampling in CEdgeboneKernels) and float
// normalization. Buffers are kept and reused while frames keep the same size.
import CEdgeboneKernels

/// Turns RGB frames into network input for one preprocessing preset. Not thread-safe; one per
/// inference loop. Allocates only when the source frame size changes.
public final class Preprocessor {
    public let preset: Preprocessing
    /// The cropped, resized uint8 frame (inputSize × inputSize × 3).
    public let cropped: RGBImage
    /// Kernel level for the resampling passes (SIMD from AVX2 / NEON; every level gives the same bytes).
    public let isa: ISA

    private var sourceSize = (width: 0, height: 0)
    private var plan = ResamplePlan()
    private var temp: [UInt8] = []

    struct ResamplePlan {
        var horizontal = false, vertical = false
        var hBounds: [Int32] = [], hCoeffs: [Int32] = [], hK = 0
        var vBounds: [Int32] = [], vCoeffs: [Int32] = [], vK = 0
        var left = 0, top = 0
        var rowFirst = 0, rowCount = 0
    }

    public init(preset: Preprocessing, isa: ISA = .best) {
        self.preset = preset
        self.isa = isa
        cropped = RGBImage(width: preset.inputSize, height: preset.inputSize)
    }

    /// Resizes and crops `image` into `cropped`. An image already at the input size is copied as is.
    public func crop(_ image: RGBImage) {
        let s = preset.inputSize
        if image.width == s && image.height == s {
            cropped.pixels.update(from: image.pixels, count: s * s * 3)
            return
        }
        if image.width != sourceSize.width || image.height != sourceSize.height {
            makePlan(width: image.width, height: image.height)
        }
        plan.hBounds.withUnsafeBufferPointer { hb in
        plan.hCoeffs.withUnsafeBufferPointer { hc in
        plan.vBounds.withUnsafeBufferPointer { vb in
        plan.vCoeffs.withUnsafeBufferPointer { vc in
        temp.withUnsafeMutableBufferPointer { tmp in
            let p = plan
            // Horizontal pass over the source rows the vertical pass reads, output columns of the crop only.
            let hOut: UnsafePointer<UInt8>
            let hWidth: Int
            if p.horizontal {
                eb_u8_resample_horizontal(image.pixels + p.rowFirst * image.width * 3, p.rowCount, image.width,
                                          tmp.baseAddress!, s, hb.baseAddress! + 2 * p.left,
                                          hc.baseAddress! + p.left * p.hK, p.hK, isa.code)
                hOut = UnsafePointer(tmp.baseAddress!)
                hWidth = s
            } else {
                // Width unchanged: take the crop's columns straight from the source rows.
                for r in 0..<p.rowCount {
                    (tmp.baseAddress! + r * s * 3).update(from: image.pixels + ((p.rowFirst + r) * image.width + p.left) * 3, count: s * 3)
                }
                hOut = UnsafePointer(tmp.baseAddress!)
                hWidth = s
            }
            if p.vertical {
                eb_u8_resample_vertical(hOut, hWidth, cropped.pixels, s, vb.baseAddress! + 2 * p.top,
                                        vc.baseAddress! + p.top * p.vK, p.vK, isa.code)
            } else {
                cropped.pixels.update(from: hOut, count: s * s * 3)
            }
        }}}}}
    }

    /// Writes normalized float32 NHWC input (inputSize² × 3) for the current `cropped` frame.
    public func normalize(into out: UnsafeMutablePointer<Float>) {
        let scale = preset.normalizationScale, offset = preset.normalizationOffset
        let (s0, s1, s2) = (scale[0], scale[1], scale[2]), (o0, o1, o2) = (offset[0], offset[1], offset[2])
        let n = preset.inputSize * preset.inputSize
        let px = cropped.pixels
        for i in 0..<n {
            out[3 * i] = Float(px[3 * i]) * s0 + o0
            out[3 * i + 1] = Float(px[3 * i + 1]) * s1 + o1
            out[3 * i + 2] = Float(px[3 * i + 2]) * s2 + o2
        }
    }

    private func makePlan(width: Int, height: Int) {
        let s = preset.inputSize
        let (rw, rh) = preset.resizedSize(width: width, height: height)
        precondition(rw >= s && rh >= s, "resized \(rw)x\(rh) smaller than the \(s) crop")
        var p = ResamplePlan()
        // torchvision's CenterCrop: int(round((size - crop) / 2)), Python rounds half to even.
        p.left = Int((Double(rw - s) / 2).rounded(.toNearestOrEven))
        p.top = Int((Double(rh - s) / 2).rounded(.toNearestOrEven))
        let filter = preset.interpolation == .bicubic ? Int32(EB_FILTER_BICUBIC) : Int32(EB_FILTER_BILINEAR)
        p.horizontal = rw != width
        p.vertical = rh != height
        if p.horizontal {
            (p.hBounds, p.hCoeffs, p.hK) = Self.coefficients(input: width, output: rw, filter: filter)
        }
        if p.vertical {
            (p.vBounds, p.vCoeffs, p.vK) = Self.coefficients(input: height, output: rh, filter: filter)
            let first = Int(p.vBounds[2 * p.top])
            var last = first
            for y in p.top..<(p.top + s) { last = max(last, Int(p.vBounds[2 * y] + p.vBounds[2 * y + 1])) }
            p.rowFirst = first
            p.rowCount = last - first
            // The vertical pass reads rows relative to the first row the horizontal pass produced.
            for y in 0..<rh { p.vBounds[2 * y] -= Int32(first) }
        } else {
            p.rowFirst = p.top
            p.rowCount = s
            p.top = 0
        }
        temp = [UInt8](repeating: 0, count: p.rowCount * s * 3)
        plan = p
        sourceSize = (width, height)
    }

    static func coefficients(input: Int, output: Int, filter: Int32) -> ([Int32], [Int32], Int) {
        let k = eb_resample_ksize_max(input, 0, Double(input), output, filter)
        var bounds = [Int32](repeating: 0, count: 2 * output)
        var coeffs = [Int32](repeating: 0, count: k * output)
        let got = eb_resample_coeffs(input, 0, Double(input), output, filter, &bounds, &coeffs, coeffs.count)
        precondition(got == k)
        return (bounds, coeffs, k)
    }
}
