// The runtime without the quantizer: small hand-built graphs with every op kind in every dtype it
// binds, run on every ISA level this machine has (and split across threads), checked node by node
// against the reference interpreter — int8 outputs byte for byte, f32 within rounding.
import CEdgeboneTestSupport
import Testing
@testable import Edgebone

/// Random but deterministic constants and quantizations for hand-built graphs.
struct GraphBuilder {
    var g = Graph()
    var rng = SplitMix64(seed: 42)

    mutating func floats(_ n: Int, scale: Float = 0.5) -> [Float] { (0..<n).map { _ in Float.random(in: -scale...scale, using: &rng) } }
    mutating func quant(_ lo: Float = -3, _ hi: Float = 3) -> QuantParams {
        QuantParams(min: lo * Float.random(in: 0.5...1, using: &rng), max: hi * Float.random(in: 0.5...1, using: &rng))
    }
    /// int8 weights [rows, k], bias, per-row scales.
    mutating func int8Weights(rows: Int, k: Int, roles: (String, String, String) = ("weight", "bias", "weight_scale")) -> [String: Constant] {
        [roles.0: Constant(int8: (0..<(rows * k)).map { _ in Int8.random(in: -127...127, using: &rng) }, shape: [rows, k]),
         roles.1: Constant(int32: (0..<rows).map { _ in Int32.random(in: -3000...3000, using: &rng) }, shape: [rows]),
         roles.2: Constant(floats: (0..<rows).map { _ in Float.random(in: 0.002...0.02, using: &rng) }, shape: [rows])]
    }
    mutating func floatWeights(rows: Int, k: Int) -> [String: Constant] {
        ["weight": Constant(floats: floats(rows * k), shape: [rows, k]), "bias": Constant(floats: floats(rows), shape: [rows])]
    }
    func shape(_ t: Int) -> [Int] { g.tensors[t].shape }

    /// With `gate` (int8 1×1 only): the convolution of x · gate, the gate folded into the weights per frame.
    /// With `shift` (int8): shift requantization, the weight scales making each channel's scale 2^-e.
    mutating func conv(_ name: String, _ x: Int, out: Int, k: Int, stride: Int, padding: PaddingMode = .symmetric, act: Activation? = nil,
                       table: Bool = false, gate: Int? = nil, shift: Bool = false, bits: Int = 12) -> Int {
        let s = shape(x), geo = ConvGeometry(inH: s[0], inW: s[1], kernel: k, stride: stride, padding: padding)
        let q = g.tensors[x].type == .qs8
        var consts = q ? int8Weights(rows: out, k: k * k * s[2]) : floatWeights(rows: out, k: k * k * s[2])
        if q && !(k == 1 && stride == 1) { consts["pad"] = Constant(int8: (0..<s[2]).map { _ in Int8.random(in: -128...127, using: &rng) }, shape: [s[2]]) }
        let outQuant = q ? quant() : nil
        var attrs = Attributes(kernel: k, stride: stride, padding: padding, activation: act, preQuant: table ? tableGrid(bits: bits) : nil)
        if table && bits != 12 { attrs.tableBits = bits }
        if shift { shiftScales(&consts, input: x, target: attrs.preQuant ?? outQuant!, rows: out); attrs.shiftRequant = true }
        return g.addNode(name, .conv, inputs: [x] + (gate.map { [$0] } ?? []), outputShape: [geo.outH, geo.outW, out], type: g.tensors[x].type,
                         quant: outQuant, attributes: attrs, constants: consts)
    }

    /// A table's grid over about ±6 on `bits` bits.
    mutating func tableGrid(bits: Int) -> QuantParams {
        bits == 12 ? quant(-6, 6).grid12 : QuantParams(min: -6 * Float.random(in: 0.5...1, using: &rng), max: 6 * Float.random(in: 0.5...1, using: &rng), bits: bits)
    }

    /// Weight scales that make input × weight / target a power of two, 2^-e with e in 4…12, per row.
    mutating func shiftScales(_ consts: inout [String: Constant], input: Int, target: QuantParams, rows: Int) {
        let inScale = Double(g.tensors[input].quant!.scale)
        consts["weight_scale"] = Constant(floats: (0..<rows).map { _ in
            Float(Double(sign: .plus, exponent: -Int.random(in: 4...12, using: &rng), significand: 1) * Double(target.scale) / inScale)
        }, shape: [rows])
    }

    mutating func depthwise(_ name: String, _ x: Int, k: Int, stride: Int, padding: PaddingMode = .same, act: Activation? = nil, table: Bool = false,
                            shift: Bool = false, bits: Int = 12) -> Int {
        let s = shape(x), geo = ConvGeometry(inH: s[0], inW: s[1], kernel: k, stride: stride, padding: padding)
        let q = g.tensors[x].type == .qs8
        var consts: [String: Constant]
        if q {
            let w = int8Weights(rows: k * k, k: s[2])
            consts = ["weight": w["weight"]!, "bias": Constant(int32: (0..<s[2]).map { _ in Int32.random(in: -500...500, using: &rng) }, shape: [s[2]]),
                      "weight_scale": Constant(floats: (0..<s[2]).map { _ in Float.random(in: 0.002...0.02, using: &rng) }, shape: [s[2]])]
        } else {
            consts = ["weight": Constant(floats: floats(k * k * s[2]), shape: [k * k, s[2]]), "bias": Constant(floats: floats(s[2]), shape: [s[2]])]
        }
        let outQuant = q ? quant() : nil
        var attrs = Attributes(kernel: k, stride: stride, padding: padding, activation: act, preQuant: table ? tableGrid(bits: bits) : nil)
        if table && bits != 12 { attrs.tableBits = bits }
        if shift { shiftScales(&consts, input: x, target: attrs.preQuant ?? outQuant!, rows: s[2]); attrs.shiftRequant = true }
        return g.addNode(name, .depthwise, inputs: [x], outputShape: [geo.outH, geo.outW, s[2]], type: g.tensors[x].type,
                         quant: outQuant, attributes: attrs, constants: consts)
    }

    mutating func linear(_ name: String, _ x: Int, out: Int, type: TensorType? = nil, act: Activation? = nil, table: Bool = false) -> Int {
        let s = shape(x), k = s.last!, inQ = g.tensors[x].type == .qs8, outType = type ?? g.tensors[x].type
        return g.addNode(name, .linear, inputs: [x], outputShape: s.dropLast() + [out], type: outType,
                         quant: outType == .qs8 ? quant() : nil, attributes: Attributes(activation: act, preQuant: table ? quant(-6, 6).grid12 : nil),
                         constants: inQ ? int8Weights(rows: out, k: k) : floatWeights(rows: out, k: k))
    }

    mutating func node(_ name: String, _ op: OpKind, _ inputs: [Int], shape: [Int]? = nil, type: TensorType? = nil, attributes: Attributes = Attributes(),
                       constants: [String: Constant] = [:]) -> Int {
        let t = type ?? g.tensors[inputs[0]].type
        return g.addNode(name, op, inputs: inputs, outputShape: shape ?? self.shape(inputs[0]), type: t, quant: t == .qs8 ? quant() : nil,
                         attributes: attributes, constants: constants)
    }
}

extension QuantParams {
    /// The same range on the 12-bit grid of a table activation.
    var grid12: QuantParams {
        QuantParams(min: Float(-128 - zeroPoint) * scale, max: Float(127 - zeroPoint) * scale, bits: 12)
    }
}

enum SampleGraphs {
    /// int8 from the pixels, through every int8 op, then a float island with every f32 op, then back to
    /// int8 for the dequantizing head.
    static func mixed() -> Graph {
        var b = GraphBuilder()
        b.g.input = b.g.addTensor("input", shape: [9, 9, 3], type: .qs8, quant: .pixels)
        let t1 = b.conv("stem", b.g.input, out: 8, k: 3, stride: 2, act: .silu, table: true)           // [5,5,8]
        let t2 = b.depthwise("dw5", t1, k: 5, stride: 1, act: .relu6)
        let t3 = b.conv("pw", t2, out: 8, k: 1, stride: 1)
        let t4 = b.node("add", .add, [t3, t1])
        let p = b.node("pool", .globalAvgPool, [t4], shape: [8])
        let r = b.linear("reduce", p, out: 4, act: .relu)
        let gate = b.linear("expand", r, out: 8, act: .sigmoid, table: true)
        let t5 = b.node("scale", .mulChannel, [t4, gate])
        let t5g = b.conv("gated", t4, out: 8, k: 1, stride: 1, act: .silu, table: true, gate: gate)                  // x · gate folded per frame
        let t6 = b.node("act8", .activation, [b.node("add2", .add, [t5, t5g])], attributes: Attributes(activation: .silu))
        let t6b = b.depthwise("dw3s2", t6, k: 3, stride: 2, padding: .symmetric)                          // [3,3,8]
        let t6c = b.conv("conv3", t6b, out: 6, k: 3, stride: 1, act: .relu)                              // k×k int8 with pads
        let f = b.node("dq", .dequantize, [t6c], type: .f32)
        let f1 = b.conv("fconv", f, out: 8, k: 3, stride: 1, act: .relu)
        let f2 = b.depthwise("fdw", f1, k: 3, stride: 2, act: .silu)                                    // [2,2,8]
        let se: [String: Constant] = ["reduce_weight": Constant(floats: b.floats(16), shape: [2, 8]), "reduce_bias": Constant(floats: b.floats(2), shape: [2]),
                                      "expand_weight": Constant(floats: b.floats(16), shape: [8, 2]), "expand_bias": Constant(floats: b.floats(8), shape: [8])]
        let f3 = b.node("fse", .squeezeExcite, [f2], attributes: Attributes(innerActivation: .silu), constants: se)
        let f4 = b.node("fact", .activation, [f3], attributes: Attributes(activation: .sigmoid))
        let f5 = b.node("fadd", .add, [f4, f2])
        let fp = b.node("fpool", .globalAvgPool, [f5], shape: [8])
        let fg = b.linear("flin", fp, out: 8, act: .sigmoid)
        let f6 = b.node("fmul", .mulChannel, [f5, fg])
        let f7 = b.linear("frows", f6, out: 5)                                                          // [2,2,5]: sgemm rows
        let q = b.node("q", .quantize, [f7], type: .qs8)
        let q2 = b.linear("lin8rows", q, out: 6, act: .relu6)
        let qp = b.node("qpool", .globalAvgPool, [q2], shape: [6])
        b.g.output = b.linear("head", qp, out: 7, type: .f32)
        return b.g
    }

    /// A SwinV2-shaped graph: valid-padding patch embedding, layer norms, shifted-window attention with
    /// a mask, GELU MLP, patch merging (f32), and the window and merge moves on int8 tensors too.
    static func transformer() -> Graph {
        var b = GraphBuilder()
        b.g.input = b.g.addTensor("input", shape: [16, 16, 3])
        b.g.normalization = InputNormalization(scale: [0.017, 0.018, 0.0175], offset: [-2.1, -2.0, -1.8])
        func norm(_ name: String, _ x: Int) -> Int {
            let c = b.shape(x).last!
            return b.node(name, .layerNorm, [x], attributes: Attributes(epsilon: 1e-5),
                          constants: ["weight": Constant(floats: b.floats(c, scale: 2), shape: [c]), "bias": Constant(floats: b.floats(c), shape: [c])])
        }
        let e = norm("embed.norm", b.conv("embed", b.g.input, out: 8, k: 4, stride: 4, padding: .valid))    // [4,4,8]
        let ws = 2, n = ws * ws, heads = 2, windows = 4
        let t = b.node("part", .windowPartition, [e], shape: [16, 8], attributes: Attributes(window: ws, shift: 1))
        let qkv = b.linear("qkv", t, out: 24)
        var mask = [Float](repeating: 0, count: windows * n * n)
        for i in mask.indices where i % 3 == 0 { mask[i] = -100 }
        let att = b.node("attn", .attention, [qkv], shape: [16, 8], attributes: Attributes(heads: heads, tokens: n),
                         constants: ["logit_scale": Constant(floats: [9.5, 4.2], shape: [heads]),
                                     "position_bias": Constant(floats: b.floats(heads * n * n, scale: 8), shape: [heads, n, n]),
                                     "mask": Constant(floats: mask, shape: [windows, n, n])])
        let back = b.node("rev", .windowReverse, [b.linear("proj", att, out: 8)], shape: [4, 4, 8], attributes: Attributes(window: ws, shift: 1))
        let x1 = b.node("res1", .add, [e, norm("norm1", back)])
        let h = b.node("gelu", .activation, [b.linear("fc1", x1, out: 16)], attributes: Attributes(activation: .gelu))
        let x2 = b.node("res2", .add, [x1, norm("norm2", b.linear("fc2", h, out: 8))])
        let merged = b.node("merge", .patchMerge, [x2], shape: [2, 2, 32])
        let m = norm("merge.norm", b.linear("reduce", merged, out: 16))
        // The moves on int8 tensors.
        let q = b.node("q", .quantize, [m], type: .qs8)
        let qp = b.node("qpart", .windowPartition, [q], shape: [4, 16], attributes: Attributes(window: 2, shift: 1))
        b.g.tensors[qp].quant = b.g.tensors[q].quant
        let qr = b.node("qrev", .windowReverse, [qp], shape: [2, 2, 16], attributes: Attributes(window: 2, shift: 1))
        b.g.tensors[qr].quant = b.g.tensors[q].quant
        let qm = b.node("qmerge", .patchMerge, [qr], shape: [1, 1, 64])
        b.g.tensors[qm].quant = b.g.tensors[q].quant
        let pooled = b.node("pool", .globalAvgPool, [qm], shape: [64])
        b.g.output = b.linear("head", pooled, out: 5, type: .f32)
        return b.g
    }

    /// int8 with shift requantization (power-of-two scales) on every epilogue it has: a k×k stem and a
    /// depthwise with 9-bit tables, a depthwise with a 12-bit one, a clamp (ReLU6), plain int8 1×1 and k×k.
    static func shifted() -> Graph {
        var b = GraphBuilder()
        b.g.input = b.g.addTensor("input", shape: [11, 11, 3], type: .qs8, quant: .pixels)
        let t1 = b.conv("stem", b.g.input, out: 24, k: 3, stride: 2, act: .silu, table: true, shift: true, bits: 9)   // [6,6,24]
        let t2 = b.depthwise("dw3", t1, k: 3, stride: 1, act: .silu, table: true, shift: true, bits: 9)
        let t3 = b.depthwise("dw5s2", t2, k: 5, stride: 2, act: .sigmoid, table: true, shift: true)                  // [3,3,24]
        let t4 = b.conv("pw", t3, out: 70, k: 1, stride: 1, act: .relu6, shift: true)
        let t5 = b.depthwise("dw3c", t4, k: 3, stride: 1, act: .relu, shift: true)
        let t6 = b.conv("conv3", t5, out: 9, k: 3, stride: 1, shift: true)
        let p = b.node("pool", .globalAvgPool, [t6], shape: [9])
        b.g.output = b.linear("head", p, out: 5, type: .f32)
        return b.g
    }

    /// int8 pools right after the depthwise and the 1×1 convolution that wrote their maps, and a
    /// residual add after its projection, which they ride on when those are split (`Network.riders`):
    /// a 7×7 map, so that a split into 8 parts leaves a part without rows.
    static func pooledProducers() -> Graph {
        var b = GraphBuilder()
        b.g.input = b.g.addTensor("input", shape: [13, 13, 3], type: .qs8, quant: .pixels)
        let t1 = b.conv("stem", b.g.input, out: 16, k: 3, stride: 2, act: .silu, table: true)           // [7,7,16]
        let t2 = b.depthwise("dw3", t1, k: 3, stride: 1, act: .silu, table: true)
        let p1 = b.node("se.pool", .globalAvgPool, [t2], shape: [16])
        let gate = b.linear("se.expand", b.linear("se.reduce", p1, out: 4, act: .silu, table: true), out: 16, act: .sigmoid, table: true)
        let t3 = b.node("se", .mulChannel, [t2, gate])
        let t4 = b.conv("pw", t3, out: 16, k: 1, stride: 1)
        let t5 = b.node("add", .add, [t1, t4])
        let t6 = b.conv("pw2", t5, out: 24, k: 1, stride: 1, act: .relu6)
        let p2 = b.node("pool", .globalAvgPool, [t6], shape: [24])
        b.g.output = b.linear("head", p2, out: 5, type: .f32)
        return b.g
    }

    /// Float from the normalized image (the direct stem), handing over to int8 k×k and 1×1 convolutions.
    static func floatFirst() -> Graph {
        var b = GraphBuilder()
        b.g.input = b.g.addTensor("input", shape: [10, 10, 3])
        b.g.normalization = InputNormalization(scale: [0.017, 0.018, 0.0175], offset: [-2.1, -2.0, -1.8])
        let s = b.conv("fstem", b.g.input, out: 6, k: 3, stride: 2, padding: .same, act: .relu6)      // direct kernel
        let q = b.node("q", .quantize, [s], type: .qs8)
        let c = b.conv("c3", q, out: 5, k: 3, stride: 2, padding: .same, act: .silu, table: true)
        let d = b.conv("c1s2", c, out: 4, k: 1, stride: 2)                                               // 1×1 stride 2: patches path
        let pool = b.node("pool", .globalAvgPool, [d], shape: [4])
        let dq = b.node("dq", .dequantize, [pool], type: .f32)
        b.g.output = b.linear("head", dq, out: 3)
        return b.g
    }
}

@Suite struct GraphRuntimeTests {
    /// Runs `graph` on one frame and checks every node's output against the reference interpreter fed
    /// with the runtime's own inputs of that node.
    func check(_ graph: Graph, isa: ISA, threads: Int = 1, split: Bool = false) throws {
        let net = try Network(graph: graph, isa: isa, threads: threads, splitEveryStep: split)
        let ref = ReferenceInterpreter(graph: graph)
        var rng = SplitMix64(seed: 7)
        let s = net.inputSize
        let pixels = (0..<(s * s * 3)).map { _ in UInt8.random(in: 0...255, using: &rng) }
        pixels.withUnsafeBufferPointer { net.setInput(rgb: $0.baseAddress!) }
        func snapshot(_ t: Int) -> RefTensor {
            let spec = graph.tensors[t], p = net.pointer(to: t)
            switch spec.type {
            case .f32: return .f32(Array(UnsafeBufferPointer(start: p.assumingMemoryBound(to: Float.self), count: spec.elementCount)))
            case .qs8: return .qs8(Array(UnsafeBufferPointer(start: p.assumingMemoryBound(to: Int8.self), count: spec.elementCount)))
            }
        }
        var values: [Int: RefTensor] = [graph.input: snapshot(graph.input)]
        net.run { i in
            let node = graph.nodes[i]
            let got = snapshot(node.output)
            let want = ref.run(node, node.inputs.map { values[$0]! })
            switch (got, want) {
            case let (.qs8(a), .qs8(b)):
                let bad = zip(a, b).enumerated().filter { $1.0 != $1.1 }
                #expect(bad.isEmpty, "\(node.name) (\(node.op.rawValue) qs8) on \(isa), \(threads) thread(s): \(bad.count) of \(a.count) differ, first at \(bad.first.map { "\($0.offset): \($0.element.0) vs reference \($0.element.1)" } ?? "")")
            case let (.f32(a), .f32(b)):
                let scale = max(b.map(abs).max() ?? 1, 1e-3)
                let worst = zip(a, b).map { abs($0 - $1) }.max() ?? 0
                #expect(worst <= 1e-4 * scale, "\(node.name) (\(node.op.rawValue) f32) on \(isa): max|Δ| \(worst) at scale \(scale)")
            default:
                Issue.record("\(node.name): dtype of the output differs from the reference")
            }
            values[node.output] = got
        }
    }

    @Test(arguments: ISA.supported)
    func mixedGraphMatchesTheReference(isa: ISA) throws {
        let g = SampleGraphs.mixed()
        try check(g, isa: isa)
        try check(g, isa: isa, threads: 2, split: true)
    }

    @Test(arguments: ISA.supported)
    func ridersOnTheirProducersMatchTheReference(isa: ISA) throws {
        let g = SampleGraphs.pooledProducers()
        let riding = g.nodes.indices.filter { [.globalAvgPool, .add].contains(g.nodes[$0].op) }
        #expect(riding.count == 3)
        for threads in [2, 3] {
            let net = try Network(graph: g, isa: isa, threads: threads, splitEveryStep: true)
            #expect(net.riders == riding, "\(threads) threads: \(net.riders) ride, expected \(riding)")
            try check(g, isa: isa, threads: threads, split: true)
        }
        #expect(try Network(graph: g, isa: isa, threads: 1).riders.isEmpty)
        try check(g, isa: isa)
    }

    @Test func theSampleGraphsCoverEveryOpKind() {
        let ops = [SampleGraphs.mixed(), SampleGraphs.floatFirst(), SampleGraphs.transformer()].flatMap { $0.nodes.map(\.op) }
        #expect(Set(ops) == Set(OpKind.allCases), "not covered: \(Set(OpKind.allCases).subtracting(ops))")
    }

    @Test(arguments: ISA.supported)
    func transformerGraphMatchesTheReference(isa: ISA) throws {
        try check(SampleGraphs.transformer(), isa: isa)
        try check(SampleGraphs.transformer(), isa: isa, threads: 2, split: true)
    }

    @Test(arguments: ISA.supported)
    func shiftedGraphMatchesTheReference(isa: ISA) throws {
        let g = SampleGraphs.shifted()
        #expect(g.nodes.filter { $0.attributes.shiftRequant == true }.count == 6)
        try check(g, isa: isa)
        try check(g, isa: isa, threads: 2, split: true)
        // A scale off its power of two is refused by name.
        var off = g
        let scales = off.constants["dw3.weight_scale"]!.floats
        off.constants["dw3.weight_scale"] = Constant(floats: scales.map { $0 * 1.01 }, shape: [scales.count])
        #expect(throws: GraphError.self) { _ = try Network(graph: off, isa: isa, threads: 1) }
    }

    @Test(arguments: ISA.supported)
    func floatFirstGraphMatchesTheReference(isa: ISA) throws {
        try check(SampleGraphs.floatFirst(), isa: isa)
    }

    /// A qs8 graph gives the same bytes on every ISA and thread count (whole graph, not node by node).
    @Test func everyISAAndThreadCountAgree() throws {
        let g = SampleGraphs.mixed()
        var outputs: [[Float]] = []
        for isa in ISA.supported {
            for (threads, split) in [(1, false), (2, true), (3, true)] {
                let net = try Network(graph: g, isa: isa, threads: threads, splitEveryStep: split)
                let pixels = [UInt8](repeating: 77, count: 9 * 9 * 3)
                pixels.withUnsafeBufferPointer { net.setInput(rgb: $0.baseAddress!) }
                net.run()
                outputs.append(Array(net.output))
            }
        }
        // The float island uses OpenBLAS and ISA-specific float kernels: compare within rounding.
        for o in outputs { #expect(zip(o, outputs[0]).allSatisfy { abs($0 - $1) <= 1e-3 * max(abs($1), 1) }) }
    }

    @Test func runAllocatesNothing() throws {
        let net = try Network(graph: SampleGraphs.mixed(), isa: .best, threads: 2)
        for _ in 0..<3 { net.run() }
        eb_test_alloc_begin()
        for _ in 0..<50 { net.run() }
        let n = eb_test_alloc_end()
        #expect(n == 0, "\(n) allocations in 50 runs of the mixed graph")
    }

    @Test func invalidGraphsAreTypedErrors() throws {
        var g = SampleGraphs.mixed()
        g.nodes[2].inputs = [g.nodes[5].output]  // read before written
        #expect(throws: GraphError.self) { try Network(graph: g) }
        g = SampleGraphs.mixed()
        g.tensors[g.nodes[0].output].quant = nil  // qs8 without quantization
        #expect(throws: GraphError.self) { try Network(graph: g) }
        g = SampleGraphs.mixed()
        g.nodes[0].attributes.preQuant = nil  // silu in int8 without its grid
        #expect(throws: GraphError.self) { try Network(graph: g) }
        g = SampleGraphs.mixed()
        g.nodes[1].attributes.kernel = 7  // int8 depthwise kernels stop at 5×5
        #expect(throws: GraphError.self) { try Network(graph: g) }
        g = SampleGraphs.mixed()
        g.nodes[2].inputs = [g.nodes[2].inputs[0], g.nodes[2].inputs[0]]  // a 1×1 conv whose gate is not [cin]
        #expect(throws: GraphError.self) { try Network(graph: g) }
        g = SampleGraphs.mixed()
        let gated = g.nodes.firstIndex { $0.name == "gated" }!
        g.nodes[gated].inputs.append(g.nodes[gated].inputs[1])  // a conv with three inputs
        #expect(throws: GraphError.self) { try Network(graph: g) }
        g = SampleGraphs.mixed()
        let conv3 = g.nodes.firstIndex { $0.name == "conv3" }!
        g.nodes[conv3].inputs.append(g.nodes[gated].inputs[1])  // a gate on a 3×3 convolution
        #expect(throws: GraphError.self) { try Network(graph: g) }
        g = SampleGraphs.mixed()
        g.nodes[0].attributes.innerActivation = .relu  // an attribute conv does not read
        #expect(throws: GraphError.self) { try Network(graph: g) }
    }

    /// The model file round trip keeps the graph exactly.
    @Test func modelFileRoundTrip() throws {
        let g = SampleGraphs.mixed()
        var w = SafeTensorsWriter()
        g.write(into: &w)
        let path = "/tmp/edgebone-graph-roundtrip-\(getpid()).safetensors"
        try w.write(to: path)
        defer { unlink(path) }
        let back = try Graph(file: SafeTensorsFile(path: path))
        #expect(back.tensors == g.tensors && back.nodes == g.nodes && back.constants == g.constants && back.input == g.input && back.output == g.output)
    }
}

#if canImport(Glibc)
import Glibc
#endif

/// Threads of this process (from /proc/self/status).
func processThreads() -> Int {
    guard let f = fopen("/proc/self/status", "r") else { return -1 }
    defer { fclose(f) }
    var line = [CChar](repeating: 0, count: 256)
    while fgets(&line, 256, f) != nil {
        let s = String(cString: line)
        if s.hasPrefix("Threads:") { return Int(s.dropFirst(8).filter { !$0.isWhitespace }) ?? -1 }
    }
    return -1
}

@Suite(.serialized) struct ThreadPoolLifetimeTests {
    /// A network's pool stops and joins its workers when the network goes away.
    @Test func workersEndWithTheirNetwork() throws {
        let before = processThreads()
        for _ in 0..<10 {
            let net = try Network(graph: SampleGraphs.mixed(), threads: 3, splitEveryStep: true)
            net.run()
        }
        // Other suites run in parallel and create threads of their own: allow for them, not for 20 leaked workers.
        let after = processThreads()
        #expect(after - before < 12, "threads \(before) → \(after) after ten 3-thread networks came and went")
    }

    /// A worker still finishing its last tile when the caller drops the network must not end up
    /// holding the network's last reference (it would then tear down its own pool from inside).
    /// Racy by nature: many short-lived networks, each dropped right after one frame.
    @Test func droppingANetworkRightAfterAFrameIsSafe() throws {
        let graph = SampleGraphs.mixed()
        for _ in 0..<300 {
            let net = try Network(graph: graph, threads: 2, splitEveryStep: true)
            net.run()
        }
    }
}

/// A step whose parts take 100 µs on the calling thread and `workerDelay` µs on any other thread (a
/// worker preempted in the middle of each of its tiles). Counts how often each part ran (each part is
/// claimed once per step, and steps follow one another, so plain increments do).
private final class StragglerTask: PoolTask, @unchecked Sendable {
    let caller = pthread_self()
    var workerDelay: UInt32
    let counts: UnsafeMutablePointer<Int>
    let parts: Int
    init(parts: Int, workerDelay: UInt32) {
        self.parts = parts
        self.workerDelay = workerDelay
        counts = .allocate(capacity: parts)
        counts.initialize(repeating: 0, count: parts)
    }
    deinit { counts.deallocate() }
    override func runPart(_ part: Int, of parts: Int) {
        usleep(pthread_equal(pthread_self(), caller) != 0 ? 100 : workerDelay)
        counts[part] += 1
    }
}

@Suite(.serialized) struct ThreadPoolFallbackTests {
    /// A worker that holds up every step makes the pool run steps on the calling thread alone, every
    /// part still exactly once; once the back-off ends, steps are split again.
    @Test func lateWorkersMakeStepsRunOnTheCallerAlone() {
        let pool = ThreadPool(threads: 2)
        let task = StragglerTask(parts: 8, workerDelay: 3_000)
        for _ in 0..<40 { pool.run(task, tiles: 8) }
        for p in 0..<8 { #expect(task.counts[p] == 40, "part \(p) ran \(task.counts[p]) times in 40 steps") }
        #expect(pool.stats.fallbacks >= 1 && pool.stats.alone > 0, "\(pool.stats)")
        // The steps after the fallback did not wait for the worker: far fewer than 40 split steps.
        #expect(pool.stats.split < 20, "\(pool.stats)")
        // Back-offs start at 16 ms and double (40 steps of 0.8 ms allow two or three): after the
        // back-off, the next step is split again.
        usleep(300_000)
        task.workerDelay = 0
        let split = pool.stats.split
        pool.run(task, tiles: 8)
        #expect(pool.stats.split == split + 1, "\(pool.stats)")
    }

    /// Tests of the split itself turn the fallback off: every step is split, however late the workers.
    @Test func aNonAdaptivePoolAlwaysSplits() {
        let pool = ThreadPool(threads: 2, adaptive: false)
        let task = StragglerTask(parts: 8, workerDelay: 1_000)
        for _ in 0..<10 { pool.run(task, tiles: 8) }
        #expect(pool.stats.split == 10 && pool.stats.alone == 0 && pool.stats.fallbacks == 0, "\(pool.stats)")
        for p in 0..<8 { #expect(task.counts[p] == 10) }
    }

    /// Each thread starts on its own range of tiles and then takes what is left of the others': with
    /// three threads, tile counts that do not divide evenly (fewer tiles than threads too) still run
    /// every part exactly once, and slow workers' ranges are finished by the caller: the step takes about
    /// one slow tile, not a slow worker's whole range.
    @Test func homeRangesRunEveryPartOnceAndLeaveNoneToALateWorker() {
        let pool = ThreadPool(threads: 3, adaptive: false)
        for tiles in [2, 3, 5, 7, 12] {
            let task = StragglerTask(parts: tiles, workerDelay: 0)
            for _ in 0..<20 { pool.run(task, tiles: tiles) }
            for p in 0..<tiles { #expect(task.counts[p] == 20, "\(tiles) tiles: part \(p) ran \(task.counts[p]) times in 20 steps") }
        }
        let slow = StragglerTask(parts: 12, workerDelay: 20_000)
        let t0 = monotonicNanos()
        pool.run(slow, tiles: 12)
        let ms = Double(monotonicNanos() - t0) / 1e6
        for p in 0..<12 { #expect(slow.counts[p] == 1) }
        // Each worker holds up one 20 ms tile; the caller runs the other ten (1 ms): about 20 ms, where
        // workers that finished their own four-tile ranges would take 80.
        #expect(ms < 60, "\(ms) ms")
    }
}

/// Step generations are 32-bit and wrap; a pool that compared a wrapped generation with a 64-bit one
/// found no tile to claim from step 2³¹ on (nine days of a daemon at 30 frames per second) and hung.
@Suite(.serialized) struct ThreadPoolGenerationTests {
    @Test(arguments: [UInt32(Int32.max) - 10, UInt32.max - 10])
    func stepsRunAcrossTheWrap(first: UInt32) {
        let pool = ThreadPool(threads: 3, adaptive: false, firstGeneration: first)
        let task = StragglerTask(parts: 7, workerDelay: 0)
        for _ in 0..<24 { pool.run(task, tiles: 7) }
        for p in 0..<7 { #expect(task.counts[p] == 24, "part \(p) ran \(task.counts[p]) times in 24 steps") }
    }
}

/// Whole frames: the chooser keeps the faster way, whichever it is, finds it again when conditions
/// change, and spends few frames on the slower way once one is clearly faster.
@Suite struct FrameSplitChooserTests {
    /// Runs `frames` frames whose time is `split` or `alone` µs; returns how many ran alone.
    private func drive(_ c: inout FrameSplitChooser, frames: Int, split: UInt64, alone: UInt64) -> Int {
        var ranAlone = 0
        for _ in 0..<frames {
            let a = c.nextAlone()
            ranAlone += a ? 1 : 0
            c.record(alone: a, nanos: (a ? alone : split) * 1000)
        }
        return ranAlone
    }

    @Test func keepsTheFasterWayAndFollowsChanges() {
        var c = FrameSplitChooser()
        // An idle machine: split frames 1.7× faster. After exploring, almost every frame is split.
        _ = drive(&c, frames: 50, split: 2600, alone: 4500)
        #expect(drive(&c, frames: 1000, split: 2600, alone: 4500) <= 12)
        // Every core busy: split frames now slower than alone. The chooser notices at its next probe
        // (at most 1024 frames away) and then runs alone.
        _ = drive(&c, frames: 1100, split: 7800, alone: 4600)
        #expect(drive(&c, frames: 500, split: 7800, alone: 4600) >= 490)
        // Idle again: split wins back within the next probes.
        _ = drive(&c, frames: 1100, split: 2600, alone: 4500)
        #expect(drive(&c, frames: 500, split: 2600, alone: 4500) <= 10)
    }

    /// Misleading first frames (a new worker on its creator's core) do not lock the wrong way in.
    @Test func recoversFromMisleadingFirstFrames() {
        var c = FrameSplitChooser()
        _ = drive(&c, frames: 20, split: 7000, alone: 4500)
        #expect(drive(&c, frames: 300, split: 2600, alone: 4500) <= 75)
        #expect(drive(&c, frames: 300, split: 2600, alone: 4500) <= 3)
    }

    /// `nextIsAlone` (which decides whether a frame's input wakes the workers) tells what `nextAlone`
    /// then answers: exploring, settled either way, and probing.
    @Test func peekingAgreesWithTheAnswer() {
        var c = FrameSplitChooser()
        for i in 0..<3000 {
            let peek = c.nextIsAlone, a = c.nextAlone()
            #expect(peek == a, "frame \(i)")
            let split: UInt64 = i < 1500 ? 2600 : 7800
            c.record(alone: a, nanos: (a ? 4500 : split) * 1000)
        }
    }

    /// It runs every frame: exploring, settling and probing allocate nothing.
    @Test func allocatesNothing() {
        var c = FrameSplitChooser()
        eb_test_alloc_begin()
        _ = drive(&c, frames: 300, split: 2600, alone: 4500)
        let n = eb_test_alloc_end()
        #expect(n == 0, "\(n) allocations in 300 frames")
    }

    /// Split frames the per-step fallback ran partly alone are not split measurements.
    @Test func partlyAloneSplitFramesAreLeftOut() {
        var c = FrameSplitChooser()
        for _ in 0..<60 {
            let a = c.nextAlone()
            c.record(alone: a, nanos: a ? 4_500_000 : 9_000_000, clean: a)  // every split frame unclean
        }
        // No clean split sample: neither way is preferred on no evidence, so frames stay split.
        #expect(drive(&c, frames: 100, split: 2600, alone: 4500) <= 2)
    }

    /// A probe of split frames that falls while the per-step fallback runs steps alone measures
    /// nothing, but probing goes on: once split frames are clean and fast again, they are chosen.
    @Test func anUncleanProbeDoesNotEndProbing() {
        var c = FrameSplitChooser()
        _ = drive(&c, frames: 50, split: 7000, alone: 4500)  // split slower: alone is chosen
        for _ in 0..<200 {  // every probe lands in a per-step fallback
            let a = c.nextAlone()
            c.record(alone: a, nanos: a ? 4_500_000 : 4_600_000, clean: a)
        }
        _ = drive(&c, frames: 200, split: 2600, alone: 4500)
        #expect(drive(&c, frames: 300, split: 2600, alone: 4500) <= 3)
    }
}
