// layer_norm: y = (x − mean) / sqrt(var + ε) · γ + β over the last axis, computed in f32. Constants
// weight [c] and bias [c]; attribute epsilon. Input and output may each be qs8 (a folded precision
// boundary, see Int8Edges): rows then go through scratch 16 at a time — or, both qs8, straight from
// int8 to int8 (eb_qs8_layernorm: statistics exact in integers, the same bytes in every build).
import CEdgeboneKernels

enum LayerNormOp: Operator {
    static func validate(_ node: Node, in graph: Graph) throws(GraphError) {
        try node.expectInputs(1)
        try node.allowAttributes(["epsilon"])
        let x = graph.tensors[node.inputs[0]], y = graph.tensors[node.output]
        // Input and output may each be f32 or qs8 (every tensor type): it computes in f32, Int8Edges converts.
        guard x.shape == y.shape, let c = x.shape.last else { throw node.fail("keeps the shape, has \(x.shape) → \(y.shape)") }
        guard let eps = node.attributes.epsilon, eps.isFinite, eps > 0, eps < 1 else { throw node.fail("needs an epsilon in (0, 1)") }
        let w = try graph.expectConstant(node, "weight", .f32, [c]), b = try graph.expectConstant(node, "bias", .f32, [c])
        guard w.floats.allSatisfy(\.isFinite), b.floats.allSatisfy(\.isFinite) else { throw node.fail("weight and bias must be finite") }
    }

    static let blockRows = 16

    /// Both edges int8 and rows short enough for int32 sums of squares: the int8-to-int8 kernel.
    static func int8ToInt8(_ node: Node, in graph: Graph) -> Bool {
        let x = graph.tensors[node.inputs[0]], y = graph.tensors[node.output]
        return x.type == .qs8 && y.type == .qs8 && x.shape.last! <= 33025
    }

    static func needs(_ node: Node, in graph: Graph, kernels: KernelSet) -> OpNeeds {
        let c = graph.tensors[node.output].shape.last!, block = min(blockRows, graph.tensors[node.output].elementCount / c)
        if int8ToInt8(node, in: graph) { return OpNeeds(scratch: [], inPlace: true) }
        let floats = Int8Edges.scratchFloats(node, in: graph, inCount: block * c, outCount: block * c)
        // In place row block by row block: each block is read (converted) before it is written.
        return OpNeeds(scratch: floats > 0 ? [floats * 4 * kernels.tiles] : [], inPlace: true)
    }

    static func bind(_ node: Node, _ b: Binder) -> Step {
        let x = b.tensor(node.inputs[0]), c = x.shape.last!, rows = x.elementCount / c
        let xp = UnsafePointer(b.pointer(node.inputs[0], as: Float.self)), yp = b.pointer(node.output, as: Float.self)
        let w = b.persist(b.constant(node, "weight").floats), bias = b.persist(b.constant(node, "bias").floats)
        let eps = node.attributes.epsilon!, layerNorm = b.kernels.float.layerNorm
        if int8ToInt8(node, in: b.graph), let qi = b.tensor(node.inputs[0]).quant, let qo = b.tensor(node.output).quant {
            // Gain and bias divided by the output scale: the kernel's output is then the int8 grid's.
            let g = b.persist(b.constant(node, "weight").floats.map { $0 / qo.scale })
            let beta = b.persist(b.constant(node, "bias").floats.map { $0 / qo.scale })
            let x8 = UnsafeRawPointer(xp).assumingMemoryBound(to: Int8.self)
            let y8 = UnsafeMutableRawPointer(yp).assumingMemoryBound(to: Int8.self), kernel = b.kernels.float.layerNorm8
            return Step(parallel: b.parallel(x.elementCount, threshold: 65_536)) { part, parts in
                let r = partRange(part, of: parts, count: rows)
                guard !r.isEmpty else { return }
                kernel(x8 + r.lowerBound * c, y8 + r.lowerBound * c, r.count, c, qi.zeroPoint, qi.scale, g, beta, eps, qo.zeroPoint)
            }
        }
        // Blocks of 16 rows: Int8Edges reads and writes f32 edges directly and converts int8 ones.
        let edges = Int8Edges(node, b)
        let block = min(blockRows, rows), xr = UnsafeMutableRawPointer(mutating: xp), yr = UnsafeMutableRawPointer(yp)
        let inFloats = edges.inQuant == nil ? 0 : block * c, slice = inFloats + (edges.outQuant == nil ? 0 : block * c)
        let scratch = slice > 0 ? b.scratch(0, as: Float.self) : nil  // none is planned for f32 edges
        return Step(parallel: b.parallel(x.elementCount, threshold: 65_536)) { part, parts in
            let r = partRange(part, of: parts, count: rows), s = scratch.map { $0 + part * slice }
            var row = r.lowerBound
            while row < r.upperBound {
                let m = min(block, r.upperBound - row), at = row * c
                let out = edges.output(yr, at: at, scratch: s.map { $0 + inFloats })
                layerNorm(edges.input(xr, at: at, count: m * c, scratch: s), out, m, c, w, bias, eps)
                edges.store(yr, at: at, count: m * c, from: out)
                row += m
            }
        }
    }
}
