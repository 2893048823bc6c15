// The offline quantizer: calibrates the plain float graph of a checkpoint on images, chooses
// activation ranges, and rewrites the graph into int8 with per-op-kind rules — any set of nodes may
// stay f32, with quantize/dequantize nodes at the boundaries — then fuses activations into epilogues.
// Input normalization is folded into an int8 stem by its own pass.
import CEdgeboneKernels
import Edgebone

/// Options of one quantization run.
public struct QuantizeOptions: Sendable {
    public var method: RangeMethod = .mse
    /// Random crops/flips added per calibration image.
    public var augment: Int = 0
    /// Every n-th view is held out of calibration and used for the report (0: evaluate on all).
    public var holdoutEvery: Int = 5
    public var seed: UInt64 = 1
    /// Nodes to keep in float32.
    public var keepFloat: KeepFloat = .none
    /// `.auto` stops adding float nodes once the held-out logits cosine reaches this.
    public var targetCosine: Double = 0.99
    /// `.auto` never keeps more than this share of the network's multiply-adds in float.
    public var maxFloatShare: Double = 0.5
    /// Bits of the grids that index table activations, 8…12 (nil: Quantizer.defaultTableBits).
    public var tableBits: Int?
    /// Which int8 convolutions requantize by shifting (Quantizer.shiftRequant).
    public var shiftRequant: ShiftRequant = .convolutions
    public init() {}
}

/// Which int8 ops get power-of-two requantization scales (Quantizer.shiftRequant).
public enum ShiftRequant: String, Sendable, CaseIterable {
    /// None: every op multiplies by its fp32 scale.
    case none = "fp32"
    /// Convolutions (1×1 and k×k) but gated ones; depthwise keeps fp32.
    case convolutions = "shift"
    /// Depthwise convolutions too.
    case all = "shift-all"
}

/// Which nodes stay float32.
public enum KeepFloat: Sendable, Equatable {
    /// Everything int8.
    case none
    /// The cheapest set, by measured sensitivity, that reaches `targetCosine`.
    case auto
    /// Named nodes or blocks ("blocks.3.0.conv_dw", "blocks.1.1", "conv_stem").
    case nodes([String])
    /// Every node up to and including this one or block (`--float-prefix`).
    case prefix(String)
}

/// A quantized model before it is written.
public struct QuantizedModel {
    public var graph: Graph
    /// Names of the plain graph's nodes kept in f32.
    public var floatNodes: Set<String>
    public func writer(metadata: [String: String]) -> SafeTensorsWriter {
        var w = SafeTensorsWriter()
        graph.write(into: &w)
        w.metadata.merge(metadata) { _, new in new }
        return w
    }
}

public final class Quantizer {
    /// The plain float graph (activations and squeeze-and-excite as their own nodes).
    public let graph: Graph
    public let preset: Preprocessing
    let network: Network
    /// Values each tensor held over the calibration views (nil: never observed).
    var observers: [TensorObserver?]
    /// Mean pixel value (0…255) per channel over the calibration views.
    var inputMeans: [Float] = [0, 0, 0]
    let producers: [Int?]
    /// Bits of the grids that index table activations, 8…12 (nil: defaultTableBits).
    public var tableBits: Int?
    /// Which int8 convolutions get per-channel weight scales that make their requantization scale
    /// (input × weight / target: a table's grid or the output) a power of two, so that their epilogue
    /// shifts (Attributes.shiftRequant): each channel's weight scale is rounded up to the next allowed
    /// value, less than twice the plain one (its int8 weights then span 64…127 instead of 127).
    /// Depthwise convolutions are left out by default: a channel of 9 or 25 weights feels that lost
    /// half bit most (the real Lite0's held-out cosine 0.9981 → 0.9965, min 0.9943 → 0.9865, with
    /// them; 0.9977, min 0.9952, without). The 1×1 and k×k convolutions cost the real Lite0 0.0004 of
    /// cosine and the seeded B0 0.0025 (0.9725 → 0.9700), and save 3.5% of a B0 frame, 6% of a Lite0
    /// one (README.md, quantization).
    public var shiftRequant: ShiftRequant = .convolutions

    /// 9 bits for SiLU and sigmoid: looked up by byte permutes (AVX-512 VBMI) in about a fifth of the
    /// step planes' instructions, and on the trimmed range (tableGridRange) B0's held-out fidelity is the
    /// full-range 12-bit grid's (logits cosine 0.9725 vs 0.9729, Benchmarks/README.md). 12 for GELU:
    /// on SwinV2-T's fc1 shapes 9 bits would save about 0.19 ms a frame (kernel-bench.sh: about 1% of its
    /// 19.8 ms on Zen 5) and cost 1e-4 of cosine (0.99909 vs 0.99918).
    public static func defaultTableBits(_ f: Activation) -> Int { f == .gelu ? 12 : 9 }

    /// `graph` must be plain: no fused activations, no squeeze_excite.
    public init(graph: Graph, preset: Preprocessing) throws {
        precondition(!graph.nodes.contains { $0.op == .squeezeExcite || ($0.attributes.activation ?? Activation.none) != Activation.none && $0.op != .activation },
                     "the quantizer needs a plain graph")
        self.graph = graph
        self.preset = preset
        network = try Network(graph: graph, isa: .best, threads: 1)
        observers = [TensorObserver?](repeating: nil, count: graph.tensors.count)
        producers = graph.producers
    }

    /// Writes `view` (uint8 crop, inputSize² × 3) as the float network's normalized input.
    func setInput(_ view: [UInt8]) {
        view.withUnsafeBufferPointer { network.setInput(rgb: $0.baseAddress!) }
    }

    /// Two passes over the calibration views: ranges, then histograms.
    public func calibrate(_ views: [[UInt8]], progress: ((String, Int, Int) -> Void)? = nil) {
        for t in graph.tensors.indices { observers[t] = TensorObserver() }
        var sums = [Double](repeating: 0, count: 3)
        for v in views { for i in 0..<v.count { sums[i % 3] += Double(v[i]) } }
        let pixels = Double(max(1, views.reduce(0) { $0 + $1.count / 3 }))
        inputMeans = sums.map { Float($0 / pixels) }
        for pass in 0..<2 {
            if pass == 1 { for o in observers { o?.startHistogram() } }
            for (n, view) in views.enumerated() {
                setInput(view)
                observe(graph.input, pass: pass)
                network.run { i in observe(graph.nodes[i].output, pass: pass) }
                progress?(pass == 0 ? "calibrating (ranges)" : "calibrating (histograms)", n + 1, views.count)
            }
        }
        func observe(_ t: Int, pass: Int) {
            let p = UnsafePointer(network.pointer(to: t).assumingMemoryBound(to: Float.self))
            let count = graph.tensors[t].elementCount
            if pass == 0 { observers[t]!.observeRange(p, count, channels: graph.tensors[t].shape.last!) } else { observers[t]!.observeHistogram(p, count) }
        }
    }

    /// Per-channel means of tensor t over the calibration views.
    func channelMeans(_ t: Int) -> [Float] { t == graph.input ? inputMeans : observers[t]?.channelMeans ?? [] }

    /// int8 quantization of tensor t: a sigmoid's output on a fixed [0, 1] grid, the rest by `method`.
    func quant(_ t: Int, method: RangeMethod) -> QuantParams {
        if let p = producers[t], graph.nodes[p].op == .activation, graph.nodes[p].attributes.activation == .sigmoid {
            return QuantParams(scale: 1 / 255, zeroPoint: -128)
        }
        let (lo, hi) = observers[t]!.range(method)
        return QuantParams(min: lo, max: hi)
    }

    /// Node names `choice` keeps in f32. Activations follow their producer; a block name covers the
    /// block. Throws for names the graph does not have.
    public func floatNodes(_ choice: KeepFloat) throws -> Set<String> {
        let names = graph.nodes.map(\.name)
        func covered(_ item: String) -> [Int] {
            names.indices.filter { names[$0] == item || names[$0].hasPrefix(item + ".") }
        }
        func withActivations(_ set: Set<Int>) -> Set<String> {
            var out = Set(set.map { names[$0] })
            for (j, n) in graph.nodes.enumerated() where n.op == .activation {
                if let p = producers[n.inputs[0]], set.contains(p) { out.insert(names[j]) }
            }
            return out
        }
        switch choice {
        case .none, .auto: return []
        case let .nodes(items):
            var set = Set<Int>()
            for item in items {
                let c = covered(item)
                guard !c.isEmpty else { throw QuantizeError.invalidOption("--keep-float \(item): no node or block of that name (e.g. \(examples))") }
                set.formUnion(c)
            }
            return withActivations(set)
        case let .prefix(item):
            guard let last = covered(item).max() else { throw QuantizeError.invalidOption("--float-prefix \(item): no node or block of that name (e.g. \(examples))") }
            return withActivations(Set(0...last))
        }
    }

    private var examples: String {
        graph.nodes.filter { $0.op != .activation }.map(\.name).prefix(4).joined(separator: ", ") + ", blocks.1.0 …"
    }

    /// Op kinds that run in f32 only (LayerNorm, attention and squeeze-and-excite stay float islands).
    static let floatOnly: Set<OpKind> = [.layerNorm, .attention, .squeezeExcite]
    /// Op kinds that only move values: in int8 their output keeps the input's quantization.
    static let movesData: Set<OpKind> = [.windowPartition, .windowReverse, .patchMerge]

    /// The graph rewritten with every node not in `keepFloat` (nor of an f32-only kind) in int8.
    public func quantize(method: RangeMethod, keepFloat: Set<String> = []) throws -> QuantizedModel {
        var g = Graph()
        g.normalization = graph.normalization
        let isFloat = graph.nodes.map { keepFloat.contains($0.name) || Self.floatOnly.contains($0.op) }
        // The tensor in each dtype, made on first use (conversion nodes at precision boundaries).
        var version: [[TensorType: Int]] = Array(repeating: [:], count: graph.tensors.count)
        let consumers = graph.consumers
        let inputInt8 = !consumers[graph.input].contains { isFloat[$0] } && consumers[graph.input].allSatisfy { graph.nodes[$0].op == .conv }
        g.input = inputInt8 ? g.addTensor("input", shape: graph.tensors[graph.input].shape, type: .qs8, quant: .pixels)
                            : g.addTensor("input", shape: graph.tensors[graph.input].shape)
        version[graph.input][inputInt8 ? .qs8 : .f32] = g.input
        func tensor(_ t: Int, as type: TensorType) -> Int {
            if let v = version[t][type] { return v }
            let src = version[t][.f32] ?? version[t][.qs8]!
            let name = graph.tensors[t].name + (type == .qs8 ? ".quantize" : ".dequantize")
            let v = g.addNode(name, type == .qs8 ? .quantize : .dequantize, inputs: [src], outputShape: graph.tensors[t].shape, type: type,
                              quant: type == .qs8 ? quant(t, method: method) : nil)
            version[t][type] = v
            return v
        }
        // The grid each int8 convolution will requantize onto once its activation fuses (shift
        // requantization snaps the weight scales to it); a node whose scales do not come out as powers
        // of two on its fused target (a fusion that did not happen) keeps fp32.
        var grids: [Int: QuantParams] = [:]
        if shiftRequant != .none {
            let ops: Set<OpKind> = shiftRequant == .all ? [.conv, .depthwise] : [.conv]
            for (i, node) in graph.nodes.enumerated() where ops.contains(node.op) && !isFloat[i] {
                let t = node.output
                guard t != graph.output else { continue }
                if consumers[t].count == 1, let j = consumers[t].first, graph.nodes[j].op == .activation, !isFloat[j] {
                    // A table's grid, or the output of a clamp (ReLU, ReLU6), which requantizes onto it.
                    let act = graph.nodes[j], out = quant(act.output, method: method)
                    grids[i] = tableGrid(pre: t, act: act, out: out)?.grid ?? out
                } else {
                    grids[i] = quant(t, method: method)
                }
            }
        }
        // Gates folded into the 1×1 convolution that reads their product (see `foldsGate`): the product's
        // tensor is never made; the convolution reads x and the gate.
        var gated: [Int: [Int]] = [:]
        for (i, node) in graph.nodes.enumerated() {
            if foldsGate(i, isFloat: isFloat, consumers: consumers) {
                gated[node.output] = node.inputs
                continue
            }
            let type: TensorType = isFloat[i] ? .f32 : .qs8
            let inputs = (gated[node.inputs[0]] ?? node.inputs).map { tensor($0, as: type) }
            let y = node.output, shape = graph.tensors[y].shape
            var outType = type
            if y == graph.output && node.op == .linear { outType = .f32 }  // the dequantizing head: logits stay float
            var consts: [String: Constant] = [:]
            if type == .f32 {
                consts = graph.constants(of: node)
            } else {
                let xq = g.tensors[inputs[0]].quant!
                // Weight scales snapped so that input × weight / grid is a power of two (shift requantization).
                let snap = gated[node.inputs[0]] == nil ? grids[i].map { Double($0.scale) / Double(xq.scale) } : nil
                switch node.op {
                case .conv where node.inputs[0] == graph.input && inputInt8:
                    consts = foldedStem(node, inScale: xq.scale, snap: snap)
                case .conv:
                    let cin = graph.tensors[node.inputs[0]].shape[2], k = node.attributes.kernel!
                    consts = quantizedWeights(node, inScale: xq.scale, inputMeans: channelMeans(node.inputs[0]), taps: k * k, snap: snap)
                    if !(k == 1 && node.attributes.stride == 1) { consts["pad"] = Constant(int8: [Int8](repeating: Int8(xq.zeroPoint), count: cin), shape: [cin]) }
                case .depthwise:
                    consts = quantizedDepthwise(node, inScale: xq.scale, snap: snap)
                case .linear:
                    consts = quantizedWeights(node, inScale: xq.scale, inputMeans: channelMeans(node.inputs[0]), taps: 1)
                default: break
                }
            }
            // Data movement keeps its input's quantization; every other int8 output gets its calibrated range.
            let outQuant = outType != .qs8 ? nil : Self.movesData.contains(node.op) ? g.tensors[inputs[0]].quant : quant(y, method: method)
            let out = g.addNode(node.name, node.op, inputs: inputs, outputShape: shape, type: outType,
                                quant: outQuant, attributes: node.attributes, constants: consts)
            version[y][outType] = out
        }
        g.output = tensor(graph.output, as: .f32)
        // Table activations fuse with a grid of `tableBits` over the pre-activation's observed range,
        // trimmed to where the quantized activation still changes (tableGridRange).
        let byName = Dictionary(uniqueKeysWithValues: graph.tensors.indices.map { (graph.tensors[$0].name, $0) })
        var fused = g.fusingActivations { _, pre, act in
            guard let t = byName[g.tensors[pre].name], let out = g.tensors[act.output].quant else { return nil }
            return tableGrid(pre: t, act: act, out: out)
        }.graph.fusingSqueezeExcite().pruned()
        // Shift requantization where the snapped scales came out as powers of two on the fused grid.
        let snapped = Set(grids.keys.map { graph.nodes[$0].name })
        for (i, node) in fused.nodes.enumerated() where snapped.contains(node.name) && node.inputs.count == 1 {
            fused.nodes[i].attributes.shiftRequant = true
            if (try? fused.shiftCounts(fused.nodes[i], inputScale: fused.tensors[node.inputs[0]].quant!.scale)) == nil {
                fused.nodes[i].attributes.shiftRequant = nil
            }
        }
        return QuantizedModel(graph: fused, floatNodes: keepFloat)
    }

    /// The grid and bits a table activation `act` of pre-activation tensor `t` (of the plain graph) is
    /// indexed on: `tableBits` over the observed range, trimmed (tableGridRange); nil for a clamp.
    func tableGrid(pre t: Int, act: Node, out: QuantParams) -> (grid: QuantParams, bits: Int)? {
        guard let o = observers[t], let f = act.attributes.activation, !f.isClamp else { return nil }
        let r = Self.tableGridRange(o.range(.minmax), f, out: out), bits = tableBits ?? Self.defaultTableBits(f)
        return (QuantParams(min: r.lo, max: r.hi, bits: bits), bits)
    }

    /// The part of a pre-activation's observed range [lo, hi] a table grid must cover: where the
    /// activation, rounded to its int8 output grid, no longer changes (SiLU below about −5, where it
    /// rounds to its value at lo; above the output grid's clipping point; sigmoid at both ends), the
    /// grid clamps instead, and every table entry stays what it was. Lossless, and on B0 it halves the
    /// span (SiLU [−14, 14] → [−5.8, 8.9] at the stem), so a 9-bit grid does what a 12-bit one did over
    /// the full range. Scanned in 65,536 steps from each end.
    static func tableGridRange(_ r: (Float, Float), _ f: Activation, out: QuantParams) -> (lo: Float, hi: Float) {
        let (lo0, hi0) = r
        guard hi0 > lo0 else { return (lo0, hi0) }
        let n = 1 << 16, step = (hi0 - lo0) / Float(n)
        let atLo = out.quantize(f.apply(lo0)), atHi = out.quantize(f.apply(hi0))
        var lo = lo0, hi = hi0
        for i in 1..<n {
            let x = lo0 + Float(i) * step
            if out.quantize(f.apply(x)) != atLo { break }
            lo = x
        }
        for i in 1..<n {
            let x = hi0 - Float(i) * step
            if x <= lo || out.quantize(f.apply(x)) != atHi { break }
            hi = x
        }
        return (lo, hi)
    }

    /// Whether int8 mul_channel node `i` (x · gate, squeeze-and-excite) folds into the int8 1×1 convolution
    /// that alone reads its product: that convolution then requantizes its weights with the gate for every
    /// frame (eb_qs8_gate_fold), which costs a pass over its weights, where the product costs a pass over
    /// the activations and, above all, one int8 rounding of them on a single per-tensor grid — of all
    /// B0's tensors the one that costs the most fidelity (`Benchmarks/fake_quant_se_fold.py`). Folded where
    /// the activations outnumber the weights at least `gateFoldRatio` times (B0: blocks 0–2, 19–780×).
    func foldsGate(_ i: Int, isFloat: [Bool], consumers: [[Int]]) -> Bool {
        let node = graph.nodes[i], y = node.output
        guard node.op == .mulChannel, !isFloat[i], y != graph.output, consumers[y].count == 1 else { return false }
        let c = consumers[y][0], conv = graph.nodes[c]
        guard conv.op == .conv, !isFloat[c], conv.inputs == [y], conv.attributes.kernel == 1, conv.attributes.stride == 1,
              let weights = graph.constant(conv, "weight") else { return false }
        return graph.tensors[y].elementCount >= Self.gateFoldRatio * weights.elementCount
    }
    static let gateFoldRatio = 4

    /// Input-normalization folding for a stem that reads the pixels in int8: (p·a_c + b_c) is folded into
    /// the weights; the bias is folded with the *quantized* weights around the pixel that normalizes to zero
    /// (p̄_c = −b_c/a_c), so weight rounding errors multiply (p − p̄), not p; padding reads p̄.
    func foldedStem(_ node: Node, inScale: Float, snap: Double? = nil) -> [String: Constant] {
        let a = graph.normalization.scale, b = graph.normalization.offset
        var weights = graph.constant(node, "weight")!.floats
        let bias0 = graph.constant(node, "bias")!.floats
        let cout = bias0.count, cin = graph.tensors[node.inputs[0]].shape[2], kk = weights.count / (cout * cin)
        let center = (0..<cin).map { -b[$0] / a[$0] }
        for o in 0..<cout { for r in 0..<kk { for c in 0..<cin { weights[(o * kk + r) * cin + c] *= a[c] } } }
        let (q, scales) = quantizeRows(weights, rows: cout, bias: bias0, inScale: inScale, snap: snap)
        // Bias correction: the weight rounding error times the mean (p − p̄) is a constant shift.
        let bias = (0..<cout).map { o in
            var v = bias0[o]
            for r in 0..<kk {
                for c in 0..<cin {
                    let idx = (o * kk + r) * cin + c
                    let wq = Float(q[idx]) * scales[o]
                    v -= wq * center[c] + (wq - weights[idx]) * (inputMeans[c] - center[c])
                }
            }
            return v
        }
        let pads = center.map { Int8(max(-128, min(127, $0.rounded(.toNearestOrEven) - 128))) }
        return ["pad": Constant(int8: pads, shape: [cin]), "weight": Constant(int8: q, shape: [cout, kk * cin]),
                "weight_scale": Constant(floats: scales, shape: [cout]),
                "bias": Constant(int32: quantizeBias(bias, inScale: inScale, weightScales: scales), shape: [cout])]
    }

    /// Depthwise weights [taps][c]: per-channel scales over the taps, bias corrected from the input's channel means.
    func quantizedDepthwise(_ node: Node, inScale: Float, snap: Double? = nil) -> [String: Constant] {
        let weights = graph.constant(node, "weight")!.floats, bias = graph.constant(node, "bias")!.floats
        let c = bias.count, kk = weights.count / c
        var perChannel = [Float](repeating: 0, count: c * kk)
        for t in 0..<kk { for j in 0..<c { perChannel[j * kk + t] = weights[t * c + j] } }
        let (q, scales) = quantizeRows(perChannel, rows: c, bias: bias, inScale: inScale, snap: snap)
        var tapsMajor = [Int8](repeating: 0, count: c * kk)
        for t in 0..<kk { for j in 0..<c { tapsMajor[t * c + j] = q[j * kk + t] } }
        // Bias correction: E[(Wq − W)·x] per channel from the input's channel means.
        let means = channelMeans(node.inputs[0])
        var corrected = bias
        if means.count == c {
            for j in 0..<c { for t in 0..<kk { corrected[j] -= (Float(q[j * kk + t]) * scales[j] - perChannel[j * kk + t]) * means[j] } }
        }
        return ["weight": Constant(int8: tapsMajor, shape: [kk, c]), "weight_scale": Constant(floats: scales, shape: [c]),
                "bias": Constant(int32: quantizeBias(corrected, inScale: inScale, weightScales: scales), shape: [c])]
    }

    /// Weights [rows][k] → int8 per row (symmetric, −127…127), int32 bias, fp32 scales. With the input's
    /// channel means (k = taps × channels, channel fastest), the bias absorbs the mean effect of weight
    /// rounding: b −= Σ (w_q − w)·E[x] (bias correction).
    func quantizedWeights(_ node: Node, inScale: Float, inputMeans: [Float], taps: Int, snap: Double? = nil) -> [String: Constant] {
        let weights = graph.constant(node, "weight")!.floats
        var bias = graph.constant(node, "bias")!.floats
        let rows = bias.count, k = weights.count / rows
        let (q, scales) = quantizeRows(weights, rows: rows, bias: bias, inScale: inScale, snap: snap)
        if !inputMeans.isEmpty && inputMeans.count * taps == k {
            for r in 0..<rows {
                for i in 0..<k { bias[r] -= (Float(q[r * k + i]) * scales[r] - weights[r * k + i]) * inputMeans[i % inputMeans.count] }
            }
        }
        return ["weight": Constant(int8: q, shape: [rows, k]), "weight_scale": Constant(floats: scales, shape: [rows]),
                "bias": Constant(int32: quantizeBias(bias, inScale: inScale, weightScales: scales), shape: [rows])]
    }
}

/// Symmetric per-row int8 quantization: scale = max|w| / 127, but never so small that the row's
/// bias (b / (s_in · s_w)) leaves ±2^24 (dead filters with tiny weights and a large bias). With `snap`
/// (F = grid scale / input scale) each scale is rounded up to the next F · 2^-e (e in 0…30), so that
/// input × weight / grid is exactly 2^-e — unless some row cannot be, and then none is.
func quantizeRows(_ w: [Float], rows: Int, bias: [Float], inScale: Float, snap: Double? = nil) -> ([Int8], [Float]) {
    let k = w.count / rows
    var q = [Int8](repeating: 0, count: w.count)
    var scales = (0..<rows).map { r in
        var m: Float = 0
        for i in 0..<k { m = max(m, abs(w[r * k + i])) }
        return max(m / 127, abs(bias[r]) / (inScale * Float(1 << 24)), 1e-20)
    }
    if let f = snap {
        // e = floor(log2(F / s)): the largest count whose F · 2^-e is still at least s.
        let counts = scales.map { s -> Int in
            let ratio = f / Double(s)
            return ratio.isFinite && ratio >= 1 ? Int(ratio.exponent) : -1
        }
        if counts.allSatisfy({ (0...30).contains($0) }) {
            scales = counts.map { Float(f * Double(sign: .plus, exponent: -$0, significand: 1)) }
        }
    }
    for r in 0..<rows {
        let s = scales[r]
        for i in 0..<k { q[r * k + i] = Int8(max(-127, min(127, (w[r * k + i] / s).rounded(.toNearestOrEven)))) }
    }
    return (q, scales)
}

func quantizeBias(_ b: [Float], inScale: Float, weightScales: [Float]) -> [Int32] {
    zip(b, weightScales).map { v, s in
        let q = (Double(v) / (Double(inScale) * Double(s))).rounded(.toNearestOrEven)
        return Int32(max(Double(Int32.min), min(Double(Int32.max), q)))
    }
}
