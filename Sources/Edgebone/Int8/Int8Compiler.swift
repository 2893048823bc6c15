// Validates an Int8Program against its file's tensors, packs weights for the chosen kernel table,
// builds lookup tables, and lays out the arena: the load and plan phases of Int8Network.
import CEdgeboneKernels

struct Int8Compiler {
    let file: SafeTensorsFile
    let program: Int8Program
    let config: UnsafePointer<eb_kernel_config>
    /// Threads that may split a step (each needs its own patch scratch for the stem).
    var threads: Int = 1

    /// Output quantization of an op: zero point, clamp, optional LUT (offset in the persistent buffer).
    struct Requant {
        var zeroPoint: Int32, qmin: Int32, qmax: Int32
        var lut: Int?
    }

    /// A step with arena request indices (for tensors and scratch) and persistent-buffer offsets.
    enum PlannedStep {
        case conv(x: Int, h: Int, w: Int, cin: Int, cout: Int, packed: Int, k: Int, stride: Int, pt: Int, pl: Int, y: Int,
                  oh: Int, ow: Int, pads: Int, patches: Int, rq: Requant)
        case gemm(a: Int, m: Int, k: Int, n: Int, packed: Int, c: Int, rq: Requant, xor: Int?)
        case depthwise(x: Int, h: Int, w: Int, c: Int, packed: Int, k: Int, stride: Int, pt: Int, pl: Int, y: Int, oh: Int, ow: Int,
                       zero: Int, rq: Requant)
        case gavgpool(x: Int, rows: Int, c: Int, y: Int, acc: Int, xZero: Int32, scale: Float, rq: Requant)
        case mulc(x: Int, g: Int, y: Int, rows: Int, c: Int, xZero: Int32, gZero: Int32, scale: Float, rq: Requant)
        case add(a: Int, b: Int, y: Int, n: Int, aZero: Int32, bZero: Int32, aScale: Float, bScale: Float, rq: Requant)
        case classifier(x: Int, k: Int, n: Int, xZero: Int32, w: Int, bias: Int, scale: Int)
    }

    struct Result {
        var tensors: [String: Int8TensorSpec]
        var plan: ArenaPlan
        var persistent: [UInt8]
        var steps: [PlannedStep]
        /// Tensor name → index of its arena request.
        var tensorRequest: [String: Int]
        var requests: [BufferRequest]
    }

    private func bad(_ op: String, _ detail: String) -> ModelFileError {
        ModelFileError.invalidProgram(path: file.path, op: op, detail: detail)
    }

    func compile() throws -> Result {
        guard program.formatVersion == Int8Program.formatVersion else {
            throw ModelFileError.unsupportedFormat(path: file.path, found: "program version \(program.formatVersion)")
        }
        // Tensors: unique names, positive shapes, valid quantization.
        var tensors: [String: Int8TensorSpec] = [:]
        for t in program.tensors {
            guard tensors[t.name] == nil else { throw bad(t.name, "tensor defined twice") }
            guard !t.shape.isEmpty, t.shape.allSatisfy({ $0 > 0 && $0 <= 1 << 16 }), t.elementCount <= 1 << 28 else {
                throw bad(t.name, "tensor shape \(t.shape) is not valid")
            }
            guard t.quant.isValid else { throw bad(t.name, "quantization scale \(t.quant.scale) / zero point \(t.quant.zeroPoint) not valid") }
            tensors[t.name] = t
        }
        if let prefix = program.floatPrefix {
            let g = prefix.graph
            guard let input = tensors[program.input], g.tensors.indices.contains(g.output), input.shape == g.tensors[g.output].shape else {
                throw bad(program.input, "the input must have the shape of the float prefix's output")
            }
            guard g.tensors.indices.contains(g.input), g.tensors[g.input].shape.count == 3, g.tensors[g.input].shape[2] == 3,
                  g.tensors[g.input].shape[0] == g.tensors[g.input].shape[1],
                  prefix.normalizationScale.count == 3, prefix.normalizationOffset.count == 3,
                  (prefix.normalizationScale + prefix.normalizationOffset).allSatisfy(\.isFinite) else {
                throw bad("float prefix", "needs a square [s, s, 3] input and 3 finite normalization scales and offsets")
            }
        } else {
            guard let input = tensors[program.input], input.shape.count == 3, input.shape[2] == 3, input.shape[0] == input.shape[1],
                  input.quant == QuantParams(scale: 1, zeroPoint: -128) else {
                throw bad(program.input, "the input must be a square [s, s, 3] tensor with scale 1 and zero point -128")
            }
        }
        guard program.outputCount > 0, program.ops.last?.kind == .classifier, program.ops.last?.output == program.output else {
            throw bad(program.output, "the program must end with a classifier writing \(program.output)")
        }

        var requests: [BufferRequest] = []
        var tensorRequest: [String: Int] = [:]
        var produced: Set<String> = [program.input]
        var lastUse: [String: Int] = [:]
        for (i, op) in program.ops.enumerated() { for name in op.inputs { lastUse[name] = i + 1 } }
        func request(_ name: String, first: Int) {
            let spec = tensors[name]!
            tensorRequest[name] = requests.count
            requests.append(BufferRequest(size: spec.elementCount + Int(EB_EXTRA_BYTES), first: first, last: max(first, lastUse[name] ?? first)))
        }
        request(program.input, first: 0)
        func scratch(_ bytes: Int, op: Int) -> Int {
            requests.append(BufferRequest(size: bytes + Int(EB_EXTRA_BYTES), first: op + 1, last: op + 1))
            return requests.count - 1
        }

        var persistent = PersistentBuffer()
        var steps: [PlannedStep] = []
        let cfg = config.pointee
        for (i, op) in program.ops.enumerated() {
            let name = op.name
            for inputName in op.inputs {
                guard tensors[inputName] != nil else { throw bad(name, "input '\(inputName)' is not a tensor of the program") }
                guard produced.contains(inputName) else { throw bad(name, "input '\(inputName)' is used before it is produced") }
            }
            let expectedInputs = op.kind == .mulc || op.kind == .add ? 2 : 1
            guard op.inputs.count == expectedInputs else { throw bad(name, "expects \(expectedInputs) input(s), has \(op.inputs.count)") }
            let x = tensors[op.inputs[0]]!
            if op.kind == .classifier {
                guard x.shape.count == 1 else { throw bad(name, "classifier input must be a vector") }
                let k = x.shape[0], n = program.outputCount
                let w = try file.expect(name + ".weight", dtype: .i8, shape: [n, k])
                let b = try file.expect(name + ".bias", dtype: .i32, shape: [n])
                let ws = try weightScales(name, count: n)
                let combined = ws.map { Float(Double($0) * Double(x.quant.scale)) }
                steps.append(.classifier(x: tensorRequest[x.name]!, k: k, n: n, xZero: x.quant.zeroPoint,
                                         w: persistent.append(file.bytes(w)), bias: persistent.append(file.bytes(b)),
                                         scale: persistent.append(combined)))
                continue
            }
            guard let y = tensors[op.output] else { throw bad(name, "output '\(op.output)' is not a tensor of the program") }
            guard !produced.contains(op.output) else { throw bad(name, "output '\(op.output)' is written twice") }
            let target = op.preQuant ?? y.quant
            if let pq = op.preQuant, !pq.isValidTableInput { throw bad(name, "pre-activation quantization not valid") }
            if op.preQuant != nil && (op.activation == nil || op.activation == .relu || op.activation == .relu6) {
                throw bad(name, "a pre-activation grid needs a table activation (silu, sigmoid)")
            }
            if op.preQuant == nil && (op.activation == .silu || op.activation == .sigmoid) {
                throw bad(name, "\(op.activation!.rawValue) needs a pre-activation grid (preQuant)")
            }
            let rq = requantFor(op, output: y.quant, target: target, persistent: &persistent)
            request(op.output, first: i + 1)
            produced.insert(op.output)
            let xr = tensorRequest[x.name]!, yr = tensorRequest[op.output]!
            switch op.kind {
            case .conv, .depthwise:
                guard x.shape.count == 3, y.shape.count == 3, let k = op.kernel, [1, 3, 5, 7].contains(k), let stride = op.stride,
                      (1...2).contains(stride), let padding = op.padding else { throw bad(name, "needs [h, w, c] tensors, kernel 3 or 5, stride 1 or 2, padding") }
                let g = ConvGeometry(inH: x.shape[0], inW: x.shape[1], kernel: k, stride: stride, padding: padding)
                let cin = x.shape[2], cout = y.shape[2]
                guard y.shape[0] == g.outH, y.shape[1] == g.outW else { throw bad(name, "output \(y.shape) does not match the geometry (\(g.outH)x\(g.outW))") }
                if op.kind == .conv {
                    let w = try file.expect(name + ".weight", dtype: .i8, shape: [cout, k * k * cin])
                    let pads = try file.expect(name + ".pad", dtype: .i8, shape: [cin])
                    let packed = try packGEMM(name, w: w, n: cout, k: k * k * cin, aZero: x.quant.zeroPoint, inScale: x.quant.scale,
                                              target: target, persistent: &persistent)
                    var cfgCopy = cfg
                    let patches = scratch(eb_qs8_conv_hwc_scratch_size(&cfgCopy, k, cin) * threads, op: i)
                    steps.append(.conv(x: xr, h: x.shape[0], w: x.shape[1], cin: cin, cout: cout, packed: packed, k: k, stride: stride,
                                       pt: g.padTop, pl: g.padLeft, y: yr, oh: g.outH, ow: g.outW, pads: persistent.append(file.bytes(pads)),
                                       patches: patches, rq: rq))
                } else {
                    guard cout == cin else { throw bad(name, "depthwise output channels \(cout) ≠ input channels \(cin)") }
                    let w = try file.expect(name + ".weight", dtype: .i8, shape: [k * k, cin])
                    let b = try file.expect(name + ".bias", dtype: .i32, shape: [cin])
                    let scales = try requantScales(name, count: cin, inScale: x.quant.scale, target: target)
                    var pk = cfg.dwconv_packing
                    var packed = [UInt8](repeating: 0, count: eb_qs8_dwconv_packed_size(&pk, cin, k * k))
                    let wv = file.copyElements(w, as: Int8.self), bv = file.copyElements(b, as: Int32.self)
                    eb_qs8_dwconv_pack(&pk, cin, k * k, wv, bv, scales, x.quant.zeroPoint, &packed)
                    let zero = persistent.append([UInt8](repeating: UInt8(bitPattern: Int8(x.quant.zeroPoint)), count: cin + Int(EB_EXTRA_BYTES)))
                    steps.append(.depthwise(x: xr, h: x.shape[0], w: x.shape[1], c: cin, packed: persistent.append(packed), k: k, stride: stride,
                                            pt: g.padTop, pl: g.padLeft, y: yr, oh: g.outH, ow: g.outW, zero: zero, rq: rq))
                }
            case .gemm:
                let k = x.shape.last!, n = y.shape.last!
                let m = x.elementCount / k
                guard y.elementCount / n == m, Array(x.shape.dropLast()) == Array(y.shape.dropLast()) else {
                    throw bad(name, "input \(x.shape) and output \(y.shape) disagree on rows")
                }
                let w = try file.expect(name + ".weight", dtype: .i8, shape: [n, k])
                let packed = try packGEMM(name, w: w, n: n, k: k, aZero: x.quant.zeroPoint, inScale: x.quant.scale, target: target, persistent: &persistent)
                let xor = cfg.gemm_packing.a_xor != 0 ? scratch(m * k, op: i) : nil
                steps.append(.gemm(a: xr, m: m, k: k, n: n, packed: packed, c: yr, rq: rq, xor: xor))
            case .gavgpool:
                guard x.shape.count == 3, y.shape == [x.shape[2]] else { throw bad(name, "pools [h, w, c] into [c]") }
                let rows = x.shape[0] * x.shape[1]
                let scale = Float(Double(x.quant.scale) / (Double(rows) * Double(target.scale)))
                steps.append(.gavgpool(x: xr, rows: rows, c: x.shape[2], y: yr, acc: scratch(4 * x.shape[2], op: i), xZero: x.quant.zeroPoint,
                                       scale: scale, rq: rq))
            case .mulc:
                let g = tensors[op.inputs[1]]!
                guard x.shape.count == 3, g.shape == [x.shape[2]], y.shape == x.shape else { throw bad(name, "scales [h, w, c] by a [c] gate") }
                let scale = Float(Double(x.quant.scale) * Double(g.quant.scale) / Double(target.scale))
                steps.append(.mulc(x: xr, g: tensorRequest[g.name]!, y: yr, rows: x.shape[0] * x.shape[1], c: x.shape[2],
                                   xZero: x.quant.zeroPoint, gZero: g.quant.zeroPoint, scale: scale, rq: rq))
            case .add:
                let b = tensors[op.inputs[1]]!
                guard b.shape == x.shape, y.shape == x.shape else { throw bad(name, "adds tensors of one shape") }
                steps.append(.add(a: xr, b: tensorRequest[b.name]!, y: yr, n: x.elementCount, aZero: x.quant.zeroPoint, bZero: b.quant.zeroPoint,
                                  aScale: Float(Double(x.quant.scale) / Double(target.scale)), bScale: Float(Double(b.quant.scale) / Double(target.scale)), rq: rq))
            case .classifier:
                fatalError("handled above")
            }
        }
        let plan = ArenaPlan(requests)
        return Result(tensors: tensors, plan: plan, persistent: persistent.bytes, steps: steps, tensorRequest: tensorRequest, requests: requests)
    }

    /// Per-channel weight scales: present, finite, positive.
    private func weightScales(_ name: String, count: Int) throws -> [Float] {
        let s = try file.floats(name + ".weight_scale", shape: [count])
        guard s.allSatisfy({ $0.isFinite && $0 > 0 }) else { throw bad(name, "weight scales must be finite and positive") }
        return s
    }

    private func requantScales(_ name: String, count: Int, inScale: Float, target: QuantParams) throws -> [Float] {
        try weightScales(name, count: count).map { Float(Double(inScale) * Double($0) / Double(target.scale)) }
    }

    private func packGEMM(_ name: String, w: TensorInfo, n: Int, k: Int, aZero: Int32, inScale: Float, target: QuantParams,
                          persistent: inout PersistentBuffer) throws -> Int {
        let b = try file.expect(name + ".bias", dtype: .i32, shape: [n])
        let scales = try requantScales(name, count: n, inScale: inScale, target: target)
        var pk = config.pointee.gemm_packing
        var packed = [UInt8](repeating: 0, count: eb_qs8_gemm_packed_size(&pk, n, k))
        let wv = file.copyElements(w, as: Int8.self)
        guard !wv.contains(-128) else { throw bad(name, "weights must lie in -127…127 (symmetric int8)") }
        eb_qs8_gemm_pack(&pk, n, k, wv, file.copyElements(b, as: Int32.self), scales, aZero, &packed)
        return persistent.append(packed)
    }

    /// Clamp for ReLU-family activations on an unchanged quantization, a LUT for everything else.
    private func requantFor(_ op: Int8OpSpec, output: QuantParams, target: QuantParams, persistent: inout PersistentBuffer) -> Requant {
        guard let act = op.activation else { return Requant(zeroPoint: output.zeroPoint, qmin: -128, qmax: 127, lut: nil) }
        if op.preQuant == nil && (act == .relu || act == .relu6) {
            let lo = Int32(output.quantize(0)), hi = act == .relu6 ? Int32(output.quantize(6)) : 127
            return Requant(zeroPoint: output.zeroPoint, qmin: lo, qmax: hi, lut: nil)
        }
        // 12-bit table: entry i holds the output for grid point q = i − 2048.
        let lut = (0..<4096).map { i -> UInt8 in
            let v = Float(Int32(i - 2048) - target.zeroPoint) * target.scale
            return UInt8(bitPattern: output.quantize(act.apply(v)))
        } + [UInt8](repeating: 0, count: 64)  // readable slack for gathering kernels
        return Requant(zeroPoint: target.zeroPoint, qmin: -2048, qmax: 2047, lut: persistent.append(lut))
    }
}

/// Staging for the persistent buffer: 64-byte aligned blocks, copied into one allocation at the end.
struct PersistentBuffer {
    var bytes: [UInt8] = []

    mutating func append(_ raw: UnsafeRawBufferPointer) -> Int {
        align()
        let offset = bytes.count
        bytes.append(contentsOf: raw)
        return offset
    }

    mutating func append(_ data: [UInt8]) -> Int { data.withUnsafeBytes { append($0) } }
    mutating func append(_ data: [Float]) -> Int { data.withUnsafeBytes { append($0) } }

    private mutating func align() {
        while bytes.count % 64 != 0 { bytes.append(0) }
    }
}
