// global_avg_pool: [h, w, c] → [c], the mean over all positions.
// qs8: int32 sums per channel (scratch), one requantization by s_x / (h·w·s_y). Large maps (the
// squeeze-and-excite pools of EfficientNet's early blocks, up to 56×56×144) split by rows: each part
// sums its rows — which the thread that wrote them has in its cache — into sums of its own, and the
// calling thread adds them up and requantizes. On several threads, a pool that reads a split
// depthwise or 1×1 convolution's output runs inside that step's parts instead (`rider`, `Network`).
import CEdgeboneKernels

enum GlobalAvgPoolOp: Operator {
    static func validate(_ node: Node, in graph: Graph) throws(GraphError) {
        try node.expectInputs(1)
        try node.allowAttributes([])
        let x = graph.tensors[node.inputs[0]], y = graph.tensors[node.output]
        guard x.shape.count == 3, y.shape == [x.shape[2]] else { throw node.fail("pools [h, w, c] into [c]") }
        _ = try graph.sameType(node)
    }

    static func needs(_ node: Node, in graph: Graph, kernels: KernelSet) -> OpNeeds {
        graph.tensors[node.output].type == .qs8 ? OpNeeds(scratch: [4 * graph.tensors[node.output].elementCount * kernels.tiles]) : OpNeeds()
    }

    static func bind(_ node: Node, _ b: Binder) -> Step {
        let x = b.tensor(node.inputs[0]), rows = x.shape[0] * x.shape[1], c = x.shape[2]
        if x.type == .f32 {
            let xp = UnsafePointer(b.pointer(node.inputs[0], as: Float.self)), yp = b.pointer(node.output, as: Float.self)
            return Step { _, _ in eb_f32_global_avgpool(xp, rows, c, yp) }
        }
        let pool = rider(node, b)!
        var step = Step(parallel: b.parallel(x.elementCount, threshold: 100_000)) { part, parts in
            pool.part(partRange(part, of: parts, count: rows), part, parts)
        }
        step.finish = pool.finish
        return step
    }

    /// An int8 pool of the map the node before it just wrote (B0's squeeze-and-excite pools).
    static func mayRide(_ node: Node, after producer: Node, in graph: Graph) -> Bool {
        graph.tensors[node.output].type == .qs8 && node.inputs[0] == producer.output
    }

    /// The qs8 pool as work riding on its producer's parts (see `PositionRider`): each part sums the
    /// positions it just wrote, still in its cache, into sums of its own; one part alone pools the
    /// whole map. The same kernel adds the same values: the result is the separate step's.
    static func rider(_ node: Node, _ b: Binder) -> PositionRider? {
        let x = b.tensor(node.inputs[0])
        guard x.type == .qs8 else { return nil }
        let rows = x.shape[0] * x.shape[1], c = x.shape[2]
        let xp = UnsafePointer(b.pointer(node.inputs[0], as: Int8.self)), yp = b.pointer(node.output, as: Int8.self)
        let target = b.graph.requantTarget(node)
        let params = b.persist(value: eb_qs8_gavgpool_params(
            x_zero: x.quant!.zeroPoint, scale: Float(Double(x.quant!.scale) / (Double(rows) * Double(target.scale))), out: b.requantParams(node)))
        let acc = b.scratch(0, as: Int32.self), kernel = b.config.pointee.gavgpool!, tiles = b.kernels.tiles
        return PositionRider(part: { r, part, parts in
            guard parts > 1 else { return kernel(rows, c, xp, yp, acc, params) }
            guard !r.isEmpty else { return (acc + part * c).update(repeating: 0, count: c) }  // no rows: sums of nothing
            kernel(r.count, c, xp + r.lowerBound * c, nil, acc + part * c, params)
        }, finish: { eb_qs8_gavgpool_finish(c, tiles, acc, yp, params) })
    }
}
