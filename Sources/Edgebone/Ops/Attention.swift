// attention (f32): SwinV2's cosine self-attention inside each window. Input [windows · tokens, 3c]
// (q, k, v from one linear), output [windows · tokens, c]. Per window and head: softmax(q̂·k̂ᵀ · scale_h
// + bias_h + mask_w) · v, with q̂, k̂ L2-normalized. Constants: logit_scale [heads] (exp of the clamped
// learned value), position_bias [heads, tokens, tokens] (16·sigmoid of the continuous position MLP,
// computed once when the graph is built), optional mask [windows, tokens, tokens] (shifted windows).
// Windows split across threads. Input and output may each be qs8 (a folded precision boundary, see
// Int8Edges): each window is then converted through scratch.
import CEdgeboneKernels

enum AttentionOp: Operator {
    static func validate(_ node: Node, in graph: Graph) throws(GraphError) {
        try node.expectInputs(1)
        try node.allowAttributes(["heads", "tokens"])
        let x = graph.tensors[node.inputs[0]], y = graph.tensors[node.output]
        // Input and output may each be f32 or qs8 (every tensor type): it computes in f32, Int8Edges converts.
        guard let heads = node.attributes.heads, heads >= 1, let n = node.attributes.tokens, n >= 1, n <= 4096 else {
            throw node.fail("needs heads ≥ 1 and tokens per window in 1…4096")
        }
        guard x.shape.count == 2, y.shape.count == 2, x.shape[0] == y.shape[0], x.shape[0] % n == 0, x.shape[1] == 3 * y.shape[1],
              y.shape[1] % heads == 0 else {
            throw node.fail("maps [windows·\(n), 3c] to [windows·\(n), c] with c a multiple of \(heads) heads, has \(x.shape) → \(y.shape)")
        }
        let windows = x.shape[0] / n
        for (role, shape) in [("logit_scale", [heads]), ("position_bias", [heads, n, n])] {
            let c = try graph.expectConstant(node, role, .f32, shape)
            guard c.floats.allSatisfy(\.isFinite) else { throw node.fail("constant '\(node.constantName(role))' must be finite") }
        }
        if graph.constant(node, "mask") != nil {
            let m = try graph.expectConstant(node, "mask", .f32, [windows, n, n])
            guard m.floats.allSatisfy(\.isFinite) else { throw node.fail("the mask must be finite") }
        }
    }

    static func needs(_ node: Node, in graph: Graph, kernels: KernelSet) -> OpNeeds {
        let y = graph.tensors[node.output], a = node.attributes, n = a.tokens!, c = y.shape[1], d = c / a.heads!
        let edges = Int8Edges.scratchFloats(node, in: graph, inCount: readsOnlyInt8(n, d, kernels) ? 0 : n * 3 * c, outCount: n * c)
        return OpNeeds(scratch: [(eb_f32_window_attention_scratch(n, d) + 4 * edges) * kernels.tiles])
    }

    /// Whether int8 input goes to the kernel as it is (no float copy of the window): the build says it
    /// takes every sum from the int8 values for these sizes (never beyond `exact`'s bounds in `bind`).
    static func readsOnlyInt8(_ n: Int, _ d: Int, _ kernels: KernelSet) -> Bool {
        kernels.float.attentionInt8Only(n, d) != 0
    }

    static func bind(_ node: Node, _ b: Binder) -> Step {
        let y = b.tensor(node.output), a = node.attributes
        let n = a.tokens!, heads = a.heads!, c = y.shape[1], d = c / heads, windows = y.shape[0] / n
        let xp = UnsafePointer(b.pointer(node.inputs[0], as: Float.self)), yp = b.pointer(node.output, as: Float.self)
        let scale = b.persist(b.constant(node, "logit_scale").floats), bias = b.persist(b.constant(node, "position_bias").floats)
        let maskFloats = b.graph.constant(node, "mask")?.floats
        let mask = maskFloats.map { b.persist($0) }
        // Windows away from the shifted map's seams have an all-zero mask: they skip adding it (exactly
        // the same logits: x + 0 = x, and a −0 that becomes +0 gives the same softmax).
        let masked = (0..<windows).map { w in maskFloats.map { m in m[(w * n * n)..<((w + 1) * n * n)].contains { $0 != 0 } } ?? false }
        let kernelFloats = eb_f32_window_attention_scratch(n, d) / 4
        let scratch = b.scratch(0, as: Float.self), attention = b.kernels.float.attention
        // One window at a time; per part [kernel scratch][window input][window output], the last two only
        // for int8 edges (Int8Edges reads and writes f32 ones directly).
        let edges = Int8Edges(node, b)
        let int8Only = edges.inQuant != nil && readsOnlyInt8(n, d, b.kernels)
        let inFloats = edges.inQuant == nil || int8Only ? 0 : n * 3 * c, slice = kernelFloats + inFloats + (edges.outQuant == nil ? 0 : n * c)
        let xr = UnsafeMutableRawPointer(mutating: xp), yr = UnsafeMutableRawPointer(yp)
        // Int8 input goes in as integers (x − zero point, the scale applied to the outputs): every dot
        // product and weighted sum is then an exact integer, the same in every build, and the kernel may
        // take them from the int8 values (see the kernel). Up to 256 tokens and features.
        let exact = d <= 256 && n <= 256 ? edges.inQuant : nil
        // … and where it takes every sum from them, the window is not converted at all (int8Only).
        let dequantize = edges.dequantize
        return Step(parallel: b.parallel(b.graph.macs(b.nodeIndex), threshold: 1_000_000)) { part, parts in
            let s = scratch + part * slice
            for w in partRange(part, of: parts, count: windows) {
                let out = edges.output(yr, at: w * n * c, scratch: s + kernelFloats + inFloats)
                let m = masked[w] ? mask.map { $0 + w * n * n } : nil
                if let q = exact {
                    let x8 = UnsafePointer(xr.assumingMemoryBound(to: Int8.self) + w * n * 3 * c)
                    if int8Only {
                        attention(nil, x8, q.zeroPoint, q.scale, out, 1, n, heads, d, scale, bias, m, s)
                    } else {
                        dequantize(x8, s + kernelFloats, n * 3 * c, 1, q.zeroPoint)
                        attention(s + kernelFloats, x8, q.zeroPoint, q.scale, out, 1, n, heads, d, scale, bias, m, s)
                    }
                } else {
                    attention(edges.input(xr, at: w * n * 3 * c, count: n * 3 * c, scratch: s + kernelFloats), nil, 0, 1, out, 1, n, heads, d,
                              scale, bias, m, s)
                }
                edges.store(yr, at: w * n * c, count: n * c, from: out)
            }
        }
    }
}
