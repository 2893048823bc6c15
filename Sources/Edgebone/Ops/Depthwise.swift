// depthwise: k×k convolution of each channel on its own, [h, w, c] → [oh, ow, c], with an optional
// activation in its epilogue. Weights [k·k, c] (tap-major), bias [c].
// f32: any kernel 1…7 (register-blocked rows for 3 and 5). qs8: kernels 3 and 5 — every int8
// depthwise kernel keeps its taps in fixed arrays sized for 5×5 — per-channel symmetric weights.
import CEdgeboneKernels

enum DepthwiseOp: Operator {
    static func validate(_ node: Node, in graph: Graph) throws(GraphError) {
        try node.expectInputs(1)
        try node.allowAttributes(["kernel", "stride", "padding", "activation", "preQuant", "tableBits", "shiftRequant"])
        let x = graph.tensors[node.inputs[0]], y = graph.tensors[node.output], a = node.attributes
        let type = try graph.sameType(node)
        let kernels = type == .qs8 ? [3, 5] : Array(1...7)
        guard let k = a.kernel, kernels.contains(k), let s = a.stride, (1...2).contains(s), let padding = a.padding else {
            throw node.fail("needs kernel \(type == .qs8 ? "3 or 5" : "1…7"), stride 1 or 2 and a padding mode")
        }
        guard x.shape.count == 3, y.shape.count == 3, x.shape[2] == y.shape[2] else { throw node.fail("needs [h, w, c] input and output of the same channels") }
        let g = ConvGeometry(inH: x.shape[0], inW: x.shape[1], kernel: k, stride: s, padding: padding)
        guard g.outH > 0, g.outW > 0, y.shape[0] == g.outH, y.shape[1] == g.outW else {
            throw node.fail("output \(y.shape) does not match the geometry (\(g.outH)x\(g.outW))")
        }
        let c = x.shape[2]
        switch type {
        case .f32:
            try graph.checkFloatEpilogue(node)
            let w = try graph.expectConstant(node, "weight", .f32, [k * k, c]), b = try graph.expectConstant(node, "bias", .f32, [c])
            guard w.floats.allSatisfy(\.isFinite), b.floats.allSatisfy(\.isFinite) else { throw node.fail("weights and bias must be finite") }
        case .qs8:
            try graph.expectQuantizedWeights(node, shape: [k * k, c], channels: c)
            try graph.checkQuantizedEpilogue(node)
            _ = try graph.shiftCounts(node, inputScale: x.quant!.scale)
        }
    }

    static func needs(_ node: Node, in graph: Graph, kernels: KernelSet) -> OpNeeds { OpNeeds() }

    static func bind(_ node: Node, _ b: Binder) -> Step {
        let x = b.tensor(node.inputs[0]), a = node.attributes
        let g = ConvGeometry(inH: x.shape[0], inW: x.shape[1], kernel: a.kernel!, stride: a.stride!, padding: a.padding!)
        let c = x.shape[2], k = g.kernel
        if x.type == .f32 {
            let xp = UnsafePointer(b.pointer(node.inputs[0], as: Float.self)), yp = b.pointer(node.output, as: Float.self)
            let w = b.persist(b.constant(node, "weight").floats), bias = b.persist(b.constant(node, "bias").floats)
            let act = (a.activation ?? Activation.none).cValue, dw = b.kernels.float.dwconv
            return Step { _, _ in dw(xp, g.inH, g.inW, c, w, bias, k, g.stride, g.padTop, g.padLeft, yp, g.outH, g.outW, act) }
        }
        let xq = x.quant!
        let xp = UnsafePointer(b.pointer(node.inputs[0], as: Int8.self)), yp = b.pointer(node.output, as: Int8.self)
        var pk = b.config.pointee.dwconv_packing
        var packed = [UInt8](repeating: 0, count: eb_qs8_dwconv_packed_size(&pk, c, k * k))
        let (bias, slots, tableZeroPoint) = b.requantSlots(node, inputScale: xq.scale)
        eb_qs8_dwconv_pack(&pk, c, k * k, b.constant(node, "weight").int8, bias, slots, xq.zeroPoint, &packed)
        let weights = packed.withUnsafeBytes { b.persist($0) }
        let zero = b.persist([Int8](repeating: Int8(xq.zeroPoint), count: c + Int(EB_EXTRA_BYTES)))
        let params = b.persist(value: b.requantParams(node, tableZeroPoint: tableZeroPoint))
        let kernel = b.config.pointee.dwconv!
        // Depthwise runs about ten times fewer multiply-adds per second than the GEMM, so a tenth of
        // the GEMM's threshold pays for the hand-off (B0's 14×14 and 7×7 layers: 20–40 µs each).
        let rowsOf = { (part: Int, parts: Int) in partRange(part, of: parts, count: g.outH) }
        var step = Step(parallel: b.parallel(b.graph.tensors[node.output].elementCount * k * k, threshold: 100_000)) { part, parts in
            let rows = rowsOf(part, parts)
            guard !rows.isEmpty else { return }
            kernel(xp, g.inH, g.inW, c, weights, k, g.stride, g.padTop, g.padLeft, yp, g.outH, g.outW, rows.lowerBound, rows.upperBound, zero, params)
        }
        step.positions = { part, parts in
            let rows = rowsOf(part, parts)
            return rows.lowerBound * g.outW..<rows.upperBound * g.outW
        }
        return step
    }
}
