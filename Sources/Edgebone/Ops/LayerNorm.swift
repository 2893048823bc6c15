// layer_norm: y = (x − mean) / sqrt(var + ε) · γ + β over the last axis (f32). Constants weight [c]
// and bias [c]; attribute epsilon.
import CEdgeboneKernels

enum LayerNormOp: Operator {
    static func validate(_ node: Node, in graph: Graph) throws(GraphError) {
        try node.expectInputs(1)
        try node.allowAttributes(["epsilon"])
        let x = graph.tensors[node.inputs[0]], y = graph.tensors[node.output]
        guard try graph.sameType(node) == .f32 else { throw node.fail("runs in f32 only") }
        guard x.shape == y.shape, let c = x.shape.last else { throw node.fail("keeps the shape, has \(x.shape) → \(y.shape)") }
        guard let eps = node.attributes.epsilon, eps.isFinite, eps > 0, eps < 1 else { throw node.fail("needs an epsilon in (0, 1)") }
        let w = try graph.expectConstant(node, "weight", .f32, [c]), b = try graph.expectConstant(node, "bias", .f32, [c])
        guard w.floats.allSatisfy(\.isFinite), b.floats.allSatisfy(\.isFinite) else { throw node.fail("weight and bias must be finite") }
    }

    static func needs(_ node: Node, in graph: Graph, kernels: KernelSet) -> OpNeeds { OpNeeds(inPlace: true) }

    static func bind(_ node: Node, _ b: Binder) -> Step {
        let x = b.tensor(node.inputs[0]), c = x.shape.last!, rows = x.elementCount / c
        let xp = UnsafePointer(b.pointer(node.inputs[0], as: Float.self)), yp = b.pointer(node.output, as: Float.self)
        let w = b.persist(b.constant(node, "weight").floats), bias = b.persist(b.constant(node, "bias").floats)
        let eps = node.attributes.epsilon!, layerNorm = b.kernels.float.layerNorm
        return Step(parallel: b.parallel(x.elementCount, threshold: 65_536)) { part, parts in
            let r = partRange(part, of: parts, count: rows)
            guard !r.isEmpty else { return }
            layerNorm(xp + r.lowerBound * c, yp + r.lowerBound * c, r.count, c, w, bias, eps)
        }
    }
}
