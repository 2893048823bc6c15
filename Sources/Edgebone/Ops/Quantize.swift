// quantize: f32 → qs8 at a precision boundary, y = clamp(rint(x / s) + z). Same shape.
import CEdgeboneKernels

enum QuantizeOp: Operator {
    static func validate(_ node: Node, in graph: Graph) throws(GraphError) {
        try node.expectInputs(1)
        try node.allowAttributes([])
        let x = graph.tensors[node.inputs[0]], y = graph.tensors[node.output]
        guard x.type == .f32, y.type == .qs8, x.shape == y.shape else { throw node.fail("turns an f32 tensor into a qs8 one of the same shape") }
    }

    static func needs(_ node: Node, in graph: Graph, kernels: KernelSet) -> OpNeeds { OpNeeds() }

    static func bind(_ node: Node, _ b: Binder) -> Step {
        let y = b.tensor(node.output), n = y.elementCount, q = y.quant!
        let xp = UnsafePointer(b.pointer(node.inputs[0], as: Float.self)), yp = b.pointer(node.output, as: Int8.self)
        let quantize = b.kernels.float.quantize
        return Step(parallel: b.parallel(n, threshold: 65_536)) { part, parts in
            let r = partRange(part, of: parts, count: n, granule: 64)
            guard !r.isEmpty else { return }
            quantize(xp + r.lowerBound, yp + r.lowerBound, r.count, q.scale, q.zeroPoint)
        }
    }
}
