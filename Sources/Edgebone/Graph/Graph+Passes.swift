// Graph passes: fusion (an activation into its producer's epilogue; squeeze-and-excite into one f32
// op; precision boundaries into the f32 ops they surround) and pruning. Builders make plain graphs, one
// op per step of the model; the passes make them fast, so a fused network computes exactly what its
// plain graph describes.

extension Graph {
    /// Folds each `activation` node into the conv, depthwise or linear that produces its only input
    /// when nothing else reads that input. The fused node writes the activation's output tensor; the
    /// pre-activation tensor stays in `tensors`, unwritten (see `pruned`). `preQuant(node, preTensor,
    /// activationNode)` gives an int8 producer the grid and bits of its table activation's pre-activation
    /// (nil: not fused).
    /// Returns the fused graph and, per fused node name, the pre-activation tensor it swallowed.
    public func fusingActivations(preQuant: (Node, Int, Node) -> (grid: QuantParams, bits: Int)? = { _, _, _ in nil }) -> (graph: Graph, preActivation: [String: Int]) {
        let consumers = self.consumers
        var g = self
        var removed = Set<Int>(), pre: [String: Int] = [:]
        for (j, act) in nodes.enumerated() where act.op == .activation {
            let t = act.inputs[0]
            guard t != input, t != output, consumers[t] == [j], let i = nodes.firstIndex(where: { $0.output == t }) else { continue }
            var node = g.nodes[i]
            guard [.conv, .depthwise, .linear].contains(node.op), (node.attributes.activation ?? Activation.none) == Activation.none,
                  tensors[t].type == tensors[act.output].type else { continue }
            let f = act.attributes.activation!
            if tensors[t].type == .f32 && !f.fusableInFloat { continue }
            if tensors[t].type == .qs8 && !f.isClamp {
                guard let pq = preQuant(node, t, act) else { continue }
                node.attributes.preQuant = pq.grid
                node.attributes.tableBits = pq.bits
            }
            // An int8 clamp requantizes straight onto the activation's output grid and clamps there.
            node.attributes.activation = f
            node.output = act.output
            g.nodes[i] = node
            removed.insert(j)
            pre[node.name] = t
        }
        g.nodes = g.nodes.enumerated().filter { !removed.contains($0.offset) }.map(\.element)
        return (g, pre)
    }

    /// Replaces f32 global_avg_pool → linear(+act) → linear(+sigmoid) → mul_channel by one
    /// squeeze_excite node (named after the mul_channel), when no other op reads the intermediates.
    public func fusingSqueezeExcite() -> Graph {
        let consumers = self.consumers, producers = self.producers
        var g = self
        var removed = Set<Int>(), replaced: [Int: Node] = [:]
        for (m, mul) in nodes.enumerated() where mul.op == .mulChannel && tensors[mul.output].type == .f32 {
            let x = mul.inputs[0], gate = mul.inputs[1]
            guard let e = producers[gate], nodes[e].op == .linear, nodes[e].attributes.activation == .sigmoid, consumers[gate] == [m],
                  let r = producers[nodes[e].inputs[0]], nodes[r].op == .linear, let inner = nodes[r].attributes.activation, inner != .none,
                  consumers[nodes[r].output] == [e],
                  let p = producers[nodes[r].inputs[0]], nodes[p].op == .globalAvgPool, nodes[p].inputs[0] == x, consumers[nodes[p].output] == [r],
                  tensors[x].shape.count == 3 else { continue }
            let se = Node(name: mul.name, op: .squeezeExcite, inputs: [x], output: mul.output, attributes: Attributes(innerActivation: inner))
            for (role, from, fromRole) in [("reduce_weight", r, "weight"), ("reduce_bias", r, "bias"), ("expand_weight", e, "weight"), ("expand_bias", e, "bias")] {
                g.constants[se.constantName(role)] = g.constants.removeValue(forKey: nodes[from].constantName(fromRole))
            }
            removed.formUnion([p, r, e])
            replaced[m] = se
        }
        g.nodes = nodes.indices.filter { !removed.contains($0) }.map { replaced[$0] ?? g.nodes[$0] }
        return g
    }

    /// Lets layer_norm and attention (of `ops`) read and write int8 where a dequantize alone feeds them
    /// and a quantize alone reads them: the boundary moves inside the op, which converts a block of rows
    /// (or one window) at a time in cache instead of a whole tensor through memory, or computes from the
    /// int8 values directly: layer_norm from int8 to int8 with exact integer statistics, attention with
    /// exact dot products and 8-bit softmax weights (their kernels), each within its stated bound of the
    /// float computation. Pruned (tensors renumbered).
    public func foldingPrecisionBoundaries(of ops: Set<OpKind> = [.layerNorm, .attention]) -> Graph {
        let consumers = self.consumers, producers = self.producers
        var g = self
        var removed = Set<Int>()
        for (i, node) in nodes.enumerated() where ops.contains(node.op) {
            let x = node.inputs[0]
            if let d = producers[x], nodes[d].op == .dequantize, consumers[x] == [i] {
                g.nodes[i].inputs[0] = nodes[d].inputs[0]
                removed.insert(d)
            }
            let y = node.output
            if y != output, consumers[y].count == 1, let q = consumers[y].first, nodes[q].op == .quantize {
                g.nodes[i].output = nodes[q].output
                removed.insert(q)
            }
        }
        g.nodes = g.nodes.enumerated().filter { !removed.contains($0.offset) }.map(\.element)
        return g.pruned()
    }

    /// Folds each int8 mul_channel (a squeeze-and-excite scaling the quantizer did not fold into
    /// weights) into the 1×1 convolution that alone reads it: the convolution takes x and the gate and
    /// computes the product itself (`Attributes.gatedInput`: the product's grid), each part for its own
    /// rows, into the copy of its rows its GEMM makes anyway — no separate pass, no product tensor.
    /// The same kernel computes the same bytes, so the result is exactly the plain graph's. Only maps of
    /// at least `minPositions` positions (default 128): each part converts the gate to floats once, which on
    /// 7×7 maps with 1152 channels costs more than its few rows save (measured: B0's blocks 5–6 slower
    /// split across two threads, blocks 3–4 at 14×14 faster). Pruned.
    public func fusingChannelGates(minPositions: Int = Graph.gateFusionPositions) -> Graph {
        let consumers = self.consumers
        var g = self
        var removed = Set<Int>()
        for (m, mul) in nodes.enumerated() where mul.op == .mulChannel && tensors[mul.output].type == .qs8 {
            let y = mul.output
            guard y != output, consumers[y].count == 1, let c = consumers[y].first else { continue }
            let conv = nodes[c]
            guard conv.op == .conv, conv.inputs == [y], ConvOp.isPointwise(conv), tensors[conv.output].type == .qs8,
                  tensors[y].elementCount / tensors[y].shape.last! >= minPositions else { continue }
            g.nodes[c].inputs = mul.inputs
            g.nodes[c].attributes.gatedInput = tensors[y].quant
            removed.insert(m)
        }
        guard !removed.isEmpty else { return self }
        g.nodes = g.nodes.enumerated().filter { !removed.contains($0.offset) }.map(\.element)
        return g.pruned()
    }

    public static let gateFusionPositions = 128

    /// Every fusion the f32 runtime benefits from.
    public func fusedForFloat() -> Graph { fusingActivations().graph.fusingSqueezeExcite().pruned() }

    /// Drops tensors nothing writes or reads (but the input), and constants no node owns; renumbers.
    public func pruned() -> Graph {
        var keep = [Bool](repeating: false, count: tensors.count)
        keep[input] = true
        keep[output] = true
        for n in nodes { keep[n.output] = true; for t in n.inputs { keep[t] = true } }
        var map = [Int](repeating: -1, count: tensors.count)
        var g = self
        g.tensors = []
        for (i, t) in tensors.enumerated() where keep[i] { map[i] = g.tensors.count; g.tensors.append(t) }
        g.nodes = nodes.map { n in
            var n = n
            n.inputs = n.inputs.map { map[$0] }
            n.output = map[n.output]
            return n
        }
        g.input = map[input]
        g.output = map[output]
        let owners = Set(nodes.map(\.name))
        g.constants = constants.filter { key, _ in owners.contains(Graph.owner(ofConstant: key)) }
        return g
    }
}
