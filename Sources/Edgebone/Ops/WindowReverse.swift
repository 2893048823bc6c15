// window_reverse: [windows · window², c] → [h, w, c], the inverse of window_partition with the same
// window and shift (the cyclic shift undone in the indexing). Any dtype.
import CEdgeboneKernels

enum WindowReverseOp: Operator {
    static func validate(_ node: Node, in graph: Graph) throws(GraphError) {
        try node.expectInputs(1)
        try node.allowAttributes(["window", "shift"])
        try WindowPartitionOp.checkWindows(node, map: graph.tensors[node.output], windows: graph.tensors[node.inputs[0]], graph: graph)
    }

    static func needs(_ node: Node, in graph: Graph, kernels: KernelSet) -> OpNeeds { OpNeeds() }

    static func bind(_ node: Node, _ b: Binder) -> Step {
        WindowPartitionOp.bindMove(node, b, map: b.tensor(node.output), reverse: true)
    }
}
