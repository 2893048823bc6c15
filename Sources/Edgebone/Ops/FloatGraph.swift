// A float32 network as a list of ops over HWC tensors (batch 1), with all parameters in one array.
// Built by a model family (EdgeboneModels), compiled by FloatNetwork into steps over one arena.

/// Activation applied in an op's epilogue. Raw values match the C kernels' EB_ACT_*.
public enum Activation: Int32, Sendable, Codable {
    case none = 0, relu = 1, relu6 = 2, silu = 3, sigmoid = 4
}

/// How a convolution pads its input.
public enum PaddingMode: String, Sendable, Codable {
    /// PyTorch-style symmetric: ((stride − 1) + (k − 1)) / 2 on every side.
    case symmetric
    /// TensorFlow "SAME": output = ceil(in / stride), the odd pixel of padding goes bottom/right.
    case same
}

/// Zero padding before and after each spatial axis, and the resulting output size.
public struct ConvGeometry: Sendable, Equatable, Codable {
    public var inH: Int, inW: Int
    public var kernel: Int, stride: Int
    public var padTop: Int, padLeft: Int
    public var outH: Int, outW: Int

    public init(inH: Int, inW: Int, kernel: Int, stride: Int, padding: PaddingMode) {
        precondition(kernel >= 1 && stride >= 1 && inH >= 1 && inW >= 1)
        self.inH = inH; self.inW = inW; self.kernel = kernel; self.stride = stride
        switch padding {
        case .symmetric:
            let p = ((stride - 1) + (kernel - 1)) / 2
            padTop = p; padLeft = p
            outH = (inH + 2 * p - kernel) / stride + 1
            outW = (inW + 2 * p - kernel) / stride + 1
        case .same:
            outH = (inH + stride - 1) / stride
            outW = (inW + stride - 1) / stride
            padTop = max((outH - 1) * stride + kernel - inH, 0) / 2
            padLeft = max((outW - 1) * stride + kernel - inW, 0) / 2
        }
    }
}

/// Offset and length of a parameter block inside `FloatGraph.parameters`.
public struct ParamRef: Sendable, Equatable, Codable {
    public var offset: Int, count: Int
}

/// A tensor of the graph: `shape` is [h, w, c] for feature maps, [n] for vectors.
public struct FloatTensor: Sendable, Equatable, Codable {
    public var name: String
    public var shape: [Int]
    public var elementCount: Int { shape.reduce(1, *) }
}

public typealias TensorIndex = Int

/// One op. Weight layouts are stated per case; all are row-major float32.
public enum FloatOp: Sendable, Equatable, Codable {
    /// Dense convolution. weights: [cout][k][k][cin] (output channel, then HWC), bias: [cout].
    case conv(input: TensorIndex, output: TensorIndex, weights: ParamRef, bias: ParamRef, geometry: ConvGeometry, activation: Activation)
    /// Depthwise convolution. weights: [k][k][c], bias: [c].
    case depthwise(input: TensorIndex, output: TensorIndex, weights: ParamRef, bias: ParamRef, geometry: ConvGeometry, activation: Activation)
    /// Squeeze-and-excite, in place on `tensor` ([h, w, c]). reduce: [rd][c] + [rd], expand: [c][rd] + [c];
    /// `activation` follows the reduce, the gate is a sigmoid.
    case squeezeExcite(tensor: TensorIndex, reduceWeights: ParamRef, reduceBias: ParamRef, expandWeights: ParamRef, expandBias: ParamRef, reduced: Int, activation: Activation)
    case add(a: TensorIndex, b: TensorIndex, output: TensorIndex)
    /// [h, w, c] → [c].
    case globalAvgPool(input: TensorIndex, output: TensorIndex)
    /// [k] → [n]. weights: [n][k], bias: [n].
    case linear(input: TensorIndex, output: TensorIndex, weights: ParamRef, bias: ParamRef)
    /// In place: tensor = activation(tensor). Only in decomposed graphs (calibration), where
    /// pre-activation values must be observable.
    case activation(tensor: TensorIndex, activation: Activation)
    /// output[r][j] = x[r][j] * gate[j]; x: [h, w, c], gate: [c] (squeeze-and-excite, decomposed).
    case mulChannel(x: TensorIndex, gate: TensorIndex, output: TensorIndex)

    /// Tensors read.
    public var inputs: [TensorIndex] {
        switch self {
        case let .conv(i, _, _, _, _, _), let .depthwise(i, _, _, _, _, _), let .globalAvgPool(i, _), let .linear(i, _, _, _): return [i]
        case let .squeezeExcite(t, _, _, _, _, _, _), let .activation(t, _): return [t]
        case let .add(a, b, _): return [a, b]
        case let .mulChannel(x, g, _): return [x, g]
        }
    }

    /// Tensor written (for squeeze-and-excite, the same one it reads).
    public var output: TensorIndex {
        switch self {
        case let .conv(_, o, _, _, _, _), let .depthwise(_, o, _, _, _, _), let .globalAvgPool(_, o), let .linear(_, o, _, _), let .add(_, _, o),
             let .mulChannel(_, _, o): return o
        case let .squeezeExcite(t, _, _, _, _, _, _), let .activation(t, _): return t
        }
    }

    /// Multiply-accumulates per invocation (for GMAC/s in profiles).
    public func macs(_ tensors: [FloatTensor]) -> Int {
        switch self {
        case let .conv(i, o, _, _, g, _): return tensors[o].elementCount * g.kernel * g.kernel * tensors[i].shape[2]
        case let .depthwise(_, o, _, _, g, _): return tensors[o].elementCount * g.kernel * g.kernel
        case let .squeezeExcite(t, _, _, _, _, rd, _): return 2 * tensors[t].shape[2] * rd + tensors[t].elementCount
        case let .add(_, _, o): return tensors[o].elementCount
        case let .globalAvgPool(i, _): return tensors[i].elementCount
        case let .linear(i, o, _, _): return tensors[i].elementCount * tensors[o].elementCount
        case let .activation(t, _): return tensors[t].elementCount
        case let .mulChannel(_, _, o): return tensors[o].elementCount
        }
    }

    public var kind: String {
        switch self {
        case .conv(_, _, _, _, let g, _): return g.kernel == 1 && g.stride == 1 ? "conv1x1" : "conv\(g.kernel)x\(g.kernel)"
        case .depthwise(_, _, _, _, let g, _): return "dwconv\(g.kernel)x\(g.kernel)"
        case .squeezeExcite: return "se"
        case .add: return "add"
        case .globalAvgPool: return "avgpool"
        case .linear: return "linear"
        case .activation: return "act"
        case .mulChannel: return "mulc"
        }
    }
}

/// A float network: tensors, ops in execution order, parameters.
public struct FloatGraph: Sendable {
    public var tensors: [FloatTensor] = []
    public var ops: [FloatOp] = []
    /// Op names (checkpoint prefixes, e.g. "blocks.1.0.conv_pw"), parallel to `ops`.
    public var opNames: [String] = []
    public var parameters: [Float] = []
    public var input: TensorIndex = 0
    public var output: TensorIndex = 0

    public init() {}

    public var macs: Int { ops.reduce(0) { $0 + $1.macs(tensors) } }

    // MARK: Building

    public mutating func addTensor(_ name: String, shape: [Int]) -> TensorIndex {
        tensors.append(FloatTensor(name: name, shape: shape))
        return tensors.count - 1
    }

    public mutating func addParameters(_ values: [Float]) -> ParamRef {
        let ref = ParamRef(offset: parameters.count, count: values.count)
        parameters.append(contentsOf: values)
        return ref
    }

    public mutating func setInput(height: Int, width: Int, channels: Int) -> TensorIndex {
        input = addTensor("input", shape: [height, width, channels])
        return input
    }

    /// Dense convolution; weights [cout][k][k][cin].
    public mutating func conv(_ name: String, _ x: TensorIndex, weights: [Float], bias: [Float], outChannels: Int,
                              kernel: Int, stride: Int, padding: PaddingMode, activation: Activation) -> TensorIndex {
        let s = tensors[x].shape
        precondition(weights.count == outChannels * kernel * kernel * s[2] && bias.count == outChannels)
        let g = ConvGeometry(inH: s[0], inW: s[1], kernel: kernel, stride: stride, padding: padding)
        let y = addTensor(name, shape: [g.outH, g.outW, outChannels])
        ops.append(.conv(input: x, output: y, weights: addParameters(weights), bias: addParameters(bias), geometry: g, activation: activation))
        opNames.append(name)
        return y
    }

    /// Depthwise convolution; weights [k][k][c].
    public mutating func depthwise(_ name: String, _ x: TensorIndex, weights: [Float], bias: [Float], kernel: Int,
                                   stride: Int, padding: PaddingMode, activation: Activation) -> TensorIndex {
        let s = tensors[x].shape
        precondition(weights.count == kernel * kernel * s[2] && bias.count == s[2])
        let g = ConvGeometry(inH: s[0], inW: s[1], kernel: kernel, stride: stride, padding: padding)
        let y = addTensor(name, shape: [g.outH, g.outW, s[2]])
        ops.append(.depthwise(input: x, output: y, weights: addParameters(weights), bias: addParameters(bias), geometry: g, activation: activation))
        opNames.append(name)
        return y
    }

    public mutating func squeezeExcite(_ name: String, _ x: TensorIndex, reduceWeights: [Float], reduceBias: [Float],
                                       expandWeights: [Float], expandBias: [Float], activation: Activation) {
        let c = tensors[x].shape[2], rd = reduceBias.count
        precondition(reduceWeights.count == rd * c && expandWeights.count == c * rd && expandBias.count == c)
        ops.append(.squeezeExcite(tensor: x, reduceWeights: addParameters(reduceWeights), reduceBias: addParameters(reduceBias),
                                  expandWeights: addParameters(expandWeights), expandBias: addParameters(expandBias),
                                  reduced: rd, activation: activation))
        opNames.append(name)
    }

    public mutating func add(_ name: String, _ a: TensorIndex, _ b: TensorIndex) -> TensorIndex {
        precondition(tensors[a].shape == tensors[b].shape)
        let y = addTensor(name, shape: tensors[a].shape)
        ops.append(.add(a: a, b: b, output: y))
        opNames.append(name)
        return y
    }

    public mutating func globalAvgPool(_ name: String, _ x: TensorIndex) -> TensorIndex {
        let y = addTensor(name, shape: [tensors[x].shape[2]])
        ops.append(.globalAvgPool(input: x, output: y))
        opNames.append(name)
        return y
    }

    public mutating func activation(_ name: String, _ x: TensorIndex, _ activation: Activation) {
        ops.append(.activation(tensor: x, activation: activation))
        opNames.append(name)
    }

    public mutating func mulChannel(_ name: String, _ x: TensorIndex, gate: TensorIndex) -> TensorIndex {
        precondition(tensors[x].shape.count == 3 && tensors[gate].shape == [tensors[x].shape[2]])
        let y = addTensor(name, shape: tensors[x].shape)
        ops.append(.mulChannel(x: x, gate: gate, output: y))
        opNames.append(name)
        return y
    }

    public mutating func linear(_ name: String, _ x: TensorIndex, weights: [Float], bias: [Float]) -> TensorIndex {
        let k = tensors[x].elementCount, n = bias.count
        precondition(weights.count == n * k)
        let y = addTensor(name, shape: [n])
        ops.append(.linear(input: x, output: y, weights: addParameters(weights), bias: addParameters(bias)))
        opNames.append(name)
        return y
    }
}
