// Int8 GEMM binding shared by the ops that lower to it (1×1 and k×k convolutions, linear layers):
// weight packing for the kernel table's layout and the row-split step.
import CEdgeboneKernels

extension Binder {
    /// Packs NODE.weight ([n][k] int8) with its bias and requantization scales (or shift counts) for this
    /// ISA's GEMM; the packer folds −zp_in · Σw into the bias. Returns the epilogue's params with them.
    func packGEMM(_ node: Node, n: Int, k: Int, input: QuantParams) -> (packed: UnsafeRawPointer, params: UnsafePointer<eb_qs8_requant_params>) {
        var pk = config.pointee.gemm_packing
        var packed = [UInt8](repeating: 0, count: eb_qs8_gemm_packed_size(&pk, n, k))
        let (bias, slots, zeroPoint) = requantSlots(node, inputScale: input.scale)
        eb_qs8_gemm_pack(&pk, n, k, constant(node, "weight").int8, bias, slots, input.zeroPoint, &packed)
        return (packed.withUnsafeBytes { persist($0) }, persist(value: requantParams(node, tableZeroPoint: zeroPoint)))
    }

    /// C[m][n] = requant(A[m][k] · packedᵀ), rows split across threads in multiples of the kernel's MR.
    /// `xorScratch` (m·k bytes) is where kernels that take unsigned activations get A ^ 0x80. With
    /// `gate`, A is scaled by it instead (the mul_channel kernel, into `gate.product`, flipped in the
    /// same pass for those kernels: its params say so), each part for its own rows.
    func gemmStep(a: UnsafePointer<Int8>, m: Int, k: Int, n: Int, packed: UnsafeRawPointer, c: UnsafeMutablePointer<Int8>,
                  params: UnsafePointer<eb_qs8_requant_params>, xorScratch: UnsafeMutablePointer<UInt8>?,
                  gate: GEMMInputGate? = nil) -> Step {
        let config = self.config, mr = Int(config.pointee.gemm_mr), xor80 = config.pointee.xor80!, vmulc = config.pointee.vmulc!
        let rowsOf = { (part: Int, parts: Int) in partRange(part, of: parts, count: m, granule: mr) }
        var step = Step(parallel: parallel(m * k * n, threshold: 1_000_000)) { part, parts in
            let rows = rowsOf(part, parts)
            guard !rows.isEmpty else { return }
            var src = a
            if let gate {
                vmulc(rows.count, k, a + rows.lowerBound * k, gate.gate, gate.product + rows.lowerBound * k, gate.params)
                src = UnsafePointer(gate.product)
            } else if let xorScratch {
                xor80(a + rows.lowerBound * k, xorScratch + rows.lowerBound * k, rows.count * k)
                src = UnsafePointer(UnsafeMutableRawPointer(xorScratch).assumingMemoryBound(to: Int8.self))
            }
            eb_qs8_gemm_rows(config, rows.lowerBound, rows.upperBound, n, k, src, k, packed, c, n, params)
        }
        step.positions = rowsOf  // a GEMM row is an output position
        return step
    }

    /// Scratch the GEMM needs for m×k activations on this ISA (the unsigned copy, when its kernel takes one).
    static func gemmScratch(m: Int, k: Int, kernels: KernelSet) -> [Int] {
        kernels.config.pointee.gemm_packing.a_xor != 0 ? [m * k] : []
    }
}

/// A gate applied to a GEMM's A rows before the product (a folded mul_channel): its int8 values, the
/// mul_channel's parameters (`flip` set where the GEMM takes unsigned rows), and m·k bytes for the
/// scaled rows.
struct GEMMInputGate {
    let gate: UnsafePointer<Int8>
    let params: UnsafePointer<eb_qs8_mulc_params>
    let product: UnsafeMutablePointer<Int8>
}

extension Graph {
    /// int8 weights NODE.weight [rows, k] (symmetric: −127…127), NODE.bias [rows] int32 and
    /// NODE.weight_scale [rows].
    func expectQuantizedWeights(_ node: Node, rows: Int, k: Int) throws(GraphError) {
        try expectQuantizedWeights(node, shape: [rows, k], channels: rows)
    }

    /// int8 weights NODE.weight of `shape` (symmetric: −127…127 — the NEON kernels sum two products in
    /// int16), NODE.bias [channels] int32 and NODE.weight_scale [channels].
    func expectQuantizedWeights(_ node: Node, shape: [Int], channels: Int) throws(GraphError) {
        let w = try expectConstant(node, "weight", .i8, shape)
        guard !w.bytes.contains(0x80) else { throw node.fail("weights must lie in -127…127 (symmetric int8)") }
        try expectConstant(node, "bias", .i32, [channels])
        try expectScales(node, count: channels)
    }

    /// float weights NODE.weight [rows, k] and NODE.bias [rows], all finite.
    func expectFloatWeights(_ node: Node, rows: Int, k: Int) throws(GraphError) {
        let w = try expectConstant(node, "weight", .f32, [rows, k]), b = try expectConstant(node, "bias", .f32, [rows])
        guard w.floats.allSatisfy(\.isFinite), b.floats.allSatisfy(\.isFinite) else { throw node.fail("weights and bias must be finite") }
    }
}
