// The one graph type of Edgebone: a float checkpoint builds it in f32, the quantizer rewrites it, the
// model file stores it, the runtime plans and runs it. Tensors carry a dtype (f32, qs8 with its
// quantization); ops are one vocabulary whose precision follows their tensors. Precision boundaries
// are explicit `quantize` / `dequantize` nodes, so float islands may sit anywhere.

/// Element type of a graph tensor.
public enum TensorType: String, Codable, Sendable {
    case f32
    /// int8 with affine quantization: real = (q − zeroPoint) × scale.
    case qs8
    // Room for qs16 (int16 activations): add the case, its byte size and the kernels that bind it.

    /// Bytes per element.
    public var size: Int { self == .f32 ? 4 : 1 }
}

/// Affine quantization of an int8 tensor: real = (q − zeroPoint) × scale. Per tensor.
public struct QuantParams: Codable, Equatable, Sendable {
    public var scale: Float
    public var zeroPoint: Int32
    public init(scale: Float, zeroPoint: Int32) { self.scale = scale; self.zeroPoint = zeroPoint }

    /// The params that map [min, max] (widened to include 0) onto −128…127, or with `bits: 12` onto
    /// −2048…2047 (the index grid of a 12-bit activation table).
    public init(min lo: Float, max hi: Float, bits: Int = 8) {
        let lo = Swift.min(lo, 0), hi = Swift.max(hi, 0)
        let span = Swift.max(hi - lo, 1e-8)
        let qmin = -Float(1 << (bits - 1)), qmax = Float((1 << (bits - 1)) - 1)
        scale = span / (qmax - qmin)
        zeroPoint = Int32(Swift.max(qmin, Swift.min(qmax, (qmin - lo / scale).rounded(.toNearestOrEven))))
    }

    /// The uint8 frame as int8 (pixel − 128): the all-int8 input.
    public static let pixels = QuantParams(scale: 1, zeroPoint: -128)

    public func quantize(_ v: Float) -> Int8 {
        let q = (v / scale).rounded(.toNearestOrEven) + Float(zeroPoint)
        return Int8(Swift.max(-128, Swift.min(127, q)))
    }

    public func dequantize(_ q: Int8) -> Float { Float(Int32(q) - zeroPoint) * scale }

    public var isValid: Bool { scale.isFinite && scale.isNormal && scale > 0 && (-128...127).contains(zeroPoint) }
    /// The widths an activation table's index grid may have, in bits.
    public static let tableBits = 8...12

    /// Valid as the index grid of an activation table of `bits` bits (in `tableBits`).
    public func isValidTableInput(bits: Int) -> Bool {
        guard Self.tableBits.contains(bits) else { return false }
        return scale.isFinite && scale.isNormal && scale > 0 && (-(1 << (bits - 1))...((1 << (bits - 1)) - 1)).contains(zeroPoint)
    }
}

/// Activation applied by an `activation` node or fused into a producer's epilogue. `cValue` matches
/// the C kernels' EB_ACT_*.
public enum Activation: String, Codable, Sendable, CaseIterable {
    case none, relu, relu6, silu, sigmoid, gelu

    /// EB_ACT_* of the float epilogue kernels (GELU has none: it runs as its own node in f32).
    public var cValue: Int32 {
        switch self { case .none: return 0; case .relu: return 1; case .relu6: return 2; case .silu: return 3; case .sigmoid: return 4; case .gelu: return -1 }
    }

    /// Whether the f32 conv/depthwise/linear epilogues can apply it.
    public var fusableInFloat: Bool { self != .gelu }

    /// Clamp-type activations run as a saturating clamp in int8; the others as a table.
    public var isClamp: Bool { self == .none || self == .relu || self == .relu6 }

    public func apply(_ v: Float) -> Float {
        switch self {
        case .none: return v
        case .relu: return max(v, 0)
        case .relu6: return min(max(v, 0), 6)
        case .silu: return v / (1 + expf(-v))
        case .sigmoid: return 1 / (1 + expf(-v))
        case .gelu: return 0.5 * v * (1 + erff(v * 0.70710678118654752))
        }
    }
}

/// How a convolution pads its input.
public enum PaddingMode: String, Sendable, Codable {
    /// PyTorch-style symmetric: ((stride − 1) + (k − 1)) / 2 on every side.
    case symmetric
    /// TensorFlow "SAME": output = ceil(in / stride), the odd pixel of padding goes bottom/right.
    case same
    /// No padding: output = (in − k) / stride + 1 (patch embeddings).
    case valid
}

/// Zero padding before each spatial axis, and the resulting output size.
public struct ConvGeometry: Sendable, Equatable {
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
            outH = max((inH + 2 * p - kernel) / stride + 1, 0)
            outW = max((inW + 2 * p - kernel) / stride + 1, 0)
        case .same:
            outH = (inH + stride - 1) / stride
            outW = (inW + stride - 1) / stride
            padTop = max((outH - 1) * stride + kernel - inH, 0) / 2
            padLeft = max((outW - 1) * stride + kernel - inW, 0) / 2
        case .valid:
            padTop = 0; padLeft = 0
            outH = inH >= kernel ? (inH - kernel) / stride + 1 : 0
            outW = inW >= kernel ? (inW - kernel) / stride + 1 : 0
        }
    }
}

/// A tensor of the graph. Feature maps are [h, w, c] (batch 1, NHWC), vectors [n]; rank ≤ 4.
public struct GraphTensor: Codable, Equatable, Sendable {
    public var name: String
    public var shape: [Int]
    public var type: TensorType
    /// Present exactly when `type` is quantized.
    public var quant: QuantParams?

    public init(name: String, shape: [Int], type: TensorType = .f32, quant: QuantParams? = nil) {
        self.name = name; self.shape = shape; self.type = type; self.quant = quant
    }

    /// Elements, or nil when the product overflows (a hostile shape).
    public var checkedElementCount: Int? {
        var n = 1
        for d in shape {
            let (p, o) = n.multipliedReportingOverflow(by: d)
            if o || d < 0 { return nil }
            n = p
        }
        return n
    }
    /// Elements (shapes are validated before any graph runs).
    public var elementCount: Int { shape.reduce(1, *) }
    public var byteCount: Int { elementCount * type.size }
}

/// The op kinds of the vocabulary. Each has one file under Ops/ that says everything about it.
public enum OpKind: String, Codable, Sendable, CaseIterable {
    case conv, depthwise, linear, add, mulChannel = "mul_channel", globalAvgPool = "global_avg_pool", activation
    case squeezeExcite = "squeeze_excite", quantize, dequantize
    case layerNorm = "layer_norm", windowPartition = "window_partition", windowReverse = "window_reverse"
    case patchMerge = "patch_merge", attention
}

/// Per-node attributes; each op kind reads the ones it documents and rejects the rest.
public struct Attributes: Codable, Equatable, Sendable {
    public var kernel: Int?
    public var stride: Int?
    public var padding: PaddingMode?
    /// Fused into the epilogue (conv, depthwise, linear), or the function of an `activation` node.
    public var activation: Activation?
    /// int8 table activations (silu, sigmoid): the grid of the pre-activation value that indexes a
    /// table of 2^tableBits entries, so the value is not rounded to int8 twice.
    public var preQuant: QuantParams?
    /// Bits of the preQuant grid, 8…12; absent: 12 (files written before 9-bit tables).
    public var tableBits: Int?
    /// int8 conv and depthwise: every output channel's requantization scale (input × weight / target)
    /// is a power of two, 2^-e with e in 0…30, and the epilogue shifts instead of multiplying (ties
    /// round up). Absent: the fp32 requantization.
    public var shiftRequant: Bool?
    /// conv (qs8, 1×1 stride 1, a gate input [cin]): the input is scaled by the gate and rounded to
    /// this grid before the convolution — a mul_channel folded in at load (`fusingChannelGates`), each
    /// part computing the product of its rows into the GEMM's copy of them. Absent with a gate: the
    /// gate folds into the weights every frame.
    public var gatedInput: QuantParams?
    /// squeeze_excite: the activation after its reduce layer (the gate is a sigmoid).
    public var innerActivation: Activation?
    /// layer_norm: added to the variance.
    public var epsilon: Float?
    /// window_partition / window_reverse: window side and cyclic shift (both axes).
    public var window: Int?
    public var shift: Int?
    /// attention: heads and tokens per window.
    public var heads: Int?
    public var tokens: Int?

    /// Bits of the table grid of a preQuant (12 when the file does not say).
    public var gridBits: Int { tableBits ?? 12 }

    public init(kernel: Int? = nil, stride: Int? = nil, padding: PaddingMode? = nil, activation: Activation? = nil,
                preQuant: QuantParams? = nil, tableBits: Int? = nil, innerActivation: Activation? = nil, epsilon: Float? = nil, window: Int? = nil,
                shift: Int? = nil, heads: Int? = nil, tokens: Int? = nil, shiftRequant: Bool? = nil, gatedInput: QuantParams? = nil) {
        self.kernel = kernel; self.stride = stride; self.padding = padding; self.activation = activation
        self.preQuant = preQuant; self.tableBits = tableBits; self.innerActivation = innerActivation; self.epsilon = epsilon; self.window = window
        self.shift = shift; self.heads = heads; self.tokens = tokens; self.shiftRequant = shiftRequant
        self.gatedInput = gatedInput
    }

    /// Names of the attributes set (for "unexpected attribute" errors).
    public var setNames: [String] {
        var n: [String] = []
        if kernel != nil { n.append("kernel") }
        if stride != nil { n.append("stride") }
        if padding != nil { n.append("padding") }
        if activation != nil { n.append("activation") }
        if preQuant != nil { n.append("preQuant") }
        if tableBits != nil { n.append("tableBits") }
        if shiftRequant != nil { n.append("shiftRequant") }
        if gatedInput != nil { n.append("gatedInput") }
        if innerActivation != nil { n.append("innerActivation") }
        if epsilon != nil { n.append("epsilon") }
        if window != nil { n.append("window") }
        if shift != nil { n.append("shift") }
        if heads != nil { n.append("heads") }
        if tokens != nil { n.append("tokens") }
        return n
    }
}

/// One op of the graph. Its constants are graph constants named "NAME.ROLE" (e.g. "conv_stem.weight").
public struct Node: Codable, Equatable, Sendable {
    public var name: String
    public var op: OpKind
    public var inputs: [Int]
    public var output: Int
    public var attributes: Attributes

    public init(name: String, op: OpKind, inputs: [Int], output: Int, attributes: Attributes = Attributes()) {
        self.name = name; self.op = op; self.inputs = inputs; self.output = output; self.attributes = attributes
    }

    public func constantName(_ role: String) -> String { name + "." + role }
}

/// A constant (weights, biases, scales…): safetensors dtype, shape and little-endian bytes.
public struct Constant: Sendable, Equatable {
    public var dtype: DType
    public var shape: [Int]
    public var bytes: [UInt8]

    public init(dtype: DType, shape: [Int], bytes: [UInt8]) {
        precondition(shape.reduce(1, *) * dtype.size == bytes.count)
        self.dtype = dtype; self.shape = shape; self.bytes = bytes
    }
    public init(floats: [Float], shape: [Int]) { self.init(dtype: .f32, shape: shape, bytes: floats.withUnsafeBytes { [UInt8]($0) }) }
    public init(int8: [Int8], shape: [Int]) { self.init(dtype: .i8, shape: shape, bytes: int8.withUnsafeBytes { [UInt8]($0) }) }
    public init(int32: [Int32], shape: [Int]) { self.init(dtype: .i32, shape: shape, bytes: int32.withUnsafeBytes { [UInt8]($0) }) }

    public var elementCount: Int { shape.reduce(1, *) }
    public func elements<T>(as: T.Type) -> [T] {
        precondition(MemoryLayout<T>.stride == dtype.size)
        return [T](unsafeUninitializedCapacity: elementCount) { buf, n in
            bytes.withUnsafeBytes { UnsafeMutableRawBufferPointer(buf).copyMemory(from: $0) }
            n = elementCount
        }
    }
    public var floats: [Float] { elements(as: Float.self) }
    public var int8: [Int8] { elements(as: Int8.self) }
    public var int32: [Int32] { elements(as: Int32.self) }
}

/// How the uint8 RGB frame becomes the graph input. An f32 input is `pixel · scale[c] + offset[c]`;
/// a qs8 input must be the pixels themselves (`QuantParams.pixels`), normalization folded into its
/// consumers' weights by the quantizer.
public struct InputNormalization: Codable, Equatable, Sendable {
    public var scale: [Float]
    public var offset: [Float]
    public init(scale: [Float], offset: [Float]) { self.scale = scale; self.offset = offset }
}

/// A network: tensors, nodes in execution order, named constants.
public struct Graph: Sendable {
    public var tensors: [GraphTensor] = []
    public var nodes: [Node] = []
    public var constants: [String: Constant] = [:]
    public var input: Int = 0
    public var output: Int = 0
    public var normalization = InputNormalization(scale: [1, 1, 1], offset: [0, 0, 0])

    public init() {}

    // MARK: Building

    public mutating func addTensor(_ name: String, shape: [Int], type: TensorType = .f32, quant: QuantParams? = nil) -> Int {
        tensors.append(GraphTensor(name: name, shape: shape, type: type, quant: quant))
        return tensors.count - 1
    }

    /// Appends a node writing a new tensor named after it; returns that tensor.
    @discardableResult
    public mutating func addNode(_ name: String, _ op: OpKind, inputs: [Int], outputShape: [Int], type: TensorType = .f32,
                                 quant: QuantParams? = nil, attributes: Attributes = Attributes(),
                                 constants: [String: Constant] = [:]) -> Int {
        let y = addTensor(name, shape: outputShape, type: type, quant: quant)
        nodes.append(Node(name: name, op: op, inputs: inputs, output: y, attributes: attributes))
        self.constants.merge(constants.map { (name + "." + $0.key, $0.value) }) { _, new in new }
        return y
    }

    public func constant(_ node: Node, _ role: String) -> Constant? { constants[node.constantName(role)] }

    /// The node name a constant NODE.ROLE belongs to (roles have no dots).
    public static func owner(ofConstant key: String) -> String {
        key.lastIndex(of: ".").map { String(key[..<$0]) } ?? ""
    }

    /// Every constant of a node, by role.
    public func constants(of node: Node) -> [String: Constant] {
        var out: [String: Constant] = [:]
        for (key, c) in constants where Graph.owner(ofConstant: key) == node.name {
            out[String(key.dropFirst(node.name.count + 1))] = c
        }
        return out
    }

    /// Multiply-accumulates of node i (for GMAC/s in profiles and float-share decisions).
    public func macs(_ i: Int) -> Int {
        let n = nodes[i], x = tensors[n.inputs[0]], y = tensors[n.output]
        let k = n.attributes.kernel ?? 1
        switch n.op {
        case .conv: return y.elementCount * k * k * (x.shape.last ?? 1)
        case .depthwise: return y.elementCount * k * k
        case .linear: return y.elementCount * (x.shape.last ?? 1)
        case .squeezeExcite:
            let rd = constants[n.constantName("reduce_bias")]?.elementCount ?? 0
            return 2 * (x.shape.last ?? 1) * rd + x.elementCount
        case .globalAvgPool: return x.elementCount
        case .add, .mulChannel, .activation, .quantize, .dequantize, .layerNorm: return y.elementCount
        case .windowPartition, .windowReverse, .patchMerge: return 0
        case .attention:
            // q·kᵀ and attention·v: 2 · tokens · (heads · head_dim) per token.
            return 2 * (n.attributes.tokens ?? 0) * y.elementCount
        }
    }

    public var macs: Int { nodes.indices.reduce(0) { $0 + macs($1) } }

    /// Nodes reading each tensor.
    public var consumers: [[Int]] {
        var c = [[Int]](repeating: [], count: tensors.count)
        for (i, n) in nodes.enumerated() { for t in n.inputs where !c[t].contains(i) { c[t].append(i) } }
        return c
    }

    /// The node writing each tensor (nil for the input and unused tensors).
    public var producers: [Int?] {
        var p = [Int?](repeating: nil, count: tensors.count)
        for (i, n) in nodes.enumerated() { p[n.output] = i }
        return p
    }

    /// Index of the node called `name`.
    public func node(named name: String) -> Int? { nodes.firstIndex { $0.name == name } }

    /// Short description of a node's kind for tables: "conv 3x3/2+silu", "f32 depthwise 5x5/1", "gated conv
    /// 1x1/1" (the gate folded into the weights), "gate+conv 1x1/1" (a mul_channel folded in: the gate
    /// scales the rows).
    public func kindLabel(_ i: Int) -> String {
        let n = nodes[i]
        var s = n.op == .conv && n.inputs.count == 2 ? (n.attributes.gatedInput != nil ? "gate+conv" : "gated conv") : n.op.rawValue
        if let k = n.attributes.kernel, n.op == .conv || n.op == .depthwise { s += " \(k)x\(k)/\(n.attributes.stride ?? 1)" }
        if let a = n.attributes.activation, a != .none { s += "+" + a.rawValue }
        if computesInFloat(i) { s = "f32 " + s }
        return s
    }

    /// Whether node `i` computes in f32: every tensor it touches is f32, or it is a LayerNorm, which
    /// computes in f32 even where its edges are int8 (folded boundaries). Attention reading int8 computes
    /// its products in integers (only its softmax in f32). Conversions (quantize, dequantize) are neither.
    public func computesInFloat(_ i: Int) -> Bool {
        let n = nodes[i]
        switch n.op {
        case .quantize, .dequantize: return false
        case .layerNorm: return true
        case .attention: return tensors[n.inputs[0]].type == .f32
        default: return tensors[n.output].type == .f32 && n.inputs.allSatisfy { tensors[$0].type == .f32 }
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif
