// A naive interpreter of one graph node: plain scalar loops over the definitions in Ops/, written to be
// obviously correct, not fast. int8 nodes follow the one requantization rule (fp32 multiply, clamp,
// round half to even, add the zero point, then the table if any), so they must match the runtime
// byte for byte; f32 nodes match up to summation order.
import Edgebone
#if canImport(Glibc)
import Glibc
#endif

/// Values of a tensor: floats for f32, the raw int8 codes for qs8.
enum RefTensor: Equatable {
    case f32([Float])
    case qs8([Int8])
    var floats: [Float] { if case let .f32(v) = self { return v }; fatalError("not f32") }
    var codes: [Int8] { if case let .qs8(v) = self { return v }; fatalError("not qs8") }
}

struct ReferenceInterpreter {
    let graph: Graph

    /// The one int8 requantization, for a value already multiplied by its scale.
    func requantize(_ v: Float, _ node: Node) -> Int8 {
        let out = graph.tensors[node.output].quant!
        let act = node.attributes.activation ?? Activation.none
        if let pre = node.attributes.preQuant {
            let half = Int32(1 << (node.attributes.gridBits - 1))
            let q = Int32((min(max(v, Float(-half - pre.zeroPoint)), Float(half - 1 - pre.zeroPoint))).rounded(.toNearestOrEven)) + pre.zeroPoint
            return out.quantize(act.apply(Float(q - pre.zeroPoint) * pre.scale))
        }
        var lo: Int32 = -128, hi: Int32 = 127
        if act == .relu || act == .relu6 { lo = Int32(out.quantize(0)) }
        if act == .relu6 { hi = Int32(out.quantize(6)) }
        let q = Int32((min(max(v, Float(lo - out.zeroPoint)), Float(hi - out.zeroPoint))).rounded(.toNearestOrEven)) + out.zeroPoint
        return Int8(q)
    }

    func target(_ node: Node) -> QuantParams { node.attributes.preQuant ?? graph.tensors[node.output].quant! }

    /// Per-output-channel requantization scale of a weighted int8 node, as the runtime computes it.
    func scales(_ node: Node, inputScale: Float) -> [Float] {
        graph.constant(node, "weight_scale")!.floats.map { Float(Double(inputScale) * Double($0) / Double(target(node).scale)) }
    }

    /// A gated 1×1 convolution's weights, bias and scales for this frame's gate (ConvOp): per row,
    /// t = w · g in float, beta = 127 / max|t| (bounded so that |bias| · beta ≤ 2^30), w' = round(t · beta),
    /// bias' = round(bias · beta), scale' = scale / beta.
    func foldGate(_ node: Node, _ gate: [Int8], _ w: [Int8], _ b: [Int32], _ sc: [Float], k: Int) -> ([Int8], [Int32], [Float]) {
        let gq = graph.tensors[node.inputs[1]].quant!
        let g = gate.map { Float(Int32($0) - gq.zeroPoint) * gq.scale }
        var w2 = w, b2 = b, sc2 = sc
        for r in 0..<b.count {
            let most = (0..<k).map { abs(Float(w[r * k + $0]) * g[$0]) }.max()!
            var beta = most > 0 ? 127.0 / Double(most) : 1.0
            if abs(Double(b[r])) * beta > 1_073_741_824 { beta = 1_073_741_824 / abs(Double(b[r])) }
            let fb = Float(beta)
            for j in 0..<k { w2[r * k + j] = Int8(min(max(Float(w[r * k + j]) * g[j] * fb, -127), 127).rounded(.toNearestOrEven)) }
            b2[r] = Int32((Double(b[r]) * Double(fb)).rounded(.toNearestOrEven))
            sc2[r] = sc[r] / fb
        }
        return (w2, b2, sc2)
    }

    func run(_ node: Node, _ inputs: [RefTensor]) -> RefTensor {
        let x = graph.tensors[node.inputs[0]], y = graph.tensors[node.output], a = node.attributes
        switch node.op {
        case .conv, .depthwise:
            let dw = node.op == .depthwise, k = a.kernel!
            let g = ConvGeometry(inH: x.shape[0], inW: x.shape[1], kernel: k, stride: a.stride!, padding: a.padding!)
            let cin = x.shape[2], cout = y.shape[2]
            // Reads tap (iy, ix, c), or what the padding holds outside the map.
            func conv(_ value: (Int, Int, Int) -> Double?, weight: (Int, Int, Int) -> Double, pad: (Int) -> Double) -> [Double] {
                var out = [Double](repeating: 0, count: y.elementCount)
                for oy in 0..<g.outH { for ox in 0..<g.outW { for o in 0..<cout {
                    var s = 0.0
                    for ky in 0..<k { for kx in 0..<k {
                        let iy = oy * g.stride + ky - g.padTop, ix = ox * g.stride + kx - g.padLeft
                        for c in (dw ? o..<(o + 1) : 0..<cin) {
                            let v = (iy >= 0 && iy < g.inH && ix >= 0 && ix < g.inW) ? value(iy, ix, c)! : pad(c)
                            s += v * weight(o, ky * k + kx, c)
                        }
                    } }
                    out[(oy * g.outW + ox) * cout + o] = s
                } } }
                return out
            }
            if x.type == .f32 {
                let v = inputs[0].floats, w = graph.constant(node, "weight")!.floats, b = graph.constant(node, "bias")!.floats
                let s = conv({ Double(v[($0 * g.inW + $1) * cin + $2]) },
                             weight: { o, t, c in Double(dw ? w[t * cin + c] : w[(o * k * k + t) * cin + c]) }, pad: { _ in 0 })
                return .f32(s.enumerated().map { (a.activation ?? Activation.none).apply(Float($1 + Double(b[$0 % cout]))) })
            }
            let xq = x.quant!, v = inputs[0].codes
            var w = graph.constant(node, "weight")!.int8, b = graph.constant(node, "bias")!.int32
            var sc = scales(node, inputScale: xq.scale)
            if node.inputs.count == 2 { (w, b, sc) = foldGate(node, inputs[1].codes, w, b, sc, k: cin) }
            let pads = dw ? nil : graph.constant(node, "pad")?.int8
            let acc = conv({ Double(Int32(v[($0 * g.inW + $1) * cin + $2]) - xq.zeroPoint) },
                           weight: { o, t, c in Double(dw ? w[t * cin + c] : w[(o * k * k + t) * cin + c]) },
                           pad: { c in pads.map { Double(Int32($0[c]) - xq.zeroPoint) } ?? 0 })
            if a.shiftRequant == true {
                // q = floor((acc + bias + 2^(e−1)) / 2^e) for scale 2^-e: rounded, ties up; then the same clamp or table.
                return .qs8(acc.enumerated().map { i, s in
                    let e = -(Double(sc[i % cout]) * 2.0.squareRoot()).exponent, t = Int64(s) + Int64(b[i % cout])
                    let q = e == 0 ? t : Int64((Double(t + (1 << (e - 1))) / Double(1 << e)).rounded(.down))
                    return requantize(Float(q), node)
                })
            }
            return .qs8(acc.enumerated().map { requantize(Float(Int32($1) + b[$0 % cout]) * sc[$0 % cout], node) })
        case .linear:
            let k = x.shape.last!, n = y.shape.last!, rows = x.elementCount / k
            if x.type == .f32 {
                let v = inputs[0].floats, w = graph.constant(node, "weight")!.floats, b = graph.constant(node, "bias")!.floats
                return .f32((0..<(rows * n)).map { i in
                    let r = i / n, j = i % n
                    var s = Double(b[j])
                    for t in 0..<k { s += Double(v[r * k + t]) * Double(w[j * k + t]) }
                    return (a.activation ?? Activation.none).apply(Float(s))
                })
            }
            let xq = x.quant!, v = inputs[0].codes, w = graph.constant(node, "weight")!.int8, b = graph.constant(node, "bias")!.int32
            func acc(_ r: Int, _ j: Int) -> Int32 {
                var s = b[j]
                for t in 0..<k { s += (Int32(v[r * k + t]) - xq.zeroPoint) * Int32(w[j * k + t]) }
                return s
            }
            if y.type == .f32 {
                let ws = graph.constant(node, "weight_scale")!.floats
                return .f32((0..<n).map { Float(acc(0, $0)) * Float(Double(ws[$0]) * Double(xq.scale)) })
            }
            let sc = scales(node, inputScale: xq.scale)
            return .qs8((0..<(rows * n)).map { i in requantize(Float(acc(i / n, i % n)) * sc[i % n], node) })
        case .add:
            if y.type == .f32 { return .f32(zip(inputs[0].floats, inputs[1].floats).map { $0 + $1 }) }
            let aq = x.quant!, bq = graph.tensors[node.inputs[1]].quant!, yq = y.quant!
            let sa = Float(Double(aq.scale) / Double(yq.scale)), sb = Float(Double(bq.scale) / Double(yq.scale))
            return .qs8(zip(inputs[0].codes, inputs[1].codes).map { p, q in
                let ta = Float(Int32(p) - aq.zeroPoint) * sa, tb = Float(Int32(q) - bq.zeroPoint) * sb
                return requantize(ta + tb, node)
            })
        case .mulChannel:
            let c = x.shape.last!
            if y.type == .f32 { let gate = inputs[1].floats; return .f32(inputs[0].floats.enumerated().map { $1 * gate[$0 % c] }) }
            let xq = x.quant!, gq = graph.tensors[node.inputs[1]].quant!, gate = inputs[1].codes
            let s = Float(Double(xq.scale) * Double(gq.scale) / Double(y.quant!.scale))
            return .qs8(inputs[0].codes.enumerated().map { i, v in
                requantize(Float((Int32(v) - xq.zeroPoint) * (Int32(gate[i % c]) - gq.zeroPoint)) * s, node)
            })
        case .globalAvgPool:
            let c = x.shape[2], rows = x.shape[0] * x.shape[1]
            if y.type == .f32 {
                let v = inputs[0].floats
                return .f32((0..<c).map { j in Float((0..<rows).reduce(0.0) { $0 + Double(v[$1 * c + j]) } / Double(rows)) })
            }
            let xq = x.quant!, v = inputs[0].codes
            let s = Float(Double(xq.scale) / (Double(rows) * Double(target(node).scale)))
            return .qs8((0..<c).map { j in
                requantize(Float((0..<rows).reduce(Int32(0)) { $0 + Int32(v[$1 * c + j]) - xq.zeroPoint }) * s, node)
            })
        case .activation:
            let f = a.activation!
            if y.type == .f32 { return .f32(inputs[0].floats.map(f.apply)) }
            return .qs8(inputs[0].codes.map { y.quant!.quantize(f.apply(x.quant!.dequantize($0))) })
        case .squeezeExcite:
            let v = inputs[0].floats, c = x.shape[2], rows = x.shape[0] * x.shape[1]
            let wr = graph.constant(node, "reduce_weight")!.floats, br = graph.constant(node, "reduce_bias")!.floats
            let we = graph.constant(node, "expand_weight")!.floats, be = graph.constant(node, "expand_bias")!.floats
            let rd = br.count
            var mean = [Double](repeating: 0, count: c)
            for j in 0..<c { for row in 0..<rows { mean[j] += Double(v[row * c + j]) }; mean[j] /= Double(rows) }
            var r = [Float](repeating: 0, count: rd)
            for i in 0..<rd {
                var s = Double(br[i])
                for j in 0..<c { s += Double(wr[i * c + j]) * mean[j] }
                r[i] = a.innerActivation!.apply(Float(s))
            }
            var gate = [Float](repeating: 0, count: c)
            for j in 0..<c {
                var s = Double(be[j])
                for i in 0..<rd { s += Double(we[j * rd + i]) * Double(r[i]) }
                gate[j] = Activation.sigmoid.apply(Float(s))
            }
            var out = v
            for i in out.indices { out[i] *= gate[i % c] }
            return .f32(out)
        case .layerNorm:
            let v = inputs[0].floats, c = x.shape.last!, w = graph.constant(node, "weight")!.floats, b = graph.constant(node, "bias")!.floats
            var out = v
            for r in 0..<(v.count / c) {
                let row = v[(r * c)..<((r + 1) * c)].map(Double.init)
                let mean = row.reduce(0, +) / Double(c)
                let variance = row.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(c)
                for j in 0..<c { out[r * c + j] = Float((row[j] - mean) / (variance + Double(a.epsilon!)).squareRoot()) * w[j] + b[j] }
            }
            return .f32(out)
        case .windowPartition, .windowReverse:
            let map = node.op == .windowPartition ? x : y
            let h = map.shape[0], w = map.shape[1], c = map.shape[2], ws = a.window!, s = a.shift!
            var perm = [Int](repeating: 0, count: h * w)  // token index → pixel index
            for oy in 0..<h { for ox in 0..<w {
                let token = ((oy / ws) * (w / ws) + ox / ws) * ws * ws + (oy % ws) * ws + ox % ws
                perm[token] = ((oy + s) % h) * w + (ox + s) % w
            } }
            func move<T>(_ v: [T]) -> [T] {
                var out = v
                for t in 0..<(h * w) { for j in 0..<c {
                    if node.op == .windowPartition { out[t * c + j] = v[perm[t] * c + j] } else { out[perm[t] * c + j] = v[t * c + j] }
                } }
                return out
            }
            if case let .f32(v) = inputs[0] { return .f32(move(v)) }
            return .qs8(move(inputs[0].codes))
        case .patchMerge:
            let h = x.shape[0], w = x.shape[1], c = x.shape[2]
            func gather<T>(_ v: [T]) -> [T] {
                var out = v
                for oy in 0..<(h / 2) { for ox in 0..<(w / 2) { for dx in 0..<2 { for dy in 0..<2 { for j in 0..<c {
                    out[((oy * (w / 2) + ox) * 4 + dx * 2 + dy) * c + j] = v[((2 * oy + dy) * w + 2 * ox + dx) * c + j]
                } } } } }
                return out
            }
            if case let .f32(v) = inputs[0] { return .f32(gather(v)) }
            return .qs8(gather(inputs[0].codes))
        case .attention:
            let v = inputs[0].floats, n = a.tokens!, heads = a.heads!, c = y.shape[1], d = c / heads, windows = y.shape[0] / n
            let scale = graph.constant(node, "logit_scale")!.floats, bias = graph.constant(node, "position_bias")!.floats
            let mask = graph.constant(node, "mask")?.floats
            var out = [Float](repeating: 0, count: y.elementCount)
            func vec(_ win: Int, _ i: Int, _ part: Int, _ h: Int) -> [Double] {
                (0..<d).map { Double(v[(win * n + i) * 3 * c + part * c + h * d + $0]) }
            }
            func unit(_ u: [Double]) -> [Double] { let norm = max(u.map { $0 * $0 }.reduce(0, +).squareRoot(), 1e-12); return u.map { $0 / norm } }
            for win in 0..<windows { for h in 0..<heads { for i in 0..<n {
                let q = unit(vec(win, i, 0, h))
                var logits = (0..<n).map { j -> Double in
                    let k = unit(vec(win, j, 1, h))
                    var s = zip(q, k).map { $0 * $1 }.reduce(0, +) * Double(scale[h]) + Double(bias[(h * n + i) * n + j])
                    if let mask { s += Double(mask[(win * n + i) * n + j]) }
                    return s
                }
                let mx = logits.max()!
                logits = logits.map { Glibc.exp($0 - mx) }
                let total = logits.reduce(0, +)
                for e in 0..<d {
                    var acc = 0.0
                    for j in 0..<n {
                        let value = Double(v[(win * n + j) * 3 * c + 2 * c + h * d + e])
                        acc += logits[j] / total * value
                    }
                    out[(win * n + i) * c + h * d + e] = Float(acc)
                }
            } } }
            return .f32(out)
        case .quantize:
            return .qs8(inputs[0].floats.map { y.quant!.quantize($0) })
        case .dequantize:
            return .f32(inputs[0].codes.map { x.quant!.dequantize($0) })
        }
    }
}
