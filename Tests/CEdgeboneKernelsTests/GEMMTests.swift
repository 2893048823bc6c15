// Exact-match tester for the int8 GEMM micro-kernels: every variant this host runs against a naive
// reference, on shapes around every tile boundary, odd strides, extreme zero points, scales, clamps.
import CEdgeboneKernels
import Testing

struct GEMMCase: CustomStringConvertible {
    var m: Int, n: Int, k: Int
    var aZero: Int32, zeroPoint: Int32, qmin: Int32, qmax: Int32
    var scaleRange: ClosedRange<Float>
    var lut: Bool
    /// The table is a walk with step planes (kernels with byte permutes look them up)…
    var steps = false
    /// …whose blocks rise at most this often (3: lookups skip the fourth rise plane).
    var rises = 4
    /// Shift requantization: each channel shifts by the count nearest its scale.
    var shift = false
    var description: String { "m\(m) n\(n) k\(k) a_zp \(aZero) zp \(zeroPoint) clamp [\(qmin), \(qmax)] scale \(scaleRange) lut \(lut)\(steps ? " (steps, \(rises) rises)" : "")\(shift ? " shift" : "")" }
}

/// Runs `config`'s GEMM on one case and returns the mismatches (empty when exact).
func runGEMM(_ config: eb_kernel_config, _ c: GEMMCase, rng: inout SeededGenerator) -> [String] {
    let aStride = c.k + 3, cStride = c.n + 5
    var a = [Int8](repeating: 0, count: c.m * aStride + Int(EB_EXTRA_BYTES))
    for i in a.indices { a[i] = Int8.random(in: -128...127, using: &rng) }
    var w = (0..<(c.n * c.k)).map { _ in Int8.random(in: -127...127, using: &rng) }
    if c.k > 2 { w[0] = -127; w[1] = 127 }
    // Biases sized to the scales so that results land inside the output range, not only on the clamps.
    let biasSpan = Int32(min(1_000_000, 64 / c.scaleRange.upperBound))
    let bias = (0..<c.n).map { _ in Int32.random(in: -biasSpan...biasSpan, using: &rng) }
    var scale = (0..<c.n).map { _ in Float.random(in: c.scaleRange, using: &rng) }
    let (lut, planes): ([Int8]?, [Int8]?) = c.lut ? makeTable(qmin: c.qmin, qmax: c.qmax, steps: c.steps, maxRises: c.rises, rng: &rng) : (nil, nil)
    let shifts = shiftCounts(scale)

    var expected = [Int8](repeating: 0, count: c.m * c.n)
    for r in 0..<c.m {
        for j in 0..<c.n {
            var acc = bias[j]
            for kk in 0..<c.k { acc += (Int32(a[r * aStride + kk]) - c.aZero) * Int32(w[j * c.k + kk]) }
            expected[r * c.n + j] = c.shift ? requantize(acc, shift: shifts.counts[j], zeroPoint: c.zeroPoint, qmin: c.qmin, qmax: c.qmax, lut: lut)
                                            : requantize(acc, scale: scale[j], zeroPoint: c.zeroPoint, qmin: c.qmin, qmax: c.qmax, lut: lut)
        }
    }
    if c.shift { scale = shifts.slots }

    var packing = config.gemm_packing
    var packed = [UInt8](repeating: 0, count: eb_qs8_gemm_packed_size(&packing, c.n, c.k))
    eb_qs8_gemm_pack(&packing, c.n, c.k, w, bias, scale, c.aZero, &packed)
    if packing.a_xor != 0 { a = a.map { $0 ^ Int8(bitPattern: 0x80) } }
    let canary: Int8 = 0x5A
    var out = [Int8](repeating: canary, count: c.m * cStride)
    var cfg = config
    lut.withOptionalPointer { lutPtr in planes.withOptionalPointer { stepsPtr in
        var params = eb_qs8_requant_params(zero_point: c.zeroPoint, qmin: c.qmin, qmax: c.qmax, lut: lutPtr, steps: stepsPtr, shift: c.shift ? 1 : 0)
        a.withUnsafeBufferPointer { ab in
            out.withUnsafeMutableBufferPointer { ob in
                // Through the shared driver (row blocks, column slices for large weights), in two
                // row ranges as a thread pool splits it.
                let mid = c.m / 2
                for (m0, m1) in [(0, mid), (mid, c.m)] where m1 > m0 {
                    eb_qs8_gemm_rows(&cfg, m0, m1, c.n, c.k, ab.baseAddress!, aStride, packed, ob.baseAddress!, cStride, &params)
                }
            }
        }
    }}
    var issues: [String] = []
    for r in 0..<c.m {
        for j in 0..<cStride {
            let got = out[r * cStride + j]
            if j < c.n {
                if got != expected[r * c.n + j] { issues.append("row \(r) col \(j): expected \(expected[r * c.n + j]), got \(got)") }
            } else if got != canary {
                issues.append("row \(r) col \(j): wrote past n")
            }
        }
    }
    return issues
}

extension Optional where Wrapped == [Int8] {
    func withOptionalPointer<R>(_ body: (UnsafePointer<Int8>?) -> R) -> R {
        switch self {
        case .none: return body(nil)
        case let .some(v): return v.withUnsafeBufferPointer { body($0.baseAddress) }
        }
    }
}

@Suite struct GEMMTests {
    static let isas = hostConfigs.map(\.isaName)

    /// Scales that put typical accumulators in the middle of the output range (few clamps).
    static func typicalScales(k: Int) -> ClosedRange<Float> {
        let s = 40 / (8192 * Float(k).squareRoot())
        return (s / 2)...(s * 2)
    }

    @Test(arguments: isas)
    func exactOnTileBoundaries(isa: String) {
        let config = hostConfigs.first { $0.isaName == isa }!
        var rng = SeededGenerator(42)
        var failures = 0
        let mr = Int(config.gemm_mr), nr = Int(config.gemm_packing.nr), kr = Int(config.gemm_packing.kr)
        let ks = Set([1, 2, 3, kr - 1, kr, kr + 1, 2 * kr - 1, 2 * kr, 2 * kr + 1, 15, 16, 17, 33, 64, 67, 144].filter { $0 >= 1 }).sorted()
        let ns = Set([1, 2, 7, nr - 1, nr, nr + 1, 2 * nr - 1, 2 * nr + 1, 16, 17, 24, 40, 48].filter { $0 >= 1 }).sorted()
        for k in ks {
            for n in ns {
                for m in Set([1, 2, mr - 1, mr, mr + 1, 2 * mr + 3].filter { $0 >= 1 }).sorted() {
                    let c = GEMMCase(m: m, n: n, k: k, aZero: Int32.random(in: -128...127, using: &rng),
                                     zeroPoint: Int32.random(in: -128...127, using: &rng), qmin: -128, qmax: 127,
                                     scaleRange: Self.typicalScales(k: k), lut: false)
                    let issues = runGEMM(config, c, rng: &rng)
                    if !issues.isEmpty && failures < 5 {
                        failures += 1
                        Issue.record("\(isa) tile \(mr)x\(nr)c\(kr) \(c): \(issues.count) mismatches, first: \(issues[0])")
                    }
                }
            }
        }
    }

    @Test(arguments: isas)
    func extremeZeroPointsScalesClampsAndLUT(isa: String) {
        let config = hostConfigs.first { $0.isaName == isa }!
        var rng = SeededGenerator(7)
        let edges: [(Int32, Int32, Int32, Int32, ClosedRange<Float>, Bool)] = [
            (-128, -128, -128, 127, 1e-6...1e-5, false), (127, 127, -128, 127, 0.5...4, false),
            (-128, 127, -128, 127, 1e-3...1e-2, true), (0, -5, -5, 127, 1e-3...1e-2, false),  // fused ReLU
            (3, -128, -128, -100, 1e-3...1e-2, false), (-17, 20, 0, 20, 2e-3...3e-3, true),
            (0, 0, -128, 127, 0.5...0.5, false), (1, -1, -128, 127, 0.25...0.25, false),  // exact ties: half to even
            (7, 300, -2048, 2047, 1e-2...1e-1, true), (-9, -2048, -2048, 2047, 0.5...4, true),  // 12-bit table index
            (5, 100, -256, 255, 1e-2...1e-1, true), (-3, -256, -256, 255, 0.5...4, true),  // 9-bit: looked up directly
            (2, 10, -100, 199, 1e-2...1e-1, true),  // 300 entries: the last quarters partly past the table
            (4, 0, -128, 127, 1e-10...1e-8, false),  // shifts up to 30
            (3, -256, -256, 255, 1e-2...1e-1, true),  // zero point = qmin: shifted values are indices
        ]
        // Each table case three times: random bytes (gathered), and walks with step planes rising up to
        // four and up to three times per block.
        // And every case with shift requantization too (counts nearest the scales).
        for (aZero, zp, qmin, qmax, scales, lut) in edges { for (steps, rises) in lut ? [(false, 4), (true, 4), (true, 3)] : [(false, 4)] {
            for shift in [false, true] { for (m, n, k) in [(1, 1, 1), (Int(config.gemm_mr) + 1, 37, 19), (3, 64, 200), (5, 9, 2), (2 * Int(config.gemm_mr) + 3, 80, 33),
                              (Int(config.gemm_mr) + 3, 50, 24),  // 50: a last tile of 16 + 2 channels
                              (4 * Int(config.gemm_mr) + 5, 16, 24), (4 * Int(config.gemm_mr) + 5, 9, 7)] {  // 16 rows at once when narrow
                let c = GEMMCase(m: m, n: n, k: k, aZero: aZero, zeroPoint: zp, qmin: qmin, qmax: qmax, scaleRange: scales, lut: lut,
                                 steps: steps, rises: rises, shift: shift)
                let issues = runGEMM(config, c, rng: &rng)
                let exact = issues.isEmpty
                #expect(exact, "\(isa) \(c): \(issues.count) mismatches, first: \(issues.first ?? "")")
            }}
        }}
    }

    /// Weights beyond L2 (over 256 KB) with several row blocks: the driver walks column slices; still exact.
    @Test(arguments: isas)
    func exactWithColumnSlices(isa: String) {
        let config = hostConfigs.first { $0.isaName == isa }!
        var rng = SeededGenerator(99)
        let mr = Int(config.gemm_mr)
        for (m, n, k, lut, steps, rises) in [(4 * mr + 3, 1000, 300, false, false, 4), (3 * mr, 4100, 64, true, false, 4),
                                             (3 * mr, 4100, 64, true, true, 4), (3 * mr, 4100, 64, true, true, 3),
                                             (2 * mr + 1, 259, 1031, false, false, 4)] {
            let c = GEMMCase(m: m, n: n, k: k, aZero: Int32.random(in: -128...127, using: &rng), zeroPoint: lut ? 0 : 5,
                             qmin: lut ? -2048 : -128, qmax: lut ? 2047 : 127, scaleRange: Self.typicalScales(k: k), lut: lut,
                             steps: steps, rises: rises)
            let issues = runGEMM(config, c, rng: &rng)
            let exact = issues.isEmpty
            #expect(exact, "\(isa) \(c): \(issues.count) mismatches, first: \(issues.first ?? "")")
        }
    }

    @Test func dispatchPicksTheBestLevel() {
        let f = eb_cpu_features()
        let best = eb_best_isa(f)
        #expect(eb_isa_supported(best, f) != 0)
        #if arch(x86_64)
        #expect(eb_isa_supported(Int32(EB_ISA_NEONDOT), f) == 0)
        if f & UInt32(EB_CPU_X86_AVX512VNNI) != 0 {
            #expect(best == (f & UInt32(EB_CPU_X86_AVX512VBMI) != 0 ? EB_ISA_AVX512VBMI : EB_ISA_AVX512VNNI))
        }
        #endif
    }
}
