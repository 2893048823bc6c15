// conv: dense k×k convolution over an [h, w, cin] feature map into [oh, ow, cout], with an optional
// activation in its epilogue. Weights [cout, k·k·cin] in (ky, kx, cin) order.
// f32: 1×1 as one sgemm, few input channels (the stem) direct, the rest im2col + sgemm (OpenBLAS).
// qs8: 1×1 stride 1 as the int8 GEMM, k×k through patch gathering into the same GEMM; per-channel
// int8 weights, int32 bias, NODE.pad [cin] = the value the padding reads.
// Gated (qs8, 1×1 stride 1, a second input gate [cin]): the convolution of x · gate, with the gate
// folded into the weights once per frame (eb_qs8_gate_fold) — a squeeze-and-excite scaling whose
// product is never rounded to int8 and never written out. The quantizer makes these. With
// `gatedInput` (a mul_channel folded in at load), the product is rounded to that grid, as the
// mul_channel would, but each part computes it for its own rows into its GEMM's copy of them.
import CEdgeboneKernels
import COpenBLAS

enum ConvOp: Operator {
    static func geometry(_ node: Node, _ graph: Graph) -> ConvGeometry {
        let x = graph.tensors[node.inputs[0]].shape, a = node.attributes
        return ConvGeometry(inH: x[0], inW: x[1], kernel: a.kernel!, stride: a.stride!, padding: a.padding!)
    }
    static func isPointwise(_ node: Node) -> Bool { node.attributes.kernel == 1 && node.attributes.stride == 1 }
    /// Few input channels: a direct convolution beats im2col + GEMM (float only).
    static func isDirect(_ node: Node, _ graph: Graph) -> Bool { node.attributes.kernel! > 1 && graph.tensors[node.inputs[0]].shape[2] <= 4 }

    static func validate(_ node: Node, in graph: Graph) throws(GraphError) {
        guard node.inputs.count == 1 || node.inputs.count == 2 else { throw node.fail("expects an input and an optional gate, has \(node.inputs.count) inputs") }
        try node.allowAttributes(["kernel", "stride", "padding", "activation", "preQuant", "tableBits", "shiftRequant", "gatedInput"])
        let x = graph.tensors[node.inputs[0]], y = graph.tensors[node.output], a = node.attributes
        guard let k = a.kernel, (1...7).contains(k), let s = a.stride, (1...4).contains(s), s <= k || k == 1, a.padding != nil else {
            throw node.fail("needs kernel 1…7, stride 1…4 (at most the kernel) and a padding mode")
        }
        guard x.shape.count == 3, y.shape.count == 3 else { throw node.fail("needs [h, w, c] input and output") }
        let g = geometry(node, graph)
        guard g.outH > 0, g.outW > 0, y.shape[0] == g.outH, y.shape[1] == g.outW else {
            throw node.fail("output \(y.shape) does not match the geometry (\(g.outH)x\(g.outW))")
        }
        let cin = x.shape[2], cout = y.shape[2]
        switch try graph.sameType(node) {
        case .f32:
            guard node.inputs.count == 1 else { throw node.fail("a gate is folded into int8 weights only (qs8)") }
            try graph.checkFloatEpilogue(node)
            try graph.expectFloatWeights(node, rows: cout, k: k * k * cin)
        case .qs8:
            if node.inputs.count == 2 {
                guard isPointwise(node), graph.tensors[node.inputs[1]].shape == [cin] else { throw node.fail("a gate needs a 1×1 stride-1 convolution and shape [\(cin)]") }
            }
            try graph.expectQuantizedWeights(node, rows: cout, k: k * k * cin)
            if !isPointwise(node) { try graph.expectConstant(node, "pad", .i8, [cin]) }
            try graph.checkQuantizedEpilogue(node)
            let gated = node.attributes.gatedInput
            if gated != nil && node.inputs.count != 2 { throw node.fail("gatedInput needs a gate input") }
            if node.attributes.shiftRequant == true && node.inputs.count == 2 && gated == nil { throw node.fail("shiftRequant: a gated convolution's scales change every frame") }
            _ = try graph.shiftCounts(node, inputScale: (gated ?? x.quant!).scale)
        }
    }

    static func needs(_ node: Node, in graph: Graph, kernels: KernelSet) -> OpNeeds {
        let x = graph.tensors[node.inputs[0]], y = graph.tensors[node.output], k = node.attributes.kernel!
        switch x.type {
        case .f32:
            if isPointwise(node) || isDirect(node, graph) { return OpNeeds() }
            return OpNeeds(scratch: [4 * y.shape[0] * y.shape[1] * k * k * x.shape[2]])
        case .qs8:
            let m = x.shape[0] * x.shape[1], cin = x.shape[2]
            if node.attributes.gatedInput != nil { return OpNeeds(scratch: [m * cin]) }  // the product, or its unsigned copy
            if isPointwise(node) { return OpNeeds(scratch: Binder.gemmScratch(m: m, k: cin, kernels: kernels)) }
            var cfg = kernels.config.pointee
            return OpNeeds(scratch: [eb_qs8_conv_hwc_scratch_size(&cfg, k, x.shape[2]) * kernels.tiles])
        }
    }

    static func bind(_ node: Node, _ b: Binder) -> Step {
        let x = b.tensor(node.inputs[0]), y = b.tensor(node.output), g = geometry(node, b.graph)
        let cin = x.shape[2], cout = y.shape[2], k = g.kernel
        if x.type == .qs8 { return bindQuantized(node, b, g: g, cin: cin, cout: cout) }
        let xp = UnsafePointer(b.pointer(node.inputs[0], as: Float.self)), yp = b.pointer(node.output, as: Float.self)
        let bias = b.persist(b.constant(node, "bias").floats), act = (node.attributes.activation ?? Activation.none).cValue
        let weights = b.constant(node, "weight").floats
        let fk = b.kernels.float
        if isDirect(node, b.graph) {
            // Repacked once to HWIO for the direct kernel.
            var hwio = [Float](repeating: 0, count: weights.count)
            for o in 0..<cout { for r in 0..<(k * k) { for i in 0..<cin { hwio[(r * cin + i) * cout + o] = weights[(o * k * k + r) * cin + i] } } }
            let w = b.persist(hwio)
            return Step { _, _ in fk.convHWIO(xp, g.inH, g.inW, cin, w, bias, cout, k, g.stride, g.padTop, g.padLeft, yp, g.outH, g.outW, act) }
        }
        let w = b.persist(weights)
        let m = Int32(g.outH * g.outW), n = Int32(cout), kk = Int32(k * k * cin)
        if isPointwise(node) {
            return Step { _, _ in
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, kk, 1, xp, kk, w, kk, 0, yp, n)
                fk.biasAct(yp, Int(m), Int(n), bias, act)
            }
        }
        let col = b.scratch(0, as: Float.self)
        return Step { _, _ in
            eb_f32_im2col(xp, g.inH, g.inW, cin, g.kernel, g.stride, g.padTop, g.padLeft, col, g.outH, g.outW)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, kk, 1, col, kk, w, kk, 0, yp, n)
            fk.biasAct(yp, Int(m), Int(n), bias, act)
        }
    }

    private static func bindQuantized(_ node: Node, _ b: Binder, g: ConvGeometry, cin: Int, cout: Int) -> Step {
        if node.inputs.count == 2 && node.attributes.gatedInput == nil { return bindGated(node, b, m: g.outH * g.outW, cin: cin, cout: cout) }
        let xq = node.attributes.gatedInput ?? b.tensor(node.inputs[0]).quant!
        let xp = UnsafePointer(b.pointer(node.inputs[0], as: Int8.self)), yp = b.pointer(node.output, as: Int8.self)
        let (packed, params) = b.packGEMM(node, n: cout, k: g.kernel * g.kernel * cin, input: xq)
        if isPointwise(node) {
            let m = g.outH * g.outW
            if let gq = node.attributes.gatedInput {
                // The folded mul_channel's own parameters, flipped where the GEMM takes unsigned rows.
                let gate = GEMMInputGate(
                    gate: UnsafePointer(b.pointer(node.inputs[1], as: Int8.self)),
                    params: b.channelScaleParams(x: b.tensor(node.inputs[0]).quant!, gate: b.tensor(node.inputs[1]).quant!, out: gq,
                                                 flip: b.config.pointee.gemm_packing.a_xor != 0),
                    product: b.scratch(0, as: Int8.self))
                return b.gemmStep(a: xp, m: m, k: cin, n: cout, packed: packed, c: yp, params: params, xorScratch: nil, gate: gate)
            }
            let xor = Binder.gemmScratch(m: m, k: cin, kernels: b.kernels).isEmpty ? nil : b.scratch(0, as: UInt8.self)
            return b.gemmStep(a: xp, m: m, k: cin, n: cout, packed: packed, c: yp, params: params, xorScratch: xor)
        }
        let pads = b.persist(b.constant(node, "pad").int8)
        let config = b.config
        var cfg = config.pointee
        let slice = eb_qs8_conv_hwc_scratch_size(&cfg, g.kernel, cin)
        let patches = b.scratch(0, as: Int8.self)
        return Step(parallel: b.parallel(b.graph.tensors[node.output].elementCount * g.kernel * g.kernel * cin, threshold: 1_000_000)) { part, parts in
            let rows = partRange(part, of: parts, count: g.outH)
            guard !rows.isEmpty else { return }
            // Each part gathers into its own slice of the patch scratch.
            eb_qs8_conv_hwc(config, xp, g.inH, g.inW, cin, cout, packed, g.kernel, g.stride, g.padTop, g.padLeft, yp, g.outH, g.outW,
                            rows.lowerBound, rows.upperBound, pads, patches + part * slice, params)
        }
    }

    /// The gated 1×1 convolution: each frame folds the gate into the weights (bias and scales follow) and
    /// packs them for this ISA's GEMM, in storage made at load, then runs the GEMM on x.
    private static func bindGated(_ node: Node, _ b: Binder, m: Int, cin: Int, cout: Int) -> Step {
        let xq = b.tensor(node.inputs[0]).quant!, gq = b.tensor(node.inputs[1]).quant!
        let xp = UnsafePointer(b.pointer(node.inputs[0], as: Int8.self)), yp = b.pointer(node.output, as: Int8.self)
        let gp = UnsafePointer(b.pointer(node.inputs[1], as: Int8.self))
        let w = b.persist(b.constant(node, "weight").int8), bias = b.persist(b.constant(node, "bias").int32)
        let scales = b.persist(b.requantScales(node, inputScale: xq.scale))
        var pk = b.config.pointee.gemm_packing
        let packedSize = eb_qs8_gemm_packed_size(&pk, cout, cin)
        // Per-frame storage, made once: folded weights, bias, scales, the gate as floats, the packing.
        let folded = UnsafeMutablePointer(mutating: b.persist([Int8](repeating: 0, count: cout * cin)))
        let foldedBias = UnsafeMutablePointer(mutating: b.persist([Int32](repeating: 0, count: cout)))
        let foldedScales = UnsafeMutablePointer(mutating: b.persist([Float](repeating: 0, count: cout)))
        let gates = UnsafeMutablePointer(mutating: b.persist([Float](repeating: 0, count: cin)))
        let packed = UnsafeMutableRawPointer(mutating: b.persist([UInt8](repeating: 0, count: packedSize)))
        let params = b.persist(value: b.requantParams(node))
        let xor = Binder.gemmScratch(m: m, k: cin, kernels: b.kernels).isEmpty ? nil : b.scratch(0, as: UInt8.self)
        var step = b.gemmStep(a: xp, m: m, k: cin, n: cout, packed: UnsafeRawPointer(packed), c: yp, params: params, xorScratch: xor)
        let gateZero = gq.zeroPoint, gateScale = gq.scale, xZero = xq.zeroPoint
        step.prepare = {
            eb_qs8_gate_fold(cout, cin, w, bias, scales, gp, gateZero, gateScale, gates, folded, foldedBias, foldedScales)
            eb_qs8_gemm_pack(&pk, cout, cin, folded, foldedBias, foldedScales, xZero, packed)
        }
        return step
    }
}
