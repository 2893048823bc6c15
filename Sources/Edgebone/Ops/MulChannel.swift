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
        let xq = x.quant!, gq = b.tensor(node.inputs[1]).quant!, yq = b.tensor(node.output).quant!
        let xp = UnsafePointer(b.pointer(node.inputs[0], as: Int8.self)), gp = UnsafePointer(b.pointer(node.inputs[1], as: Int8.self))
        let yp = b.pointer(node.output, as: Int8.self)
        let params = b.persist(value: eb_qs8_mulc_params(
            x_zero: xq.zeroPoint, g_zero: gq.zeroPoint, scale: Float(Double(xq.scale) * Double(gq.scale) / Double(yq.scale)),
            out: b.requantParams(node), flip: 0))
        let kernel = b.config.pointee.vmulc!
        return Step(parallel: b.parallel(x.elementCount, threshold: 65_536)) { part, parts in
            let r = partRange(part, of: parts, count: rows)
            guard !r.isEmpty else { return }
            kernel(r.count, c, xp + r.lowerBound * c, gp, yp + r.lowerBound * c, params)
        }
    }
}
