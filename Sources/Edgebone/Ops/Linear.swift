// linear: y[…, n] = x[…, k] · Wᵀ + b over the last axis, with an optional activation in its epilogue.
// Weights [n, k], bias [n].
// f32 → f32: sgemv for one row, sgemm for several (OpenBLAS). qs8 → qs8: the int8 GEMM (per-channel
// weights). qs8 → f32: the dequantizing head (logits stay float32), an int8 matrix-vector product.
import CEdgeboneKernels
import COpenBLAS

enum LinearOp: Operator {
    static func validate(_ node: Node, in graph: Graph) throws(GraphError) {
        try node.expectInputs(1)
        try node.allowAttributes(["activation", "preQuant", "tableBits"])
        let x = graph.tensors[node.inputs[0]], y = graph.tensors[node.output]
        guard let k = x.shape.last, let n = y.shape.last, Array(x.shape.dropLast()) == Array(y.shape.dropLast()) else {
            throw node.fail("input \(x.shape) and output \(y.shape) disagree on rows")
        }
        switch (x.type, y.type) {
        case (.f32, .f32):
            try graph.checkFloatEpilogue(node)
            try graph.expectFloatWeights(node, rows: n, k: k)
        case (.qs8, .qs8):
            try graph.expectQuantizedWeights(node, rows: n, k: k)
            try graph.checkQuantizedEpilogue(node)
        case (.qs8, .f32):
            guard x.shape.count == 1 else { throw node.fail("the dequantizing head reads a vector") }
            guard node.attributes.setNames.isEmpty else { throw node.fail("the dequantizing head has no activation") }
            try graph.expectQuantizedWeights(node, rows: n, k: k)
        case (.f32, .qs8):
            throw node.fail("f32 input and qs8 output (insert a quantize node)")
        }
    }

    static func needs(_ node: Node, in graph: Graph, kernels: KernelSet) -> OpNeeds {
        let x = graph.tensors[node.inputs[0]], y = graph.tensors[node.output]
        guard x.type == .qs8, y.type == .qs8 else { return OpNeeds() }
        let k = x.shape.last!
        return OpNeeds(scratch: Binder.gemmScratch(m: x.elementCount / k, k: k, kernels: kernels))
    }

    static func bind(_ node: Node, _ b: Binder) -> Step {
        let x = b.tensor(node.inputs[0]), y = b.tensor(node.output)
        let k = x.shape.last!, n = y.shape.last!, m = x.elementCount / k
        switch (x.type, y.type) {
        case (.f32, _):
            let xp = UnsafePointer(b.pointer(node.inputs[0], as: Float.self)), yp = b.pointer(node.output, as: Float.self)
            let w = b.persist(b.constant(node, "weight").floats), bias = b.persist(b.constant(node, "bias").floats)
            let act = (node.attributes.activation ?? Activation.none).cValue, biasAct = b.kernels.float.biasAct
            if m == 1 {
                return Step { _, _ in
                    yp.update(from: bias, count: n)
                    cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(n), Int32(k), 1, w, Int32(k), xp, 1, 1, yp, 1)
                    if act != 0 { biasAct(yp, 1, n, nil, act) }
                }
            }
            return Step { _, _ in
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(m), Int32(n), Int32(k), 1, xp, Int32(k), w, Int32(k), 0, yp, Int32(n))
                biasAct(yp, m, n, bias, act)
            }
        case (.qs8, .qs8):
            let xp = UnsafePointer(b.pointer(node.inputs[0], as: Int8.self)), yp = b.pointer(node.output, as: Int8.self)
            let (packed, params) = b.packGEMM(node, n: n, k: k, input: x.quant!)
            let xor = Binder.gemmScratch(m: m, k: k, kernels: b.kernels).isEmpty ? nil : b.scratch(0, as: UInt8.self)
            return b.gemmStep(a: xp, m: m, k: k, n: n, packed: packed, c: yp, params: params, xorScratch: xor)
        case (.qs8, .f32):
            let xq = x.quant!
            let xp = UnsafePointer(b.pointer(node.inputs[0], as: Int8.self)), yp = b.pointer(node.output, as: Float.self)
            var packed = [Int8](repeating: 0, count: eb_qs8_gemv_packed_size(n, k)), sums = [Int32](repeating: 0, count: n)
            eb_qs8_gemv_pack(n, k, b.constant(node, "weight").int8, &packed, &sums)
            let w = b.persist(packed), wsum = b.persist(sums), bias = b.persist(b.constant(node, "bias").int32)
            let scale = b.persist(b.constant(node, "weight_scale").floats.map { Float(Double($0) * Double(xq.scale)) })
            let gemv = b.config.pointee.gemv_f32!, zero = xq.zeroPoint, kp = eb_qs8_gemv_padded_k(k)
            // Streams its weights from memory: two cores fetch faster, so it splits whenever there is a pool.
            return Step(parallel: b.parallel(1, threshold: 1)) { part, parts in
                // Outputs are independent dot products: any split computes the same floats. Parts start
                // on a group of packed rows (16 is a multiple of EB_GEMV_ROWS).
                let r = partRange(part, of: parts, count: n, granule: 16)
                guard !r.isEmpty else { return }
                let j = r.lowerBound
                gemv(k, r.count, xp, zero, w + j * kp, wsum + j, bias + j, scale + j, yp + j)
            }
        }
    }
}
