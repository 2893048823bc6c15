// mul_channel: y[…, j] = x[…, j] · gate[j], a per-channel scale (the squeeze-and-excite gate).
// x [h, w, c] (or any rank, channels last), gate [c].
import CEdgeboneKernels

enum MulChannelOp: Operator {
    static func validate(_ node: Node, in graph: Graph) throws(GraphError) {
        try node.expectInputs(2)
        try node.allowAttributes([])
        let x = graph.tensors[node.inputs[0]], g = graph.tensors[node.inputs[1]], y = graph.tensors[node.output]
        guard let c = x.shape.last, g.shape == [c], y.shape == x.shape else { throw node.fail("scales [..., c] by a [c] gate") }
        _ = try graph.sameType(node)
    }

    static func needs(_ node: Node, in graph: Graph, kernels: KernelSet) -> OpNeeds { OpNeeds() }

    static func bind(_ node: Node, _ b: Binder) -> Step {
        let x = b.tensor(node.inputs[0]), c = x.shape.last!, rows = x.elementCount / c
        if x.type == .f32 {
            let xp = UnsafePointer(b.pointer(node.inputs[0], as: Float.self)), gp = UnsafePointer(b.pointer(node.inputs[1], as: Float.self))
            let yp = b.pointer(node.output, as: Float.self)
            return Step { _, _ in eb_f32_mul_channels(xp, gp, yp, rows, c) }
        }
        let xp = UnsafePointer(b.pointer(node.inputs[0], as: Int8.self)), gp = UnsafePointer(b.pointer(node.inputs[1], as: Int8.self))
        let yp = b.pointer(node.output, as: Int8.self)
        let params = b.channelScaleParams(x: x.quant!, gate: b.tensor(node.inputs[1]).quant!, out: b.tensor(node.output).quant!, flip: false)
        let kernel = b.config.pointee.vmulc!
        // Split from 8K elements: a step left to the calling thread reads the half of x the other
        // thread wrote, from that core's cache (B0's 7×7×1152 scalings: 11 µs on two threads unsplit,
        // 8 µs on one thread; split, 8.5 µs, and 4.5 µs once the kernel's gate conversion lost its
        // division per channel).
        return Step(parallel: b.parallel(x.elementCount, threshold: 8_192)) { part, parts in
            let r = partRange(part, of: parts, count: rows)
            guard !r.isEmpty else { return }
            kernel(r.count, c, xp + r.lowerBound * c, gp, yp + r.lowerBound * c, params)
        }
    }
}

extension Binder {
    /// The channel-scaling kernel's parameters for x · gate rounded to `out`'s grid: what a mul_channel
    /// binds (it takes no attributes: no table, no clamp narrower than int8), and what a convolution
    /// that folded one in (`Attributes.gatedInput`) computes for its rows — unsigned when `flip`.
    func channelScaleParams(x: QuantParams, gate: QuantParams, out: QuantParams, flip: Bool) -> UnsafePointer<eb_qs8_mulc_params> {
        persist(value: eb_qs8_mulc_params(
            x_zero: x.zeroPoint, g_zero: gate.zeroPoint, scale: Float(Double(x.scale) * Double(gate.scale) / Double(out.scale)),
            out: eb_qs8_requant_params(zero_point: out.zeroPoint, qmin: -128, qmax: 127, lut: nil, steps: nil, shift: 0),
            flip: flip ? 1 : 0))
    }
}
