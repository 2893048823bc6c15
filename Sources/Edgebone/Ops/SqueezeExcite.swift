// squeeze_excite (f32): x · sigmoid(W_e · act(W_r · mean(x) + b_r) + b_e) per channel, in one kernel
// over an [h, w, c] map. Made by the fusion pass from pool → linear → act → linear → sigmoid →
// mul_channel; int8 graphs keep those ops apart. Constants: reduce_weight [rd, c], reduce_bias [rd],
// expand_weight [c, rd], expand_bias [c].
import CEdgeboneKernels

enum SqueezeExciteOp: Operator {
    static func validate(_ node: Node, in graph: Graph) throws(GraphError) {
        try node.expectInputs(1)
        try node.allowAttributes(["innerActivation"])
        let x = graph.tensors[node.inputs[0]], y = graph.tensors[node.output]
        guard try graph.sameType(node) == .f32 else { throw node.fail("runs in f32 only (int8 graphs keep its parts apart)") }
        guard x.shape.count == 3, y.shape == x.shape else { throw node.fail("needs [h, w, c] input and output of one shape") }
        guard let act = node.attributes.innerActivation, act != .none, act.fusableInFloat else { throw node.fail("needs the activation after its reduce layer") }
        let c = x.shape[2]
        guard let rd = graph.constant(node, "reduce_bias")?.elementCount, (1...Graph.maxDimension).contains(rd) else {
            throw node.fail("missing or empty constant '\(node.constantName("reduce_bias"))'")
        }
        for (role, shape) in [("reduce_weight", [rd, c]), ("reduce_bias", [rd]), ("expand_weight", [c, rd]), ("expand_bias", [c])] {
            let v = try graph.expectConstant(node, role, .f32, shape)
            guard v.floats.allSatisfy(\.isFinite) else { throw node.fail("constant '\(node.constantName(role))' must be finite") }
        }
    }

    static func needs(_ node: Node, in graph: Graph, kernels: KernelSet) -> OpNeeds {
        let c = graph.tensors[node.output].shape[2], rd = graph.constant(node, "reduce_bias")!.elementCount
        return OpNeeds(scratch: [4 * (2 * c + rd)], inPlace: true)
    }

    static func bind(_ node: Node, _ b: Binder) -> Step {
        let x = b.tensor(node.inputs[0]), rows = x.shape[0] * x.shape[1], c = x.shape[2], n = x.elementCount
        let rd = b.constant(node, "reduce_bias").elementCount
        let wr = b.persist(b.constant(node, "reduce_weight").floats), br = b.persist(b.constant(node, "reduce_bias").floats)
        let we = b.persist(b.constant(node, "expand_weight").floats), be = b.persist(b.constant(node, "expand_bias").floats)
        let xp = UnsafePointer(b.pointer(node.inputs[0], as: Float.self)), yp = b.pointer(node.output, as: Float.self)
        let scratch = b.scratch(0, as: Float.self), copy = !b.outputInPlace
        let se = b.kernels.float.squeezeExcite, act = node.attributes.innerActivation!.cValue
        return Step { _, _ in
            if copy { yp.update(from: xp, count: n) }
            se(yp, rows, c, wr, br, rd, we, be, act, scratch)
        }
    }
}
