// The description of an int8 network stored in a model file's metadata ("edgebone.program", JSON):
// tensors with shapes and quantization, ops in execution order. Weights are safetensors tensors named
// after their op: NAME.weight (I8), NAME.bias (I32), NAME.weight_scale (F32), NAME.pad (I8, stem).
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Affine quantization of an int8 tensor: real = (q − zeroPoint) × scale.
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

    public func quantize(_ v: Float) -> Int8 {
        let q = (v / scale).rounded(.toNearestOrEven) + Float(zeroPoint)
        return Int8(Swift.max(-128, Swift.min(127, q)))
    }

    public func dequantize(_ q: Int8) -> Float { Float(Int32(q) - zeroPoint) * scale }

    var isValid: Bool { scale.isFinite && scale > 0 && scale.isNormal && (-128...127).contains(zeroPoint) }
    /// Valid as the 12-bit index grid of an activation table.
    var isValidTableInput: Bool { scale.isFinite && scale > 0 && scale.isNormal && (-2048...2047).contains(zeroPoint) }
}

/// One int8 tensor of the program.
public struct Int8TensorSpec: Codable, Equatable, Sendable {
    public var name: String
    /// [h, w, c] for feature maps, [n] for vectors.
    public var shape: [Int]
    public var quant: QuantParams
    public init(name: String, shape: [Int], quant: QuantParams) { self.name = name; self.shape = shape; self.quant = quant }
    public var elementCount: Int { shape.reduce(1, *) }
}

/// One step of the program.
public struct Int8OpSpec: Codable, Equatable, Sendable {
    public enum Kind: String, Codable, Sendable {
        /// Dense k×k convolution on few channels (stem). weight [cout, k·k·cin] in (ky, kx, cin) order.
        case conv
        /// 1×1 convolution or linear layer. weight [n, k].
        case gemm
        /// Depthwise k×k. weight [k·k, c].
        case depthwise
        case gavgpool
        /// inputs [x, gate]: x × gate per channel.
        case mulc
        case add
        /// Final linear layer to float32 logits. weight [n, k].
        case classifier
    }
    /// Activations an op may end with (applied as a lookup table or a clamp).
    public enum ActivationKind: String, Codable, Sendable {
        case relu, relu6, silu, sigmoid

        public func apply(_ v: Float) -> Float {
            switch self {
            case .relu: return max(v, 0)
            case .relu6: return min(max(v, 0), 6)
            case .silu: return v / (1 + expf(-v))
            case .sigmoid: return 1 / (1 + expf(-v))
            }
        }
    }

    public var name: String
    public var kind: Kind
    public var inputs: [String]
    public var output: String
    public var kernel: Int?
    public var stride: Int?
    public var padding: PaddingMode?
    public var activation: ActivationKind?
    /// Quantization of the value before a table activation (silu, sigmoid): a 12-bit grid,
    /// q in −2048…2047, that indexes a 4096-entry table. nil for clamp activations (relu, relu6).
    public var preQuant: QuantParams?

    public init(name: String, kind: Kind, inputs: [String], output: String, kernel: Int? = nil, stride: Int? = nil,
                padding: PaddingMode? = nil, activation: ActivationKind? = nil, preQuant: QuantParams? = nil) {
        self.name = name; self.kind = kind; self.inputs = inputs; self.output = output; self.kernel = kernel
        self.stride = stride; self.padding = padding; self.activation = activation; self.preQuant = preQuant
    }
}

/// Leading ops the quantizer kept in float32 (where int8 would cost too much accuracy): they run
/// on the normalized image, and their output is quantized into the int8 program's input tensor.
public struct FloatPrefixSpec: Codable, Equatable, Sendable {
    public var graph: FloatGraphSpec
    /// The safetensors tensor (F32, [parameterCount]) holding the graph's parameters.
    public var parameters: String
    /// Pixel (0…255) → network input: value · scale[c] + offset[c].
    public var normalizationScale: [Float]
    public var normalizationOffset: [Float]
    public init(graph: FloatGraphSpec, parameters: String, normalizationScale: [Float], normalizationOffset: [Float]) {
        self.graph = graph; self.parameters = parameters
        self.normalizationScale = normalizationScale; self.normalizationOffset = normalizationOffset
    }
}

/// The whole int8 network.
public struct Int8Program: Codable, Equatable, Sendable {
    public static let formatVersion = 1
    public var formatVersion: Int
    public var tensors: [Int8TensorSpec]
    public var ops: [Int8OpSpec]
    /// The uint8 RGB frame enters as int8 (pixel − 128): scale 1, zero point −128. With a float
    /// prefix, the tensor the prefix's output is quantized into.
    public var input: String
    /// The float32 logits written by the final classifier op.
    public var output: String
    public var outputCount: Int
    public var floatPrefix: FloatPrefixSpec?

    public init(tensors: [Int8TensorSpec], ops: [Int8OpSpec], input: String, output: String, outputCount: Int,
                floatPrefix: FloatPrefixSpec? = nil) {
        formatVersion = Self.formatVersion
        self.tensors = tensors; self.ops = ops; self.input = input; self.output = output; self.outputCount = outputCount
        self.floatPrefix = floatPrefix
    }

    public func json() -> String {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        return String(decoding: try! enc.encode(self), as: UTF8.self)
    }

    public static func parse(_ text: String, path: String) throws -> Int8Program {
        do {
            return try JSONDecoder().decode(Int8Program.self, from: Data(text.utf8))
        } catch {
            throw ModelFileError.invalidMetadata(path: path, key: "edgebone.program", detail: "not a valid program: \(error)")
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif
