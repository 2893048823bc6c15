// patch_merge: [h, w, c] → [h/2, w/2, 4c], each 2×2 neighbourhood gathered into one token in timm's
// SwinV2 order (column offset major, then row offset). The reduction and norm that follow are linear
// and layer_norm nodes. Any dtype.
import CEdgeboneKernels

enum PatchMergeOp: Operator {
    static func validate(_ node: Node, in graph: Graph) throws(GraphError) {
        try node.expectInputs(1)
        try node.allowAttributes([])
        let x = graph.tensors[node.inputs[0]], y = graph.tensors[node.output]
        guard x.type == y.type, x.quant == y.quant else { throw node.fail("keeps the dtype and quantization") }
        guard x.shape.count == 3, x.shape[0] % 2 == 0, x.shape[1] % 2 == 0, y.shape == [x.shape[0] / 2, x.shape[1] / 2, 4 * x.shape[2]] else {
            throw node.fail("merges an even [h, w, c] into [h/2, w/2, 4c], has \(x.shape) → \(y.shape)")
        }
    }

    static func needs(_ node: Node, in graph: Graph, kernels: KernelSet) -> OpNeeds { OpNeeds() }

    static func bind(_ node: Node, _ b: Binder) -> Step {
        let x = b.tensor(node.inputs[0])
        let xp = UnsafePointer(b.pointer(node.inputs[0], as: UInt8.self)), yp = b.pointer(node.output, as: UInt8.self)
        let h = x.shape[0], w = x.shape[1], row = x.shape[2] * x.type.size
        return Step { _, _ in eb_x8_patch_merge(xp, yp, h, w, row) }
    }
}
