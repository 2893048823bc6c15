// Exact-match testers for the elementwise int8 kernels and the stem convolution, every ISA build
// this host runs against naive references.
import CEdgeboneKernels
import Testing

@Suite struct ElementwiseTests {
    static let isas = hostConfigs.map(\.isaName)
    static func config(_ isa: String) -> eb_kernel_config { hostConfigs.first { $0.isaName == isa }! }

    /// The unsigned copy of a GEMM's input: every byte flipped, none written past n, in place too.
    @Test(arguments: isas)
    func flipToUnsigned(isa: String) {
        let cfg = Self.config(isa)
        var rng = SeededGenerator(24)
        for n in [0, 1, 15, 63, 64, 65, 127, 200, 4099] {
            let x = (0..<n).map { _ in Int8.random(in: -128...127, using: &rng) }
            var y = [UInt8](repeating: 0x11, count: n + 64)
            cfg.xor80(x, &y, n)
            #expect((0..<n).allSatisfy { y[$0] == UInt8(bitPattern: x[$0]) ^ 0x80 }, "\(isa) xor80 n\(n)")
            #expect(y[n...].allSatisfy { $0 == 0x11 }, "\(isa) xor80 n\(n) wrote past n")
            var z = x
            z.withUnsafeMutableBufferPointer { p in
                p.baseAddress.map { base in base.withMemoryRebound(to: UInt8.self, capacity: n) { cfg.xor80(base, $0, n) } }
            }
            #expect(z.map { UInt8(bitPattern: $0) } == Array(y[..<n]), "\(isa) xor80 in place n\(n)")
        }
    }

    @Test(arguments: isas)
    func classifierGEMV(isa: String) {
        let cfg = Self.config(isa)
        var rng = SeededGenerator(23)
        // k up to the int16 staging limit, and past it (the plain int32 path).
        for (k, n, xz) in [(1, 1, Int32(0)), (17, 5, -128), (64, 8, 1), (65, 9, -1), (1280, 37, 127), (4096, 3, -7), (4097, 6, 3), (5000, 2, -128)] {
            let x = (0..<k).map { _ in Int8.random(in: -128...127, using: &rng) }
            var w = (0..<(k * n)).map { _ in Int8.random(in: -127...127, using: &rng) }
            w[0] = -127
            let bias = (0..<n).map { _ in Int32.random(in: -100_000...100_000, using: &rng) }
            let scale = (0..<n).map { _ in Float.random(in: 1e-5...1e-2, using: &rng) }
            var packed = [Int8](repeating: 0x55, count: eb_qs8_gemv_packed_size(n, k)), sums = [Int32](repeating: 0, count: n)
            eb_qs8_gemv_pack(n, k, w, &packed, &sums)
            // The whole, and (n > 4) rows from the second group on, as a thread's part is called.
            var y = [Float](repeating: .nan, count: n + 1)
            cfg.gemv_f32(k, n, x, xz, packed, sums, bias, scale, &y)
            #expect(y[n].isNaN, "\(isa) gemv k\(k) n\(n) wrote past n")
            if n > 4 {
                var tail = [Float](repeating: .nan, count: n - 4 + 1)
                let kp = eb_qs8_gemv_padded_k(k)
                packed.withUnsafeBufferPointer { p in
                    cfg.gemv_f32(k, n - 4, x, xz, p.baseAddress! + 4 * kp, Array(sums[4...]), Array(bias[4...]), Array(scale[4...]), &tail)
                }
                #expect(Array(tail[..<(n - 4)]) == Array(y[4..<n]), "\(isa) gemv k\(k) n\(n) from row 4")
                #expect(tail[n - 4].isNaN, "\(isa) gemv k\(k) n\(n) from row 4 wrote past its rows")
            }
            for j in 0..<n {
                var acc: Int32 = 0
                for i in 0..<k { acc += (Int32(x[i]) - xz) * Int32(w[j * k + i]) }
                let want = Float(acc + bias[j]) * scale[j]
                #expect(y[j] == want, "\(isa) gemv k\(k) n\(n) row \(j): \(y[j]) ≠ \(want)")
            }
        }
    }

    @Test(arguments: isas)
    func residualAdd(isa: String) {
        let cfg = Self.config(isa)
        var rng = SeededGenerator(21)
        for n in [1, 7, 15, 16, 17, 63, 64, 65, 1000] {
            for (za, zb, zp, qmin, qmax, sa, sb, lut) in [(Int32(-128), Int32(127), Int32(0), Int32(-128), Int32(127), Float(0.7), Float(1.3), false),
                                                          (5, -3, -128, -128, 127, 0.01, 2.5, true), (0, 0, 10, 10, 60, 0.5, 0.5, false),
                                                          (127, -128, 127, -128, 127, 1e-3, 3e-3, false)] {
                let a = (0..<(n + 64)).map { _ in Int8.random(in: -128...127, using: &rng) }
                let b = (0..<(n + 64)).map { _ in Int8.random(in: -128...127, using: &rng) }
                let table: [Int8]? = lut ? (0..<(256 + 64)).map { _ in Int8.random(in: -128...127, using: &rng) } : nil
                var y = [Int8](repeating: 0x11, count: n + 64)
                table.withOptionalPointer { lp in
                    var p = eb_qs8_add_params(a_zero: za, b_zero: zb, a_scale: sa, b_scale: sb,
                                              out: eb_qs8_requant_params(zero_point: zp, qmin: qmin, qmax: qmax, lut: lp, steps: nil, shift: 0))
                    cfg.vadd(n, a, b, &y, &p)
                }
                var bad = 0
                for i in 0..<n {
                    let ta = Float(Int32(a[i]) - za) * sa, tb = Float(Int32(b[i]) - zb) * sb
                    var v = ta + tb
                    v = max(v, Float(qmin - zp)); v = min(v, Float(qmax - zp))
                    var q = Int8(Int32(v.rounded(.toNearestOrEven)) + zp)
                    if let table { q = table[Int(Int32(q) - qmin)] }
                    if y[i] != q { bad += 1 }
                }
                #expect(bad == 0 && y[n...].allSatisfy { $0 == 0x11 }, "\(isa) vadd n\(n) za \(za) zb \(zb): \(bad) mismatches")
            }
        }
    }

    /// The pool's sums at their extremes: runs of -128 or 127 longer than an int16 sum holds.
    @Test(arguments: isas)
    func poolExtremes(isa: String) {
        let cfg = Self.config(isa)
        for (rows, c) in [(700, 64), (1030, 32), (520, 80), (257, 16), (256, 64)] {
            for v: Int8 in [-128, 127] {
                let x = [Int8](repeating: v, count: rows * c + 64)
                var pooled = [Int8](repeating: 0, count: c + 64)
                var acc = [Int32](repeating: 0, count: c)
                var pp = eb_qs8_gavgpool_params(x_zero: 3, scale: 1 / Float(rows), out: eb_qs8_requant_params(zero_point: 0, qmin: -128, qmax: 127, lut: nil, steps: nil, shift: 0))
                cfg.gavgpool(rows, c, x, &pooled, &acc, &pp)
                let sum = Int32(rows) * (Int32(v) - 3)
                #expect(acc.allSatisfy { $0 == sum }, "\(isa) gavgpool \(rows)x\(c) of \(v): sums")
                #expect(pooled[..<c].allSatisfy { $0 == Int8(clamping: Int32(v) - 3) }, "\(isa) gavgpool \(rows)x\(c) of \(v): outputs")
            }
        }
    }

    @Test(arguments: isas)
    func channelScaleAndPoolAndLUT(isa: String) {
        let cfg = Self.config(isa)
        var rng = SeededGenerator(22)
        for (rows, c) in [(1, 1), (3, 17), (49, 1152), (196, 96), (2, 64), (37, 32), (5, 16), (3, 2), (9, 144), (4, 240), (2, 200), (2, 2100), (700, 64), (1030, 32), (520, 80)] {
            let x = (0..<(rows * c + 64)).map { _ in Int8.random(in: -128...127, using: &rng) }
            let g = (0..<(c + 64)).map { _ in Int8.random(in: -128...127, using: &rng) }
            let (zx, zp) = (Int32.random(in: -128...127, using: &rng), Int32.random(in: -128...127, using: &rng))
            let zg = c % 2 == 0 ? Int32(-128) : Int32.random(in: -128...127, using: &rng)
            // Scales up to 0.5 saturate often; odd shapes narrow the clamp (a fused ReLU-like bound)
            // or route the result through a table.
            let s = c % 3 == 0 ? Float.random(in: 1e-2...0.5, using: &rng) : Float.random(in: 1e-4...1e-2, using: &rng)
            let (qmin, qmax): (Int32, Int32) = rows % 2 == 1 ? (Int32.random(in: -128...0, using: &rng), Int32.random(in: 1...127, using: &rng)) : (-128, 127)
            let gateTable: [Int8]? = rows % 3 == 0 ? (0..<256).map { _ in Int8.random(in: -128...127, using: &rng) } : nil
            // Every other shape writes the unsigned copy (y ^ 0x80) a GEMM's rows take.
            let flip = (rows + c) % 2 == 0
            var y = [Int8](repeating: 0x11, count: rows * c + 64)
            var bad = 0
            gateTable.withOptionalPointer { lutPtr in
                var mp = eb_qs8_mulc_params(x_zero: zx, g_zero: zg, scale: s, out: eb_qs8_requant_params(zero_point: zp, qmin: qmin, qmax: qmax, lut: lutPtr, steps: nil, shift: 0),
                                            flip: flip ? 1 : 0)
                cfg.vmulc(rows, c, x, g, &y, &mp)
            }
            for r in 0..<rows { for j in 0..<c {
                let v = requantize((Int32(x[r * c + j]) - zx) * (Int32(g[j]) - zg), scale: s, zeroPoint: zp, qmin: qmin, qmax: qmax, lut: gateTable)
                if y[r * c + j] != (flip ? Int8(bitPattern: UInt8(bitPattern: v) ^ 0x80) : v) { bad += 1 }
            }}
            bad += y[(rows * c)...].filter { $0 != 0x11 }.count
            #expect(bad == 0, "\(isa) vmulc \(rows)x\(c): \(bad) mismatches")

            let ps = 1 / Float(rows) * Float.random(in: 0.5...2, using: &rng)
            var pooled = [Int8](repeating: 0, count: c + 64)
            var acc = [Int32](repeating: 0, count: c)
            var pp = eb_qs8_gavgpool_params(x_zero: zx, scale: ps, out: eb_qs8_requant_params(zero_point: zp, qmin: -128, qmax: 127, lut: nil, steps: nil, shift: 0))
            cfg.gavgpool(rows, c, x, &pooled, &acc, &pp)
            bad = 0
            for j in 0..<c {
                var sum: Int32 = 0
                for r in 0..<rows { sum += Int32(x[r * c + j]) - zx }
                if pooled[j] != requantize(sum, scale: ps, zeroPoint: zp, qmin: -128, qmax: 127, lut: nil) { bad += 1 }
            }
            #expect(bad == 0, "\(isa) gavgpool \(rows)x\(c): \(bad) mismatches")

            let table = (0..<256).map { _ in Int8.random(in: -128...127, using: &rng) }
            var t = [Int8](repeating: 0, count: rows * c)
            cfg.lut(rows * c, x, &t, table)
            #expect((0..<(rows * c)).allSatisfy { t[$0] == table[Int(UInt8(bitPattern: x[$0]))] }, "\(isa) lut")
        }
    }

    @Test(arguments: isas)
    func stemConvolution(isa: String) {
        var cfg = Self.config(isa)
        var rng = SeededGenerator(23)
        for (h, w, cin, cout, k, stride, same) in [(17, 15, 3, 32, 3, 2, true), (16, 16, 3, 32, 3, 2, false), (9, 8, 3, 24, 3, 1, false),
                                                   (7, 9, 1, 5, 5, 2, true), (12, 12, 3, 40, 3, 2, true),
                                                   (45, 70, 3, 16, 3, 2, false)] {  // rows of 35: runs of inside pixels across blocks
            let oh = same ? (h + stride - 1) / stride : (h + 2 * ((stride - 1 + k - 1) / 2) - k) / stride + 1
            let ow = same ? (w + stride - 1) / stride : (w + 2 * ((stride - 1 + k - 1) / 2) - k) / stride + 1
            let pt = same ? max((oh - 1) * stride + k - h, 0) / 2 : (stride - 1 + k - 1) / 2
            let pl = same ? max((ow - 1) * stride + k - w, 0) / 2 : (stride - 1 + k - 1) / 2
            let kc = k * k * cin
            let x = (0..<(h * w * cin + 64)).map { _ in Int8.random(in: -128...127, using: &rng) }
            let wt = (0..<(cout * kc)).map { _ in Int8.random(in: -127...127, using: &rng) }
            let bias = (0..<cout).map { _ in Int32.random(in: -3000...3000, using: &rng) }
            let scale = (0..<cout).map { _ in Float.random(in: 1e-3...1e-2, using: &rng) }
            let xz = Int32.random(in: -128...127, using: &rng), zp = Int32.random(in: -128...127, using: &rng)
            var packed = [UInt8](repeating: 0, count: eb_qs8_gemm_packed_size(&cfg.gemm_packing, cout, kc))
            eb_qs8_gemm_pack(&cfg.gemm_packing, cout, kc, wt, bias, scale, xz, &packed)
            var patches = [Int8](repeating: 0, count: eb_qs8_conv_hwc_scratch_size(&cfg, k, cin))
            var y = [Int8](repeating: 0, count: oh * ow * cout)
            var params = eb_qs8_requant_params(zero_point: zp, qmin: -128, qmax: 127, lut: nil, steps: nil, shift: 0)
            // Per-channel padding values (the stem pads with each channel's "zero" pixel).
            let pads = (0..<cin).map { _ in Int8.random(in: -128...127, using: &rng) }
            eb_qs8_conv_hwc(&cfg, x, h, w, cin, cout, packed, k, stride, pt, pl, &y, oh, ow, 0, oh / 2, pads, &patches, &params)
            eb_qs8_conv_hwc(&cfg, x, h, w, cin, cout, packed, k, stride, pt, pl, &y, oh, ow, oh / 2, oh, pads, &patches, &params)
            var bad = 0
            for oy in 0..<oh { for ox in 0..<ow { for o in 0..<cout {
                var acc = bias[o]
                for ky in 0..<k { for kx in 0..<k { for i in 0..<cin {
                    let iy = oy * stride + ky - pt, ix = ox * stride + kx - pl
                    let xv = (iy >= 0 && iy < h && ix >= 0 && ix < w) ? Int32(x[(iy * w + ix) * cin + i]) : Int32(pads[i])
                    acc += (xv - xz) * Int32(wt[o * kc + (ky * k + kx) * cin + i])
                }}}
                if y[(oy * ow + ox) * cout + o] != requantize(acc, scale: scale[o], zeroPoint: zp, qmin: -128, qmax: 127, lut: nil) { bad += 1 }
            }}}
            #expect(bad == 0, "\(isa) conv_hwc \(h)x\(w)x\(cin)→\(cout) k\(k) s\(stride) same \(same): \(bad) mismatches")
        }
    }
}
