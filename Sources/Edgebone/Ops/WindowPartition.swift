// window_partition: [h, w, c] → [windows · window², c], windows in row-major order, tokens row-major
// inside each, after a cyclic shift of `shift` up and left (folded into the indexing: no extra copy).
// Any dtype: it moves rows of bytes.
import CEdgeboneKernels

enum WindowPartitionOp: Operator {
    static func validate(_ node: Node, in graph: Graph) throws(GraphError) {
        try node.expectInputs(1)
        try node.allowAttributes(["window", "shift"])
        let x = graph.tensors[node.inputs[0]], y = graph.tensors[node.output]
        try checkWindows(node, map: x, windows: y, graph: graph)
    }

    /// Shared with window_reverse: a [h, w, c] map, window dividing h and w, shift below the window,
    /// the windowed tensor [h·w, c] of the same dtype and quantization.
    static func checkWindows(_ node: Node, map: GraphTensor, windows: GraphTensor, graph: Graph) throws(GraphError) {
        guard map.type == windows.type, map.quant == windows.quant else { throw node.fail("keeps the dtype and quantization") }
        guard map.shape.count == 3, windows.shape == [map.shape[0] * map.shape[1], map.shape[2]] else {
            throw node.fail("maps [h, w, c] to [h·w, c], has \(map.shape) and \(windows.shape)")
        }
        guard let ws = node.attributes.window, ws >= 1, map.shape[0] % ws == 0, map.shape[1] % ws == 0,
              let s = node.attributes.shift, s >= 0, s < ws else {
            throw node.fail("needs a window dividing \(map.shape[0])x\(map.shape[1]) and a shift below it")
        }
    }

    static func needs(_ node: Node, in graph: Graph, kernels: KernelSet) -> OpNeeds { OpNeeds() }

    static func bind(_ node: Node, _ b: Binder) -> Step {
        bindMove(node, b, map: b.tensor(node.inputs[0]), reverse: false)
    }

    static func bindMove(_ node: Node, _ b: Binder, map: GraphTensor, reverse: Bool) -> Step {
        let xp = UnsafePointer(b.pointer(node.inputs[0], as: UInt8.self)), yp = b.pointer(node.output, as: UInt8.self)
        let h = map.shape[0], w = map.shape[1], row = map.shape[2] * map.type.size
        let ws = node.attributes.window!, shift = node.attributes.shift!, rev: Int32 = reverse ? 1 : 0
        return Step { _, _ in eb_x8_window_partition(xp, yp, h, w, row, ws, shift, rev) }
    }
}
