// The offline quantizer: calibrates a decomposed float graph on images, chooses activation ranges,
// quantizes weights per output channel, folds input normalization into the stem, and writes one
// int8 model file (safetensors + program) with a fidelity report.
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
    /// Leading ops to keep in float32 (see `FloatPrefixChoice`).
    public var floatPrefix: FloatPrefixChoice = .none
    /// `.auto` keeps the shortest float prefix whose held-out logits cosine reaches this.
    public var targetCosine: Double = 0.99
    /// `.auto` never keeps more than this share of the network's multiply-adds in float.
    public var maxFloatShare: Double = 0.5
    public init() {}
}

/// Where int8 begins.
public enum FloatPrefixChoice: Sendable, Equatable {
    /// Everything int8.
    case none
    /// The shortest prefix (cut at a single handed-over tensor) that reaches `targetCosine`.
    case auto
    /// Float through the op of this name (e.g. "blocks.1.1"), int8 after it.
    case through(String)
}

/// A quantized model before it is written: program, tensors, metadata.
public struct QuantizedModel {
    public var program: Int8Program
    public var writer: SafeTensorsWriter
}

public final class Quantizer {
    public let graph: FloatGraph
    public let preset: Preprocessing
    let network: FloatNetwork
    /// Activation that follows op i on its output tensor, if the decomposed graph has one.
    let fusedActivation: [Activation?]
    /// Observers: values a tensor holds after its producing op, and after its activation.
    var produced: [Int: TensorObserver] = [:]
    var activated: [Int: TensorObserver] = [:]
    /// Mean pixel value (0…255) per channel over the calibration views.
    var inputMeans: [Float] = [0, 0, 0]

    /// `graph` must be decomposed (activations and squeeze-and-excite as separate ops).
    public init(graph: FloatGraph, preset: Preprocessing) {
        self.graph = graph
        self.preset = preset
        network = FloatNetwork(graph: graph, isa: .best, threads: 1)
        var fused = [Activation?](repeating: nil, count: graph.ops.count)
        for i in graph.ops.indices.dropLast() {
            if case let .activation(t, act) = graph.ops[i + 1], t == graph.ops[i].output { fused[i] = act }
        }
        fusedActivation = fused
    }

    /// Writes `view` (uint8 crop, inputSize² × 3) as the float network's normalized input.
    func setInput(_ view: [UInt8]) {
        let scale = preset.normalizationScale, offset = preset.normalizationOffset
        let p = network.input
        for i in 0..<(view.count / 3) {
            for c in 0..<3 { p[3 * i + c] = Float(view[3 * i + c]) * scale[c] + offset[c] }
        }
    }

    /// Two passes over the calibration views: ranges, then histograms.
    public func calibrate(_ views: [[UInt8]], progress: ((String, Int, Int) -> Void)? = nil) {
        for t in graph.tensors.indices { produced[t] = TensorObserver(); activated[t] = TensorObserver() }
        var sums = [Double](repeating: 0, count: 3)
        for v in views { for i in 0..<v.count { sums[i % 3] += Double(v[i]) } }
        let pixels = Double(max(1, views.reduce(0) { $0 + $1.count / 3 }))
        inputMeans = sums.map { Float($0 / pixels) }
        for pass in 0..<2 {
            if pass == 1 {
                for o in produced.values { o.startHistogram() }
                for o in activated.values { o.startHistogram() }
            }
            for (n, view) in views.enumerated() {
                setInput(view)
                network.run { i in
                    let op = graph.ops[i]
                    let t = op.output
                    let observer = { if case .activation = op { return self.activated[t]! } else { return self.produced[t]! } }()
                    let p = UnsafePointer(network.pointer(to: t))
                    let count = graph.tensors[t].elementCount
                    if pass == 0 { observer.observeRange(p, count, channels: graph.tensors[t].shape.last!) } else { observer.observeHistogram(p, count) }
                }
                progress?(pass == 0 ? "calibrating (ranges)" : "calibrating (histograms)", n + 1, views.count)
            }
        }
    }

    /// Per-channel means of the value consumers of tensor t read (after its activation, if any).
    func channelMeans(_ t: TensorIndex) -> [Float] {
        if t == graph.input { return inputMeans }
        guard let i = graph.ops.firstIndex(where: { if case .activation = $0 { return false }; return $0.output == t }) else { return [] }
        return (fusedActivation[i] != nil ? activated[t]! : produced[t]!).channelMeans
    }

    /// Quantization of tensor t's final value (after its activation, if any) by `method`.
    func finalQuant(_ t: TensorIndex, producer i: Int, method: RangeMethod) -> QuantParams {
        let o = fusedActivation[i] != nil ? activated[t]! : produced[t]!
        let (lo, hi) = o.range(method)
        return QuantParams(min: lo, max: hi)
    }

    /// Builds the int8 program and its tensors from the calibrated statistics. With `floatOps` > 0
    /// (one of `graph.prefixCuts`) the first `floatOps` ops stay float32 and hand their output over
    /// quantized with its calibrated range.
    /// `fused` (the same network with activations and squeeze-and-excite fused, as the float path
    /// runs it) supplies the float prefix when it has a cut at the same tensor: fewer passes over
    /// memory than the decomposed graph.
    public func quantize(method: RangeMethod, floatOps: Int = 0, fused: FloatGraph? = nil) throws -> QuantizedModel {
        var w = SafeTensorsWriter()
        var tensors: [Int8TensorSpec] = []
        var ops: [Int8OpSpec] = []
        var names: [TensorIndex: String] = [:]
        var quants: [TensorIndex: QuantParams] = [:]
        let s = preset.inputSize
        var floatPrefix: FloatPrefixSpec?
        let inputName: String
        if floatOps > 0 {
            precondition(graph.prefixCuts.contains(floatOps), "not a prefix cut")
            let boundary = graph.liveTensors(cutBefore: floatOps)[0]
            let producer = graph.ops.indices.first { i in
                if case .activation = graph.ops[i] { return false }
                return graph.ops[i].output == boundary
            }!
            inputName = graph.opNames[producer]
            names[boundary] = inputName
            quants[boundary] = finalQuant(boundary, producer: producer, method: method)
            tensors.append(Int8TensorSpec(name: inputName, shape: graph.tensors[boundary].shape, quant: quants[boundary]!))
            var prefixGraph = graph.prefix(ops: floatOps)
            if let fused, let cut = fused.prefixCuts.first(where: { fused.tensors[fused.liveTensors(cutBefore: $0)[0]].name == graph.tensors[boundary].name }) {
                prefixGraph = fused.prefix(ops: cut)
            }
            w.add("float_prefix.parameters", dtype: .f32, shape: [prefixGraph.parameters.count], elements: prefixGraph.parameters)
            floatPrefix = FloatPrefixSpec(graph: FloatGraphSpec(prefixGraph), parameters: "float_prefix.parameters",
                                          normalizationScale: preset.normalizationScale, normalizationOffset: preset.normalizationOffset)
        } else {
            inputName = "input"
            names[graph.input] = "input"
            quants[graph.input] = QuantParams(scale: 1, zeroPoint: -128)
            tensors.append(Int8TensorSpec(name: "input", shape: [s, s, 3], quant: quants[graph.input]!))
        }
        let params = graph.parameters
        func slice(_ r: ParamRef) -> [Float] { Array(params[r.offset..<(r.offset + r.count)]) }

        func addOutput(_ t: TensorIndex, _ name: String, _ q: QuantParams) {
            names[t] = name
            quants[t] = q
            tensors.append(Int8TensorSpec(name: name, shape: graph.tensors[t].shape, quant: q))
        }
        /// Activation handling: (activation kind, pre-activation quant or nil, output quant).
        func epilogue(_ i: Int, _ t: TensorIndex) -> (Int8OpSpec.ActivationKind?, QuantParams?, QuantParams) {
            guard let act = fusedActivation[i], act != .none else { return (nil, nil, finalQuant(t, producer: i, method: method)) }
            // The 12-bit table grid has 16× finer steps: keep the full observed range, no clipping.
            let pre = produced[t]!.range(.minmax)
            switch act {
            case .relu, .relu6:
                return (act == .relu ? .relu : .relu6, nil, finalQuant(t, producer: i, method: method))
            case .silu:
                return (.silu, QuantParams(min: pre.0, max: pre.1, bits: 12), finalQuant(t, producer: i, method: method))
            case .sigmoid:
                return (.sigmoid, QuantParams(min: pre.0, max: pre.1, bits: 12), QuantParams(scale: 1 / 255, zeroPoint: -128))
            case .none:
                return (nil, nil, finalQuant(t, producer: i, method: method))
            }
        }

        for (i, op) in graph.ops.enumerated() where i >= floatOps {
            let opName = graph.opNames[i]
            switch op {
            case .activation:
                continue
            case .squeezeExcite:
                preconditionFailure("the quantizer needs a decomposed graph")
            case let .conv(x, y, wr, br, g, _):
                let (act, pre, out) = epilogue(i, y)
                let cin = graph.tensors[x].shape[2], cout = graph.tensors[y].shape[2], kk = g.kernel * g.kernel
                var weights = slice(wr)
                var bias = slice(br)
                let inQ = quants[x]!
                var kind = Int8OpSpec.Kind.gemm
                if x == graph.input {
                    // Fold (p·a_c + b_c) normalization into the stem: the real input is the pixel p.
                    // The bias is folded with the *quantized* weights around the pixel that normalizes
                    // to zero (p̄_c = −b_c/a_c), so weight rounding errors multiply (p − p̄), not p.
                    let a = preset.normalizationScale, b = preset.normalizationOffset
                    let center = (0..<cin).map { -b[$0] / a[$0] }
                    for o in 0..<cout { for r in 0..<kk { for c in 0..<cin { weights[(o * kk + r) * cin + c] *= a[c] } } }
                    let (q, scales) = quantizeRows(weights, rows: cout, bias: bias, inScale: inQ.scale)
                    // Bias correction: the weight rounding error times the mean (p − p̄) is a constant shift.
                    bias = (0..<cout).map { o in
                        var v = slice(br)[o]
                        for r in 0..<kk {
                            for c in 0..<cin {
                                let idx = (o * kk + r) * cin + c
                                let wq = Float(q[idx]) * scales[o]
                                v -= wq * center[c] + (wq - weights[idx]) * (inputMeans[c] - center[c])
                            }
                        }
                        return v
                    }
                    // Padding reads the pixel whose normalized value is 0.
                    let pads = center.map { Int8(max(-128, min(127, $0.rounded(.toNearestOrEven) - 128))) }
                    w.add(opName + ".pad", dtype: .i8, shape: [cin], elements: pads)
                    w.add(opName + ".weight", dtype: .i8, shape: [cout, kk * cin], elements: q)
                    w.add(opName + ".weight_scale", dtype: .f32, shape: [cout], elements: scales)
                    w.add(opName + ".bias", dtype: .i32, shape: [cout], elements: quantizeBias(bias, inScale: inQ.scale, weightScales: scales))
                    addOutput(y, opName, out)
                    ops.append(Int8OpSpec(name: opName, kind: .conv, inputs: [names[x]!], output: opName, kernel: g.kernel, stride: g.stride,
                                          padding: paddingMode(g), activation: act, preQuant: pre))
                    continue
                } else if !(g.kernel == 1 && g.stride == 1) {
                    kind = .conv
                    w.add(opName + ".pad", dtype: .i8, shape: [cin], elements: [Int8](repeating: Int8(inQ.zeroPoint), count: cin))
                }
                addWeights(&w, opName, weights: weights, bias: bias, rows: cout, inScale: inQ.scale, inputMeans: channelMeans(x), taps: kk)
                addOutput(y, opName, out)
                ops.append(Int8OpSpec(name: opName, kind: kind, inputs: [names[x]!], output: opName, kernel: g.kernel, stride: g.stride,
                                      padding: kind == .conv ? paddingMode(g) : nil, activation: act, preQuant: pre))
            case let .depthwise(x, y, wr, br, g, _):
                let (act, pre, out) = epilogue(i, y)
                let c = graph.tensors[x].shape[2], kk = g.kernel * g.kernel
                let weights = slice(wr)
                // Per-channel scales over the taps: transpose to [c][taps] for quantization, back after.
                var perChannel = [Float](repeating: 0, count: c * kk)
                for t in 0..<kk { for j in 0..<c { perChannel[j * kk + t] = weights[t * c + j] } }
                let (q, scales) = quantizeRows(perChannel, rows: c, bias: slice(br), inScale: quants[x]!.scale)
                var tapsMajor = [Int8](repeating: 0, count: c * kk)
                for t in 0..<kk { for j in 0..<c { tapsMajor[t * c + j] = q[j * kk + t] } }
                w.add(opName + ".weight", dtype: .i8, shape: [kk, c], elements: tapsMajor)
                w.add(opName + ".weight_scale", dtype: .f32, shape: [c], elements: scales)
                // Bias correction: E[(Wq − W)·x] per channel from the input's channel means.
                let means = channelMeans(x)
                var corrected = slice(br)
                if means.count == c {
                    for j in 0..<c { for t in 0..<kk { corrected[j] -= (Float(q[j * kk + t]) * scales[j] - perChannel[j * kk + t]) * means[j] } }
                }
                w.add(opName + ".bias", dtype: .i32, shape: [c], elements: quantizeBias(corrected, inScale: quants[x]!.scale, weightScales: scales))
                addOutput(y, opName, out)
                ops.append(Int8OpSpec(name: opName, kind: .depthwise, inputs: [names[x]!], output: opName, kernel: g.kernel,
                                      stride: g.stride, padding: paddingMode(g), activation: act, preQuant: pre))
            case let .globalAvgPool(x, y):
                let (_, _, out) = epilogue(i, y)
                addOutput(y, opName, out)
                ops.append(Int8OpSpec(name: opName, kind: .gavgpool, inputs: [names[x]!], output: opName))
            case let .linear(x, y, wr, br):
                let n = graph.tensors[y].elementCount
                if y == graph.output {
                    addWeights(&w, opName, weights: slice(wr), bias: slice(br), rows: n, inScale: quants[x]!.scale, inputMeans: channelMeans(x), taps: 1)
                    ops.append(Int8OpSpec(name: opName, kind: .classifier, inputs: [names[x]!], output: "logits"))
                } else {
                    let (act, pre, out) = epilogue(i, y)
                    addWeights(&w, opName, weights: slice(wr), bias: slice(br), rows: n, inScale: quants[x]!.scale, inputMeans: channelMeans(x), taps: 1)
                    addOutput(y, opName, out)
                    ops.append(Int8OpSpec(name: opName, kind: .gemm, inputs: [names[x]!], output: opName, activation: act, preQuant: pre))
                }
            case let .mulChannel(x, gate, y):
                let (_, _, out) = epilogue(i, y)
                addOutput(y, opName, out)
                ops.append(Int8OpSpec(name: opName, kind: .mulc, inputs: [names[x]!, names[gate]!], output: opName))
            case let .add(a, b, y):
                let (_, _, out) = epilogue(i, y)
                addOutput(y, opName, out)
                ops.append(Int8OpSpec(name: opName, kind: .add, inputs: [names[a]!, names[b]!], output: opName))
            }
        }
        let program = Int8Program(tensors: tensors, ops: ops, input: inputName, output: "logits",
                                  outputCount: graph.tensors[graph.output].elementCount, floatPrefix: floatPrefix)
        w.metadata["edgebone.format"] = Int8Network.formatName
        w.metadata["edgebone.format_version"] = String(Int8Program.formatVersion)
        w.metadata["edgebone.program"] = program.json()
        w.metadata["preprocessing"] = preset.json
        w.metadata["quantization.method"] = method.rawValue
        return QuantizedModel(program: program, writer: w)
    }

    private func paddingMode(_ g: ConvGeometry) -> PaddingMode {
        ConvGeometry(inH: g.inH, inW: g.inW, kernel: g.kernel, stride: g.stride, padding: .same) == g ? .same : .symmetric
    }

    /// Weights [rows][k] → int8 per row (symmetric, −127…127), int32 bias, fp32 scales. With the
    /// input's channel means (k = taps × channels, channel fastest), the bias absorbs the mean effect of
    /// weight rounding: b −= Σ (w_q − w)·E[x] (bias correction).
    private func addWeights(_ w: inout SafeTensorsWriter, _ name: String, weights: [Float], bias: [Float], rows: Int, inScale: Float,
                            inputMeans: [Float] = [], taps: Int = 1) {
        let (q, scales) = quantizeRows(weights, rows: rows, bias: bias, inScale: inScale)
        var bias = bias
        let k = weights.count / rows
        if !inputMeans.isEmpty && inputMeans.count * taps == k {
            for r in 0..<rows {
                for i in 0..<k { bias[r] -= (Float(q[r * k + i]) * scales[r] - weights[r * k + i]) * inputMeans[i % inputMeans.count] }
            }
        }
        w.add(name + ".weight", dtype: .i8, shape: [rows, weights.count / rows], elements: q)
        w.add(name + ".weight_scale", dtype: .f32, shape: [rows], elements: scales)
        w.add(name + ".bias", dtype: .i32, shape: [rows], elements: quantizeBias(bias, inScale: inScale, weightScales: scales))
    }
}

/// Symmetric per-row int8 quantization: scale = max|w| / 127, but never so small that the row's
/// bias (b / (s_in · s_w)) leaves ±2^24 (dead filters with tiny weights and a large bias).
func quantizeRows(_ w: [Float], rows: Int, bias: [Float], inScale: Float) -> ([Int8], [Float]) {
    let k = w.count / rows
    var q = [Int8](repeating: 0, count: w.count)
    var scales = [Float](repeating: 0, count: rows)
    for r in 0..<rows {
        var m: Float = 0
        for i in 0..<k { m = max(m, abs(w[r * k + i])) }
        let s = max(m / 127, abs(bias[r]) / (inScale * Float(1 << 24)), 1e-20)
        scales[r] = s
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
