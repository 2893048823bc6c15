// The int8 output stage every quantized op shares: requantize to the output (or, for a table
// activation, to the 12-bit pre-activation grid), then clamp or look up. One definition, built at load.
import CEdgeboneKernels
#if canImport(Glibc)
import Glibc
#endif

extension Graph {
    /// The grid an int8 producer's accumulator is requantized onto: the 12-bit pre-activation grid of a
    /// table activation, else the output tensor's quantization.
    func requantTarget(_ node: Node) -> QuantParams {
        node.attributes.preQuant ?? tensors[node.output].quant!
    }
}

extension Binder {
    /// Zero point, clamp and optional table of a quantized op's epilogue: a clamp for none/ReLU/ReLU6,
    /// a table of 2^bits entries (entry i = output for grid point i − 2^(bits−1)) for silu and sigmoid.
    /// AVX-512 VBMI kernels look tables of at most 512 entries up directly with byte permutes, larger
    /// ones from their step planes (where those pay on this core) or by gathers. `tableZeroPoint`: the one
    /// the packing chose (`requantSlots`: qmin where the bias holds the table's index base).
    func requantParams(_ node: Node, tableZeroPoint: Int32? = nil) -> eb_qs8_requant_params {
        let out = graph.tensors[node.output].quant!
        let act = node.attributes.activation ?? Activation.none
        let shift: Int32 = node.attributes.shiftRequant == true ? 1 : 0
        guard let pre = node.attributes.preQuant else {
            switch act {
            case .relu: return eb_qs8_requant_params(zero_point: out.zeroPoint, qmin: Int32(out.quantize(0)), qmax: 127, lut: nil, steps: nil, shift: shift)
            case .relu6:
                return eb_qs8_requant_params(zero_point: out.zeroPoint, qmin: Int32(out.quantize(0)), qmax: Int32(out.quantize(6)), lut: nil, steps: nil, shift: shift)
            default: return eb_qs8_requant_params(zero_point: out.zeroPoint, qmin: -128, qmax: 127, lut: nil, steps: nil, shift: shift)
            }
        }
        let entries = 1 << node.attributes.gridBits, half = Int32(entries / 2)
        let table = (0..<Int32(entries)).map { i -> Int8 in out.quantize(act.apply(Float(i - half - pre.zeroPoint) * pre.scale)) }
            + [Int8](repeating: 0, count: 64)  // readable slack for gathering kernels
        return eb_qs8_requant_params(zero_point: tableZeroPoint ?? pre.zeroPoint, qmin: -half, qmax: half - 1, lut: persist(table),
                                     steps: StepPlanes.lookedUpDirectly(bits: node.attributes.gridBits) ? nil : stepPlanes(table, entries: entries),
                                     shift: shift)
    }

    /// The table's step planes for kernels that look entries up with byte permutes (nil elsewhere, where
    /// they do not pay on this core, or when the table changes too fast to be held by them: those
    /// kernels then gather).
    func stepPlanes(_ table: [Int8], entries: Int) -> UnsafePointer<Int8>? {
        guard kernels.isa == .avx512vbmi, StepPlanes.used else { return nil }
        var planes = [Int8](repeating: 0, count: Int(EB_LUT_STEPS_BYTES))
        guard eb_lut_steps_encode(table, entries, &planes) != 0 else { return nil }
        return persist(planes)
    }

    /// Per-channel requantization scales input × weight / target, computed in double as the quantizer does.
    func requantScales(_ node: Node, inputScale: Float) -> [Float] {
        let target = graph.requantTarget(node)
        return constant(node, "weight_scale").floats.map { Float(Double(inputScale) * Double($0) / Double(target.scale)) }
    }

    /// What the packers take for a conv or depthwise: the bias and the per-channel slots — the fp32 scales,
    /// or with shift requantization the counts e (their bits in the slots) and the bias plus 2^(e−1), the
    /// rounding the kernels leave to it (validated: `Graph.shiftCounts`) — and the table zero point that
    /// bias implies for `requantParams` (nil: the grid's own).
    func requantSlots(_ node: Node, inputScale: Float) -> (bias: [Int32], slots: [Float], tableZeroPoint: Int32?) {
        guard let plan = shiftPlan(node, inputScale: inputScale) else {
            return (constant(node, "bias").int32, requantScales(node, inputScale: inputScale), nil)
        }
        return (plan.bias, plan.counts.map { Float(bitPattern: UInt32(bitPattern: $0)) }, plan.zeroPoint)
    }

    /// Shift requantization's packing (nil without it): the counts; the bias plus the rounding 2^(e−1) and,
    /// with a table, plus the index base (zp − qmin) · 2^e where every channel's sum stays within 2^29 —
    /// then the params carry zero point qmin (`zeroPoint`), an equal requantization whose shifted values
    /// are already table indices (eb_qs8.h).
    func shiftPlan(_ node: Node, inputScale: Float) -> (counts: [Int32], bias: [Int32], zeroPoint: Int32?)? {
        guard let counts = (try? graph.shiftCounts(node, inputScale: inputScale)) ?? nil else { return nil }
        let rounded = zip(constant(node, "bias").int32, counts).map { Int64($0) + ($1 > 0 ? 1 << Int64($1 - 1) : 0) }
        if let pre = node.attributes.preQuant {
            let qmin = -Int32(1 << (node.attributes.gridBits - 1)), base = Int64(pre.zeroPoint - qmin)
            let based = zip(rounded, counts).map { $0 + base << Int64($1) }
            if based.allSatisfy({ abs($0) <= 1 << 29 }) { return (counts, based.map { Int32($0) }, qmin) }
        }
        return (counts, rounded.map { Int32($0) }, nil)
    }
}

extension Graph {
    /// The shift counts of a node with shift requantization (nil without it): every channel's scale
    /// input × weight / target must be 2^-e within 1e-5, e in 0…30, and its bias must keep room for the
    /// rounding term.
    public func shiftCounts(_ node: Node, inputScale: Float) throws(GraphError) -> [Int32]? {
        guard node.attributes.shiftRequant == true else { return nil }
        let target = requantTarget(node)
        let scales = constant(node, "weight_scale")!.floats, bias = constant(node, "bias")!.int32
        var counts: [Int32] = []
        for (j, s) in scales.enumerated() {
            let r = Double(inputScale) * Double(s) / Double(target.scale)
            let e = r > 0 && r.isFinite ? -(r * 2.0.squareRoot()).exponent : -1  // the nearest power of two
            guard (0...30).contains(e), abs(r * Double(sign: .plus, exponent: Int(e), significand: 1) - 1) <= 1e-5 else {
                throw node.fail("shiftRequant needs power-of-two scales 2^-e (e in 0…30); channel \(j) has \(r)")
            }
            guard abs(Int64(bias[j])) <= 1 << 30 else { throw node.fail("shiftRequant: channel \(j)'s bias \(bias[j]) leaves no room for rounding") }
            counts.append(Int32(e))
        }
        return counts
    }
}

/// Whether table epilogues look entries up from step planes rather than gathering them (avx512vbmi
/// kernels only): which is faster depends on the core, so it is measured once per process
/// (`eb_lut_steps_gain`, about 2 ms). `EDGEBONE_LUT_STEPS=on|off` overrides the measurement. Both
/// ways give the same bytes.
public enum StepPlanes {
    /// Whether avx512vbmi kernels look a table of `bits` bits up directly by byte permutes (at most
    /// EB_LUT_DIRECT_MAX entries): such a table has no step planes, and the measurement below is moot.
    public static func lookedUpDirectly(bits: Int) -> Bool { (1 << bits) <= Int(EB_LUT_DIRECT_MAX) }

    /// Gathers' time over the planes' on this core (0 without AVX-512 VBMI).
    public static let gain: Double = ISA.supported.contains(.avx512vbmi) ? eb_lut_steps_gain() : 0
    public static let used: Bool = {
        switch getenv("EDGEBONE_LUT_STEPS").map({ String(cString: $0) }) {
        case "on": return true
        case "off": return false
        default: return gain > 1.05
        }
    }()
}
