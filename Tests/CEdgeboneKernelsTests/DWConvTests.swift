// Exact-match tester for the int8 depthwise kernels: 3x3 and 5x5, stride 1 and 2, symmetric and
// TF "same" padding, channel counts around every tile, extreme zero points, clamps and the LUT.
import CEdgeboneKernels
import Testing

struct DWCase: CustomStringConvertible {
    var h: Int, w: Int, c: Int, k: Int, stride: Int
    var padTop: Int, padLeft: Int, oh: Int, ow: Int
    var xZero: Int32, zeroPoint: Int32, qmin: Int32, qmax: Int32
    var lut: Bool
    /// The table is a walk with step planes (kernels with byte permutes look them up), whose blocks
    /// rise at most `rises` times (3: lookups skip the fourth rise plane).
    var steps: Bool
    var rises: Int
    /// Shift requantization: each channel shifts by the count nearest its scale.
    var shift: Bool
    var description: String { "\(h)x\(w)x\(c) k\(k) s\(stride) pad (\(padTop),\(padLeft)) → \(oh)x\(ow) x_zp \(xZero) zp \(zeroPoint) clamp [\(qmin),\(qmax)] lut \(lut)\(steps ? " (steps, \(rises) rises)" : "")\(shift ? " shift" : "")" }

    /// Geometry for PyTorch-symmetric (same == false) or TF "same" padding.
    init(h: Int, w: Int, c: Int, k: Int, stride: Int, same: Bool, xZero: Int32, zeroPoint: Int32,
         qmin: Int32 = -128, qmax: Int32 = 127, lut: Bool = false, steps: Bool = false, rises: Int = 4, shift: Bool = false) {
        self.h = h; self.w = w; self.c = c; self.k = k; self.stride = stride
        self.xZero = xZero; self.zeroPoint = zeroPoint; self.qmin = qmin; self.qmax = qmax; self.lut = lut; self.steps = steps
        self.rises = rises; self.shift = shift
        if same {
            oh = (h + stride - 1) / stride; ow = (w + stride - 1) / stride
            padTop = max((oh - 1) * stride + k - h, 0) / 2; padLeft = max((ow - 1) * stride + k - w, 0) / 2
        } else {
            let p = ((stride - 1) + (k - 1)) / 2
            padTop = p; padLeft = p
            oh = (h + 2 * p - k) / stride + 1; ow = (w + 2 * p - k) / stride + 1
        }
    }
}

func runDWConv(_ config: eb_kernel_config, _ c: DWCase, rng: inout SeededGenerator) -> [String] {
    let taps = c.k * c.k
    let x = (0..<(c.h * c.w * c.c + Int(EB_EXTRA_BYTES))).map { _ in Int8.random(in: -128...127, using: &rng) }
    let wt = (0..<(taps * c.c)).map { _ in Int8.random(in: -127...127, using: &rng) }
    let typical = 40 / (Float(128 * 64) * Float(taps).squareRoot())
    var scale = (0..<c.c).map { _ in Float.random(in: (typical / 2)...(typical * 2), using: &rng) }
    let shifts = shiftCounts(scale)
    let span = Int32(64 / (typical * 2))
    let bias = (0..<c.c).map { _ in Int32.random(in: -span...span, using: &rng) }
    let (lut, planes): ([Int8]?, [Int8]?) = c.lut ? makeTable(qmin: c.qmin, qmax: c.qmax, steps: c.steps, maxRises: c.rises, rng: &rng) : (nil, nil)

    var expected = [Int8](repeating: 0, count: c.oh * c.ow * c.c)
    for oy in 0..<c.oh { for ox in 0..<c.ow { for ch in 0..<c.c {
        var acc = bias[ch]
        for ky in 0..<c.k { for kx in 0..<c.k {
            let iy = oy * c.stride + ky - c.padTop, ix = ox * c.stride + kx - c.padLeft
            let xv = (iy >= 0 && iy < c.h && ix >= 0 && ix < c.w) ? Int32(x[(iy * c.w + ix) * c.c + ch]) : c.xZero
            acc += (xv - c.xZero) * Int32(wt[(ky * c.k + kx) * c.c + ch])
        }}
        expected[(oy * c.ow + ox) * c.c + ch] = c.shift
            ? requantize(acc, shift: shifts.counts[ch], zeroPoint: c.zeroPoint, qmin: c.qmin, qmax: c.qmax, lut: lut)
            : requantize(acc, scale: scale[ch], zeroPoint: c.zeroPoint, qmin: c.qmin, qmax: c.qmax, lut: lut)
    }}}
    if c.shift { scale = shifts.slots }

    var packing = config.dwconv_packing
    var packed = [UInt8](repeating: 0, count: eb_qs8_dwconv_packed_size(&packing, c.c, taps))
    eb_qs8_dwconv_pack(&packing, c.c, taps, wt, bias, scale, c.xZero, &packed)
    let zeroRow = [Int8](repeating: Int8(c.xZero), count: c.c + Int(EB_EXTRA_BYTES))
    let canary: Int8 = 0x33
    var out = [Int8](repeating: canary, count: c.oh * c.ow * c.c + 64)
    lut.withOptionalPointer { lutPtr in planes.withOptionalPointer { stepsPtr in
        var params = eb_qs8_requant_params(zero_point: c.zeroPoint, qmin: c.qmin, qmax: c.qmax, lut: lutPtr, steps: stepsPtr, shift: c.shift ? 1 : 0)
        // Two calls over row ranges, as a thread pool would split the work.
        let mid = c.oh / 2
        for (r0, r1) in [(0, mid), (mid, c.oh)] where r1 > r0 {
            config.dwconv(x, c.h, c.w, c.c, packed, c.k, c.stride, c.padTop, c.padLeft, &out, c.oh, c.ow, r0, r1, zeroRow, &params)
        }
    }}
    var issues: [String] = []
    for i in 0..<expected.count where out[i] != expected[i] {
        issues.append("pixel \(i / c.c) channel \(i % c.c): expected \(expected[i]), got \(out[i])")
    }
    if out[expected.count...].contains(where: { $0 != canary }) { issues.append("wrote past the output") }
    return issues
}

@Suite struct DWConvTests {
    static let isas = hostConfigs.map(\.isaName)

    @Test(arguments: isas)
    func exactOverGeometries(isa: String) {
        let config = hostConfigs.first { $0.isaName == isa }!
        let ct = Int(config.dwconv_packing.ct)
        var rng = SeededGenerator(11)
        var failures = 0
        for k in [3, 5] { for stride in [1, 2] { for same in [false, true] {
            for (h, w) in [(1, 1), (2, 3), (7, 7), (8, 6), (5, 12), (6, 16)] {  // 16: eight-output blocks reach the right edge
                for ch in Set([1, ct - 1, ct, ct + 1, 2 * ct + 3, 24, 32].filter { $0 >= 1 }).sorted() {
                    let c = DWCase(h: h, w: w, c: ch, k: k, stride: stride, same: same,
                                   xZero: Int32.random(in: -128...127, using: &rng), zeroPoint: Int32.random(in: -128...127, using: &rng))
                    let issues = runDWConv(config, c, rng: &rng)
                    if !issues.isEmpty && failures < 5 {
                        failures += 1
                        Issue.record("\(isa) \(c): \(issues.count) mismatches, first: \(issues[0])")
                    }
                }
            }
        }}}
    }

    @Test(arguments: isas)
    func extremesClampsAndLUT(isa: String) {
        let config = hostConfigs.first { $0.isaName == isa }!
        var rng = SeededGenerator(12)
        for (xz, zp, qmin, qmax, lut) in [(Int32(-128), Int32(-128), Int32(-128), Int32(127), false), (127, 127, -128, 127, true),
                                          (0, -10, -10, 127, false), (-5, 30, 0, 30, true), (3, 700, -2048, 2047, true),
                                          (9, -200, -256, 255, true), (-1, 40, -100, 199, true)] {  // the last two looked up directly
            for steps in lut ? [false, true] : [false] {
            let c = DWCase(h: 9, w: 10, c: 19, k: 5, stride: 2, same: true, xZero: xz, zeroPoint: zp, qmin: qmin, qmax: qmax, lut: lut, steps: steps)
            let issues = runDWConv(config, c, rng: &rng)
            let exact = issues.isEmpty
            #expect(exact, "\(isa) \(c): \(issues.count) mismatches, first: \(issues.first ?? "")")
        }}
    }

    /// Tables with step planes (looked up by byte permutes where the kernel can) over the channel
    /// counts around the 64-wide tile and its 32-wide tail, 3x3 and 5x5, both strides, walks rising up
    /// to four and up to three times per block.
    @Test(arguments: isas)
    func exactWithStepPlanes(isa: String) {
        let config = hostConfigs.first { $0.isaName == isa }!
        var rng = SeededGenerator(13)
        for ch in [1, 16, 31, 32, 33, 48, 64, 96, 97, 144] { for k in [3, 5] { for stride in [1, 2] { for rises in [4, 3] {
            let c = DWCase(h: 6, w: 7, c: ch, k: k, stride: stride, same: stride == 2, xZero: Int32.random(in: -128...127, using: &rng),
                           zeroPoint: Int32.random(in: -2048...2047, using: &rng), qmin: -2048, qmax: 2047, lut: true, steps: true, rises: rises)
            let issues = runDWConv(config, c, rng: &rng)
            let exact = issues.isEmpty
            #expect(exact, "\(isa) \(c): \(issues.count) mismatches, first: \(issues.first ?? "")")
        }}}}
    }

    /// Shift requantization (counts in the scale slots) on every epilogue: int8 output, a clamp, a 9-bit
    /// table (looked up directly where the kernel can), a 12-bit one with step planes and one gathered,
    /// over the channel counts around the 64-wide tile and its 32-wide tail, both kernels and strides; a
    /// third of them with zero point qmin (the shifted values are then the table's indices).
    @Test(arguments: isas)
    func exactWithShiftRequantization(isa: String) {
        let config = hostConfigs.first { $0.isaName == isa }!
        var rng = SeededGenerator(15)
        let modes: [(qmin: Int32, qmax: Int32, lut: Bool, steps: Bool)] = [(-128, 127, false, false), (-20, 127, false, false),
                                                                           (-256, 255, true, false), (-2048, 2047, true, true),
                                                                           (-2048, 2047, true, false)]
        for mode in modes { for ch in [1, 16, 31, 32, 33, 64, 96, 97, 144] { for k in [3, 5] { for stride in [1, 2] {
            let c = DWCase(h: 6, w: 7, c: ch, k: k, stride: stride, same: stride == 2, xZero: Int32.random(in: -128...127, using: &rng),
                           zeroPoint: ch % 3 == 0 ? mode.qmin : Int32.random(in: mode.qmin...mode.qmax, using: &rng), qmin: mode.qmin, qmax: mode.qmax,
                           lut: mode.lut, steps: mode.steps, shift: true)
            let issues = runDWConv(config, c, rng: &rng)
            let exact = issues.isEmpty
            #expect(exact, "\(isa) \(c): \(issues.count) mismatches, first: \(issues.first ?? "")")
        }}}}
    }

    /// Tables of the 9-bit grid (512 random entries, looked up directly by byte permutes where the kernel
    /// can) over the same channel counts, kernels and strides.
    @Test(arguments: isas)
    func exactWithDirectTables(isa: String) {
        let config = hostConfigs.first { $0.isaName == isa }!
        var rng = SeededGenerator(14)
        for ch in [1, 16, 31, 32, 33, 48, 64, 96, 97, 144] { for k in [3, 5] { for stride in [1, 2] {
            let c = DWCase(h: 6, w: 7, c: ch, k: k, stride: stride, same: stride == 2, xZero: Int32.random(in: -128...127, using: &rng),
                           zeroPoint: Int32.random(in: -256...255, using: &rng), qmin: -256, qmax: 255, lut: true, steps: false)
            let issues = runDWConv(config, c, rng: &rng)
            let exact = issues.isEmpty
            #expect(exact, "\(isa) \(c): \(issues.count) mismatches, first: \(issues.first ?? "")")
        }}}
    }
}
