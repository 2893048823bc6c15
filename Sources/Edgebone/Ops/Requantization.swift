// The int8 output stage every quantized op shares: requantize to the output (or, for a table
// activation, to the 12-bit pre-activation grid), then clamp or look up. One definition, built at load.
import CEdgeboneKernels

extension Graph {
    /// The grid an int8 producer's accumulator is requantized onto: the 12-bit pre-activation grid of a
    /// table activation, else the output tensor's quantization.
    func requantTarget(_ node: Node) -> QuantParams {
        node.attributes.preQuant ?? tensors[node.output].quant!
    }
}

extension Binder {
    /// Zero point, clamp and optional table of a quantized op's epilogue: a clamp for none/ReLU/ReLU6,
    /// a 4096-entry table (entry i = output for grid point i − 2048) for silu and sigmoid.
    func requantParams(_ node: Node) -> eb_qs8_requant_params {
        let out = graph.tensors[node.output].quant!
        let act = node.attributes.activation ?? Activation.none
        guard let pre = node.attributes.preQuant else {
            switch act {
            case .relu: return eb_qs8_requant_params(zero_point: out.zeroPoint, qmin: Int32(out.quantize(0)), qmax: 127, lut: nil)
            case .relu6:
                return eb_qs8_requant_params(zero_point: out.zeroPoint, qmin: Int32(out.quantize(0)), qmax: Int32(out.quantize(6)), lut: nil)
            default: return eb_qs8_requant_params(zero_point: out.zeroPoint, qmin: -128, qmax: 127, lut: nil)
            }
        }
        let table = (0..<4096).map { i -> Int8 in out.quantize(act.apply(Float(Int32(i - 2048) - pre.zeroPoint) * pre.scale)) }
            + [Int8](repeating: 0, count: 64)  // readable slack for gathering kernels
        return eb_qs8_requant_params(zero_point: pre.zeroPoint, qmin: -2048, qmax: 2047, lut: persist(table))
    }

    /// Per-channel requantization scales input × weight / target, computed in double as the quantizer does.
    func requantScales(_ node: Node, inputScale: Float) -> [Float] {
        let target = graph.requantTarget(node)
        return constant(node, "weight_scale").floats.map { Float(Double(inputScale) * Double($0) / Double(target.scale)) }
    }
}
