// The float transformer kernels (LayerNorm, GELU, windowed attention, quantize / dequantize): every ISA
// build against the scalar build, exactly for the precision boundaries and the int8 forms of LayerNorm and
// attention, otherwise within stated bounds (the SIMD builds fuse multiply-adds: LayerNorm within 5e-5 and
// attention within 1e-4 of the output scale), and GELU against erf (3e-7).
import CEdgeboneKernels
import Testing
@testable import Edgebone
#if canImport(Glibc)
import Glibc
#endif

@Suite struct TransformerKernelTests {
    static let isas = ISA.supported.filter { $0 != .neondot }  // neondot runs the NEON float builds
    /// … but its own int8 forms (the attention's sums and LayerNorm's row sums by sdot).
    static let int8FormISAs = ISA.supported

    /// Where the attention reads the int8 values alone: AVX-512 VNNI with head_dim a multiple of 32, NEON
    /// with the dot product with a multiple of 16.
    static func readsInt8Alone(_ isa: ISA, d: Int) -> Bool {
        #if arch(x86_64)
        return isa >= .avx512vnni && d % 32 == 0
        #else
        return isa >= .neondot && d % 16 == 0
        #endif
    }
    var rng = SplitMix64(seed: 11)

    mutating func values(_ n: Int, _ scale: Float) -> [Float] { (0..<n).map { _ in Float.random(in: -scale...scale, using: &rng) } }

    /// Largest |a − b| relative to max(|b|, floor).
    func worst(_ a: [Float], _ b: [Float], floor: Float) -> Float { zip(a, b).map { abs($0 - $1) / max(abs($1), floor) }.max() ?? 0 }

    @Test(arguments: isas)
    func geluIsErfGeluTo3e7(isa: ISA) {
        var t = self
        let x = t.values(4099, 8) + [0, -0.0, 1e-30, -1e-30, 20, -20, 87, -87]
        var y = [Float](repeating: 0, count: x.count)
        FloatKernels(isa: isa).gelu(x, &y, x.count)
        let want = x.map { Float(0.5 * Double($0) * (1 + erf(Double($0) / 2.0.squareRoot()))) }
        // erf to about 1.2e-7 absolute: GELU's error stays below 3e-7 · max(|x|, 1).
        let bad = x.indices.filter { abs(y[$0] - want[$0]) > 3e-7 * max(abs(x[$0]), 1) }
        #expect(bad.isEmpty, "\(isa): \(bad.count) values off, first x=\(bad.first.map { x[$0] } ?? 0): \(bad.first.map { y[$0] } ?? 0) vs \(bad.first.map { want[$0] } ?? 0)")
        // In place gives the same.
        var z = x
        FloatKernels(isa: isa).gelu(z, &z, z.count)
        #expect(z == y)
    }

    /// Precision boundaries are exact: every build gives the scalar build's bytes and floats, ties to even.
    @Test(arguments: isas)
    func quantizeAndDequantizeAreExact(isa: ISA) {
        var t = self
        let x = t.values(1029, 6) + [1e9, -1e9, 0, -0.0]
        // Halves, exactly representable after division by 0.25: rounded to even.
        var ties = [Int8](repeating: 0, count: 6)
        FloatKernels(isa: isa).quantize([0.125, 0.375, 0.625, -0.125, -0.375, -0.625], &ties, 6, 0.25, 0)
        #expect(ties == [0, 2, 2, 0, -2, -2], "\(isa) ties \(ties)")
        for (scale, zero) in [(Float(0.05), Int32(0)), (0.013, -17), (0.1, 127), (0.02, -128)] {
            var want = [Int8](repeating: 0, count: x.count), got = want
            FloatKernels(isa: .scalar).quantize(x, &want, x.count, scale, zero)
            FloatKernels(isa: isa).quantize(x, &got, x.count, scale, zero)
            #expect(got == want, "\(isa) quantize scale \(scale) zero \(zero)")
            var back = [Float](repeating: 0, count: x.count), backWant = back
            FloatKernels(isa: .scalar).dequantize(want, &backWant, x.count, scale, zero)
            FloatKernels(isa: isa).dequantize(want, &back, x.count, scale, zero)
            #expect(back == backWant && back.indices.allSatisfy { back[$0] == Float(Int32(want[$0]) - zero) * scale })
        }
    }

    @Test(arguments: isas)
    func layerNormMatchesScalar(isa: ISA) {
        var t = self
        let rows = 37, c = 96
        let x = t.values(rows * c, 4), gamma = t.values(c, 2), beta = t.values(c, 1)
        var want = [Float](repeating: 0, count: x.count), got = want
        FloatKernels(isa: .scalar).layerNorm(x, &want, rows, c, gamma, beta, 1e-5)
        FloatKernels(isa: isa).layerNorm(x, &got, rows, c, gamma, beta, 1e-5)
        #expect(worst(got, want, floor: 1e-3) < 5e-5, "\(isa) layer norm")
    }

    /// LayerNorm from int8 to int8: every build gives the scalar build's bytes, in place too, each within
    /// one step of the double-precision result (and mostly on it).
    @Test(arguments: int8FormISAs)
    func int8LayerNormMatchesScalarAndDouble(isa: ISA) {
        var t = self
        // Widths on and off the vector steps (16 and 64 bytes), extreme zero points.
        let cases: [(Int, Int, Int32, Int32)] = [(37, 96, -3, 5), (5, 768, 100, -128), (3, 7, -128, 0), (4, 200, 127, 3), (2, 64, -128, -7)]
        for (rows, c, inZero, outZero) in cases {
            let x = (0..<(rows * c)).map { _ in Int8(truncatingIfNeeded: Int.random(in: -128...127, using: &t.rng)) }
            let gamma = t.values(c, 2), beta = t.values(c, 1), inScale: Float = 0.037, outScale: Float = 0.021
            let g = gamma.map { $0 / outScale }, b = beta.map { $0 / outScale }
            var want = [Int8](repeating: 0, count: x.count), got = want
            FloatKernels(isa: .scalar).layerNorm8(x, &want, rows, c, inZero, inScale, g, b, 1e-5, outZero)
            FloatKernels(isa: isa).layerNorm8(x, &got, rows, c, inZero, inScale, g, b, 1e-5, outZero)
            #expect(got == want, "\(isa) int8 layer norm rows \(rows) c \(c)")
            var inPlace = x
            inPlace.withUnsafeMutableBufferPointer { p in
                FloatKernels(isa: isa).layerNorm8(p.baseAddress!, p.baseAddress!, rows, c, inZero, inScale, g, b, 1e-5, outZero)
            }
            #expect(inPlace == want, "\(isa) int8 layer norm in place")
            var off = 0
            for r in 0..<rows {
                // One operation per statement (Swift 6.0's type checker, see attention below).
                var a = [Double](repeating: 0, count: c)
                var mean: Double = 0, v: Double = 0
                for j in 0..<c {
                    a[j] = Double(Int32(x[r * c + j]) - inZero) * Double(inScale)
                    mean += a[j]
                }
                mean /= Double(c)
                for j in 0..<c { v += (a[j] - mean) * (a[j] - mean) }
                v /= Double(c)
                let inv: Double = 1 / (v + 1e-5).squareRoot()
                for j in 0..<c {
                    var y: Double = (a[j] - mean) * inv
                    y = y * Double(gamma[j]) + Double(beta[j])
                    var q: Double = (y / Double(outScale)).rounded(.toNearestOrEven) + Double(outZero)
                    q = min(max(q, -128), 127)
                    let got = Double(want[r * c + j])
                    #expect(abs(got - q) <= 1, "\(isa) row \(r) channel \(j): \(got) vs \(q)")
                    if got != q { off += 1 }
                }
            }
            #expect(off * 100 <= rows * c, "\(isa): \(off) of \(rows * c) a step off double precision")
        }
    }

    @Test(arguments: int8FormISAs)
    func attentionMatchesScalar(isa: ISA) {
        var t = self
        for (windows, n, heads, d, masked) in [(3, 16, 2, 8, true), (2, 64, 3, 32, false), (1, 9, 1, 5, true)] {
            let c = heads * d
            let qkv = t.values(windows * n * 3 * c, 2), scale = t.values(heads, 10).map(abs)
            let bias = t.values(heads * n * n, 8)
            let mask: [Float]? = masked ? (0..<(windows * n * n)).map { $0 % 5 == 0 ? -100 : 0 } : nil
            var scratch = [Float](repeating: 0, count: eb_f32_window_attention_scratch(n, d) / 4)
            var want = [Float](repeating: 0, count: windows * n * c), got = want
            FloatKernels(isa: .scalar).attention(qkv, nil, 0, 1, &want, windows, n, heads, d, scale, bias, mask, &scratch)
            FloatKernels(isa: isa).attention(qkv, nil, 0, 1, &got, windows, n, heads, d, scale, bias, mask, &scratch)
            #expect(worst(got, want, floor: 1e-2) < 1e-4, "\(isa) attention windows \(windows) tokens \(n) heads \(heads) d \(d)")
        }
    }

    /// Int8 input (q, k, v as x − zero point, the scale applied to the outputs): every build, the
    /// avx512f one with its int8 dot products where head_dim is a multiple of 4 (and 32), gives the
    /// scalar build's bits; and the scalar build, with int8 and with float input, against double
    /// precision.
    @Test(arguments: int8FormISAs)
    func int8AttentionMatchesScalarAndFloat(isa: ISA) {
        var t = self
        let cases: [(Int, Int, Int, Int, Bool, Int32)] = [
            (3, 16, 2, 8, true, 0), (2, 64, 3, 32, true, -17), (1, 9, 1, 5, true, 100), (1, 70, 2, 12, false, -128),
            (1, 256, 1, 32, true, 5), (1, 70, 1, 32, true, 3), (2, 21, 2, 64, false, -5), (1, 49, 4, 16, true, 127),
            (1, 70, 2, 48, false, -128),
        ]
        for (windows, n, heads, d, masked, zero) in cases {
            let c = heads * d, count = windows * n * 3 * c, inScale: Float = 0.043
            let q8 = (0..<count).map { _ in Int8(truncatingIfNeeded: Int.random(in: -128...127, using: &t.rng)) }
            let integers = q8.map { Float(Int32($0) - zero) }, dequantized = integers.map { $0 * inScale }
            let scale = t.values(heads, 30).map(abs), bias = t.values(heads * n * n, 8)
            let mask: [Float]? = masked ? (0..<(windows * n * n)).map { $0 % 7 == 0 ? -100 : 0 } : nil
            var scratch = [Float](repeating: 0, count: eb_f32_window_attention_scratch(n, d) / 4)
            var want = [Float](repeating: 0, count: windows * n * c), got = want, float = want
            FloatKernels(isa: .scalar).attention(integers, q8, zero, inScale, &want, windows, n, heads, d, scale, bias, mask, &scratch)
            FloatKernels(isa: isa).attention(integers, q8, zero, inScale, &got, windows, n, heads, d, scale, bias, mask, &scratch)
            FloatKernels(isa: .scalar).attention(dequantized, nil, 0, 1, &float, windows, n, heads, d, scale, bias, mask, &scratch)
            let exact = Self.attention(dequantized, windows: windows, n: n, heads: heads, d: d, scale: scale, bias: bias, mask: mask)
            let outScale = 127 * inScale
            let what = "\(isa) int8 attention windows \(windows) tokens \(n) heads \(heads) d \(d) zero \(zero)"
            #expect(got == want, "\(what) against the scalar build: \(worst(got, want, floor: 1e-2 * outScale))")
            let alone8 = FloatKernels(isa: isa).attentionInt8Only(n, d) != 0
            #expect(alone8 == Self.readsInt8Alone(isa, d: d), "\(what): which builds read the int8 values alone")
            if alone8 {
                // Without the float values at all: the same bits.
                var alone = [Float](repeating: 0, count: windows * n * c)
                FloatKernels(isa: isa).attention(nil, q8, zero, inScale, &alone, windows, n, heads, d, scale, bias, mask, &scratch)
                #expect(alone == want, "\(what) from the int8 values alone: \(worst(alone, want, floor: 1e-2 * outScale))")
            }
            // Against double precision: float input within 3e-4 (the sums' rounding); int8 input within 2% of
            // the values' range (255 steps) — its softmax weights have 8 bits (the largest 255): measured up
            // to 0.8% on these peaked random logits, while SwinV2-T int8 keeps its logits' cosine (README).
            let largest: Float = zip(want, exact).map { abs($0 - $1) }.max() ?? 0
            let absolute: Float = largest / (255 * inScale)
            #expect(absolute < 2e-2, "\(what) against double precision: \(absolute) of the values' range")
            #expect(worst(float, exact, floor: 1e-2 * outScale) < 3e-4, "\(what): float input against double precision")
        }
    }

    /// SwinV2's window attention in double precision, the reference of the kernels' bounds.
    static func attention(_ qkv: [Float], windows: Int, n: Int, heads: Int, d: Int, scale: [Float], bias: [Float], mask: [Float]?) -> [Float] {
        // Plain loops, one operation per statement: Swift 6.0's type checker (Debian's) gives up on the
        // nested closures this once was.
        let c = heads * d
        var out = [Float](repeating: 0, count: windows * n * c)
        for w in 0..<windows {
            for h in 0..<heads {
                var q = [[Double]](repeating: [Double](repeating: 0, count: d), count: n), k = q, v = q
                for i in 0..<n {
                    let base: Int = (w * n + i) * 3 * c + h * d
                    var qq: Double = 0, kk: Double = 0
                    for e in 0..<d {
                        q[i][e] = Double(qkv[base + e])
                        k[i][e] = Double(qkv[base + c + e])
                        v[i][e] = Double(qkv[base + 2 * c + e])
                        qq += q[i][e] * q[i][e]
                        kk += k[i][e] * k[i][e]
                    }
                    let ql: Double = max(qq.squareRoot(), 1e-12), kl: Double = max(kk.squareRoot(), 1e-12)
                    for e in 0..<d {
                        q[i][e] /= ql
                        k[i][e] /= kl
                    }
                }
                for i in 0..<n {
                    var logits = [Double](repeating: 0, count: n)
                    for j in 0..<n {
                        var dot: Double = 0
                        for e in 0..<d { dot += q[i][e] * k[j][e] }
                        var l: Double = dot * Double(scale[h])
                        l += Double(bias[(h * n + i) * n + j])
                        if let mask { l += Double(mask[(w * n + i) * n + j]) }
                        logits[j] = l
                    }
                    let top: Double = logits.max()!
                    var total: Double = 0
                    for j in 0..<n {
                        logits[j] = exp(logits[j] - top)
                        total += logits[j]
                    }
                    for e in 0..<d {
                        var sum: Double = 0
                        for j in 0..<n { sum += logits[j] * v[j][e] }
                        out[(w * n + i) * c + h * d + e] = Float(sum / total)
                    }
                }
            }
        }
        return out
    }
}
