// Float helper kernels: every ISA build of a kernel against a plain Swift reference.
import CEdgeboneKernels
import Testing
@testable import Edgebone
#if canImport(Glibc)
import Glibc
#endif

@Suite struct FloatKernelTests {
    func act(_ v: Float, _ a: Int32) -> Float {
        switch a {
        case 1: return max(v, 0)
        case 2: return min(max(v, 0), 6)
        case 3: return v / (1 + expf(-v))
        case 4: return 1 / (1 + expf(-v))
        default: return v
        }
    }

    /// Reference depthwise convolution, straight from the definition.
    func referenceDepthwise(_ x: [Float], h: Int, w: Int, c: Int, weights: [Float], bias: [Float], g: ConvGeometry, act a: Int32) -> [Float] {
        var y = [Float](repeating: 0, count: g.outH * g.outW * c)
        for oy in 0..<g.outH { for ox in 0..<g.outW { for j in 0..<c {
            var acc = bias[j]
            for ky in 0..<g.kernel { for kx in 0..<g.kernel {
                let iy = oy * g.stride + ky - g.padTop, ix = ox * g.stride + kx - g.padLeft
                if iy >= 0 && iy < h && ix >= 0 && ix < w { acc += x[(iy * w + ix) * c + j] * weights[(ky * g.kernel + kx) * c + j] }
            }}
            y[(oy * g.outW + ox) * c + j] = act(acc, a)
        }}}
        return y
    }

    static let isas = ISA.supported.filter { $0 != .neondot }  // neondot runs the NEON float builds

    @Test(arguments: isas)
    func depthwiseMatchesReference(isa: ISA) {
        let k = FloatKernels(isa: isa)
        var rng = SystemRandomNumberGenerator()
        for kernel in [3, 5] { for stride in [1, 2] { for padding in [PaddingMode.symmetric, .same] {
            for (h, w, c) in [(7, 9, 5), (8, 8, 16), (13, 6, 33), (1, 1, 3), (9, 10, 64), (8, 11, 80), (7, 12, 144), (11, 5, 40)] { for a in Int32(0)...4 {
                let g = ConvGeometry(inH: h, inW: w, kernel: kernel, stride: stride, padding: padding)
                let x = (0..<(h * w * c)).map { _ in Float.random(in: -3...3, using: &rng) }
                let wt = (0..<(kernel * kernel * c)).map { _ in Float.random(in: -1...1, using: &rng) }
                let b = (0..<c).map { _ in Float.random(in: -1...1, using: &rng) }
                var y = [Float](repeating: .nan, count: g.outH * g.outW * c)
                k.dwconv(x, h, w, c, wt, b, kernel, stride, g.padTop, g.padLeft, &y, g.outH, g.outW, a)
                let ref = referenceDepthwise(x, h: h, w: w, c: c, weights: wt, bias: b, g: g, act: a)
                let err = zip(y, ref).map { abs($0 - $1) / max(1, abs($1)) }.max()!
                #expect(err < 2e-5, "dwconv \(isa) k\(kernel) s\(stride) \(padding) \(h)x\(w)x\(c) act \(a): rel err \(err)")
            }}
        }}}
    }

    @Test(arguments: isas)
    func directConvMatchesReference(isa: ISA) {
        let k = FloatKernels(isa: isa)
        var rng = SystemRandomNumberGenerator()
        for (h, w, cin, cout, kernel, stride, padding) in [(9, 7, 3, 32, 3, 2, PaddingMode.same), (8, 8, 3, 20, 3, 2, .symmetric),
                                                           (5, 6, 1, 7, 3, 1, .symmetric), (6, 6, 4, 33, 5, 2, .same)] {
            let g = ConvGeometry(inH: h, inW: w, kernel: kernel, stride: stride, padding: padding)
            let x = (0..<(h * w * cin)).map { _ in Float.random(in: -2...2, using: &rng) }
            let wt = (0..<(kernel * kernel * cin * cout)).map { _ in Float.random(in: -1...1, using: &rng) }  // HWIO
            let b = (0..<cout).map { _ in Float.random(in: -1...1, using: &rng) }
            var y = [Float](repeating: .nan, count: g.outH * g.outW * cout)
            k.convHWIO(x, h, w, cin, wt, b, cout, kernel, stride, g.padTop, g.padLeft, &y, g.outH, g.outW, 3)
            for oy in 0..<g.outH { for ox in 0..<g.outW { for o in 0..<cout {
                var acc = b[o]
                for ky in 0..<kernel { for kx in 0..<kernel { for i in 0..<cin {
                    let iy = oy * stride + ky - g.padTop, ix = ox * stride + kx - g.padLeft
                    if iy >= 0 && iy < h && ix >= 0 && ix < w { acc += x[(iy * w + ix) * cin + i] * wt[((ky * kernel + kx) * cin + i) * cout + o] }
                }}}
                let ref = act(acc, 3), got = y[(oy * g.outW + ox) * cout + o]
                #expect(abs(got - ref) <= 2e-5 * max(1, abs(ref)), "conv_hwio \(isa) \(h)x\(w)x\(cin)→\(cout) k\(kernel) s\(stride) at (\(oy),\(ox),\(o)): \(got) vs \(ref)")
            }}}
        }
    }

    @Test(arguments: isas)
    func biasActivationMatchesReference(isa: ISA) {
        let k = FloatKernels(isa: isa)
        let c = 37, rows = 5
        let x = (0..<(rows * c)).map { Float($0 % 29) * 0.7 - 10 }
        let b = (0..<c).map { Float($0) * 0.1 - 1.5 }
        for a in Int32(0)...4 {
            var y = x
            k.biasAct(&y, rows, c, b, a)
            for i in 0..<(rows * c) {
                let ref = act(x[i] + b[i % c], a)
                #expect(abs(y[i] - ref) <= 2e-6 * max(1, abs(ref)), "bias_act \(isa) act \(a) at \(i): \(y[i]) vs \(ref)")
            }
        }
    }

    /// Every level above scalar has its own build of every float helper: none falls back to the scalar
    /// reference (on AArch64 the NEON builds; the reference there is compiled without AdvSIMD).
    @Test func noFloatHelperFallsBackToScalar() {
        func table(_ k: FloatKernels) -> [(String, UnsafeRawPointer)] {
            [("dwconv", unsafeBitCast(k.dwconv, to: UnsafeRawPointer.self)),
             ("biasAct", unsafeBitCast(k.biasAct, to: UnsafeRawPointer.self)),
             ("squeezeExcite", unsafeBitCast(k.squeezeExcite, to: UnsafeRawPointer.self)),
             ("convHWIO", unsafeBitCast(k.convHWIO, to: UnsafeRawPointer.self)),
             ("layerNorm", unsafeBitCast(k.layerNorm, to: UnsafeRawPointer.self)),
             ("gelu", unsafeBitCast(k.gelu, to: UnsafeRawPointer.self)),
             ("attention", unsafeBitCast(k.attention, to: UnsafeRawPointer.self))]
        }
        let scalar = table(FloatKernels(isa: .scalar))
        for isa in ISA.supported where isa != .scalar {
            for ((name, f), (_, s)) in zip(table(FloatKernels(isa: isa)), scalar) {
                #expect(f != s, "\(isa): the float \(name) kernel is the scalar reference")
            }
        }
    }

    @Test func sigmoidAndSiluStayFiniteAtExtremes() {
        var y: [Float] = [-1000, -100, -88, -50, 0, 50, 88, 100, 1000]
        let x = y
        eb_f32_bias_act_ukernel__scalar(&y, 1, y.count, nil, 3)
        for (v, r) in zip(y, x) { #expect(v.isFinite && abs(v - act(r, 3)) <= 1e-5 * max(1, abs(r))) }
    }

    @Test func im2colMatchesDirectIndexing() {
        let (h, w, c, k, s) = (5, 6, 3, 3, 2)
        let g = ConvGeometry(inH: h, inW: w, kernel: k, stride: s, padding: .same)
        let x = (0..<(h * w * c)).map { Float($0) }
        var col = [Float](repeating: -1, count: g.outH * g.outW * k * k * c)
        eb_f32_im2col(x, h, w, c, k, s, g.padTop, g.padLeft, &col, g.outH, g.outW)
        for oy in 0..<g.outH { for ox in 0..<g.outW { for ky in 0..<k { for kx in 0..<k { for j in 0..<c {
            let iy = oy * s + ky - g.padTop, ix = ox * s + kx - g.padLeft
            let expected: Float = (iy >= 0 && iy < h && ix >= 0 && ix < w) ? x[(iy * w + ix) * c + j] : 0
            #expect(col[((oy * g.outW + ox) * k * k + ky * k + kx) * c + j] == expected)
        }}}}}
    }

    @Test func tfSamePaddingGeometry() {
        // 224 → 112 with k3 s2: TF pads 0 before, 1 after; PyTorch pads 1 on both sides.
        let same = ConvGeometry(inH: 224, inW: 224, kernel: 3, stride: 2, padding: .same)
        #expect(same.outH == 112 && same.padTop == 0)
        let sym = ConvGeometry(inH: 224, inW: 224, kernel: 3, stride: 2, padding: .symmetric)
        #expect(sym.outH == 112 && sym.padTop == 1)
        let five = ConvGeometry(inH: 28, inW: 28, kernel: 5, stride: 2, padding: .same)
        #expect(five.outH == 14 && five.padTop == 1)
    }
}
