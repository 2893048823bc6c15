// add: y = a + b, elementwise over tensors of one shape (residual connections).
// f32: plain add. qs8: each input rescaled to the output's scale, requantized once.
import CEdgeboneKernels

enum AddOp: Operator {
    static func validate(_ node: Node, in graph: Graph) throws(GraphError) {
        try node.expectInputs(2)
        try node.allowAttributes([])
        let a = graph.tensors[node.inputs[0]], b = graph.tensors[node.inputs[1]], y = graph.tensors[node.output]
        guard a.shape == y.shape, b.shape == y.shape else { throw node.fail("adds tensors of one shape, has \(a.shape) + \(b.shape) → \(y.shape)") }
        _ = try graph.sameType(node)
    }

    static func needs(_ node: Node, in graph: Graph, kernels: KernelSet) -> OpNeeds { OpNeeds() }

    static func bind(_ node: Node, _ b: Binder) -> Step {
        let y = b.tensor(node.output), n = y.elementCount
        if y.type == .f32 {
            let ap = UnsafePointer(b.pointer(node.inputs[0], as: Float.self)), bp = UnsafePointer(b.pointer(node.inputs[1], as: Float.self))
            let yp = b.pointer(node.output, as: Float.self)
            return Step { _, _ in eb_f32_vadd(ap, bp, yp, n) }
        }
        let add = rider(node, b)!, c = y.shape.last!
        // Split from 8K elements, as mul_channel (an unsplit add on two threads reads half its inputs
        // from the other core's cache: B0's nine adds 0.029 → 0.020 ms per frame on two threads).
        return Step(parallel: b.parallel(n, threshold: 8_192)) { part, parts in
            add.part(partRange(part, of: parts, count: n / c), part, parts)
        }
    }

    /// An int8 add of the output the node before it just wrote (a residual connection after its
    /// projection). Its output is a buffer of its own (no in-place), alive from the producer's step.
    static func mayRide(_ node: Node, after producer: Node, in graph: Graph) -> Bool {
        graph.tensors[node.output].type == .qs8 && node.inputs.contains(producer.output)
    }

    /// The qs8 add of whole positions (rows of channels): a split step's parts, or a producer's.
    static func rider(_ node: Node, _ b: Binder) -> PositionRider? {
        let y = b.tensor(node.output)
        guard y.type == .qs8, let c = y.shape.last else { return nil }
        let aq = b.tensor(node.inputs[0]).quant!, bq = b.tensor(node.inputs[1]).quant!, yq = y.quant!
        let ap = UnsafePointer(b.pointer(node.inputs[0], as: Int8.self)), bp = UnsafePointer(b.pointer(node.inputs[1], as: Int8.self))
        let yp = b.pointer(node.output, as: Int8.self)
        let params = b.persist(value: eb_qs8_add_params(
            a_zero: aq.zeroPoint, b_zero: bq.zeroPoint, a_scale: Float(Double(aq.scale) / Double(yq.scale)),
            b_scale: Float(Double(bq.scale) / Double(yq.scale)), out: b.requantParams(node)))
        let kernel = b.config.pointee.vadd!
        return PositionRider(part: { r, _, _ in
            guard !r.isEmpty else { return }
            kernel(r.count * c, ap + r.lowerBound * c, bp + r.lowerBound * c, yp + r.lowerBound * c, params)
        })
    }
}
