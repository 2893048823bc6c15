// dequantize: qs8 → f32 at a precision boundary, y = (x − z) · s. Same shape.
import CEdgeboneKernels

enum DequantizeOp: Operator {
    static func validate(_ node: Node, in graph: Graph) throws(GraphError) {
        try node.expectInputs(1)
        try node.allowAttributes([])
        let x = graph.tensors[node.inputs[0]], y = graph.tensors[node.output]
        guard x.type == .qs8, y.type == .f32, x.shape == y.shape else { throw node.fail("turns a qs8 tensor into an f32 one of the same shape") }
    }

    static func needs(_ node: Node, in graph: Graph, kernels: KernelSet) -> OpNeeds { OpNeeds() }

    static func bind(_ node: Node, _ b: Binder) -> Step {
        let x = b.tensor(node.inputs[0]), n = x.elementCount, q = x.quant!
        let xp = UnsafePointer(b.pointer(node.inputs[0], as: Int8.self)), yp = b.pointer(node.output, as: Float.self)
        let dequantize = b.kernels.float.dequantize
        return Step(parallel: b.parallel(n, threshold: 65_536)) { part, parts in
            let r = partRange(part, of: parts, count: n, granule: 64)
            guard !r.isEmpty else { return }
            dequantize(xp + r.lowerBound, yp + r.lowerBound, r.count, q.scale, q.zeroPoint)
        }
    }
}
