// activation: y = f(x) elementwise, for relu, relu6, silu, sigmoid and gelu where no producer's epilogue
// could take it (the fusion pass folds it into conv, depthwise and linear whenever it can).
// f32: in place when the planner allows. qs8: a 256-entry table from the input and output
// quantization, built at load.
import CEdgeboneKernels

enum ActivationOp: Operator {
    static func validate(_ node: Node, in graph: Graph) throws(GraphError) {
        try node.expectInputs(1)
        try node.allowAttributes(["activation"])
        guard node.attributes.activation != nil else { throw node.fail("needs its activation function") }
        let x = graph.tensors[node.inputs[0]], y = graph.tensors[node.output]
        guard x.shape == y.shape else { throw node.fail("keeps the shape, has \(x.shape) → \(y.shape)") }
        _ = try graph.sameType(node)
    }

    static func needs(_ node: Node, in graph: Graph, kernels: KernelSet) -> OpNeeds { OpNeeds(inPlace: true) }

    static func bind(_ node: Node, _ b: Binder) -> Step {
        let x = b.tensor(node.inputs[0]), n = x.elementCount, act = node.attributes.activation!
        if x.type == .f32 {
            let xp = UnsafePointer(b.pointer(node.inputs[0], as: Float.self)), yp = b.pointer(node.output, as: Float.self)
            let copy = !b.outputInPlace, biasAct = b.kernels.float.biasAct, a = act.cValue
            if act == .gelu { let gelu = b.kernels.float.gelu; return Step { _, _ in gelu(xp, yp, n) } }
            return Step { _, _ in
                if copy { yp.update(from: xp, count: n) }
                biasAct(yp, 1, n, nil, a)
            }
        }
        let xq = x.quant!, yq = b.tensor(node.output).quant!
        let table = b.persist((0..<256).map { i in yq.quantize(act.apply(xq.dequantize(Int8(truncatingIfNeeded: i)))) })
        let xp = UnsafePointer(b.pointer(node.inputs[0], as: Int8.self)), yp = b.pointer(node.output, as: Int8.self)
        let lut = b.config.pointee.lut!
        return Step(parallel: b.parallel(n, threshold: 65_536)) { part, parts in
            let r = partRange(part, of: parts, count: n, granule: 64)
            guard !r.isEmpty else { return }
            lut(r.count, xp + r.lowerBound, yp + r.lowerBound, table)
        }
    }
}
