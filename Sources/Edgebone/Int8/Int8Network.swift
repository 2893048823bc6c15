// Loads an int8 model file, validates it, packs weights for one ISA, plans one arena and runs the
// program as a loop over steps. Phases: load (parse, validate, pack) → plan → invoke. After init,
// `run()` allocates nothing.
import CEdgeboneKernels
#if canImport(Glibc)
import Glibc
#endif

/// An int8 network ready to run. Owns its arena and its packed weights. One caller at a time.
public final class Int8Network: PoolTask, @unchecked Sendable {
    public static let formatName = "edgebone-int8"

    public let path: String
    public let program: Int8Program
    public let metadata: [String: String]
    public let isa: ISA
    public let plan: ArenaPlan
    /// Bytes of packed weights, LUTs and per-op constants (the persistent buffer).
    public let weightsBytes: Int
    /// Tensor name → arena byte offset.
    public private(set) var tensorOffsets: [String: Int] = [:]
    /// The arena requests the plan placed (tensors first by name in `tensorRequestIndex`, then scratch).
    public let requests: [BufferRequest]
    /// Tensor name → index into `requests` / `plan.offsets`.
    public let tensorRequestIndex: [String: Int]
    public var kernelName: String { String(cString: config.pointee.gemm_name) }
    /// The leading ops kept in float32 by the quantizer, if any; run before the int8 steps.
    public let floatPrefix: FloatNetwork?
    /// The float prefix's output and the int8 input's quantization, resolved at load.
    private var handOver: (from: UnsafePointer<Float>, count: Int, scale: Float, zeroPoint: Int32)?
    /// Ops of the float prefix (they come first in `run(profile:)`).
    public var floatPrefixOpCount: Int { floatPrefix?.graph.ops.count ?? 0 }

    let config: UnsafePointer<eb_kernel_config>
    private let arena: Arena
    private let persistent: UnsafeMutableRawPointer
    private let logits: UnsafeMutablePointer<Float>
    private let requant: UnsafeMutablePointer<eb_qs8_requant_params>
    private let addParams: UnsafeMutablePointer<eb_qs8_add_params>
    private let mulcParams: UnsafeMutablePointer<eb_qs8_mulc_params>
    private let poolParams: UnsafeMutablePointer<eb_qs8_gavgpool_params>
    private var steps: [Step] = []
    private let tensorsByName: [String: Int8TensorSpec]
    private let pool: ThreadPool?
    /// Whether each step is split across the pool (enough work to pay for the hand-off).
    private var parallelStep: [Bool] = []
    private var currentStep = 0
    public var threads: Int { pool?.threads ?? 1 }

    enum Step {
        case conv(x: UnsafePointer<Int8>, h: Int, w: Int, cin: Int, cout: Int, packed: UnsafeRawPointer, k: Int, stride: Int,
                  pt: Int, pl: Int, y: UnsafeMutablePointer<Int8>, oh: Int, ow: Int, pads: UnsafePointer<Int8>,
                  patches: UnsafeMutablePointer<Int8>, patchSlice: Int, params: UnsafePointer<eb_qs8_requant_params>)
        case gemm(a: UnsafePointer<Int8>, m: Int, k: Int, n: Int, packed: UnsafeRawPointer, c: UnsafeMutablePointer<Int8>,
                  params: UnsafePointer<eb_qs8_requant_params>, xor: UnsafeMutablePointer<UInt8>?)
        case depthwise(x: UnsafePointer<Int8>, h: Int, w: Int, c: Int, packed: UnsafeRawPointer, k: Int, stride: Int, pt: Int, pl: Int,
                       y: UnsafeMutablePointer<Int8>, oh: Int, ow: Int, zero: UnsafePointer<Int8>, params: UnsafePointer<eb_qs8_requant_params>)
        case gavgpool(x: UnsafePointer<Int8>, rows: Int, c: Int, y: UnsafeMutablePointer<Int8>, acc: UnsafeMutablePointer<Int32>,
                      params: UnsafePointer<eb_qs8_gavgpool_params>)
        case mulc(x: UnsafePointer<Int8>, g: UnsafePointer<Int8>, y: UnsafeMutablePointer<Int8>, rows: Int, c: Int,
                  params: UnsafePointer<eb_qs8_mulc_params>)
        case add(a: UnsafePointer<Int8>, b: UnsafePointer<Int8>, y: UnsafeMutablePointer<Int8>, n: Int, params: UnsafePointer<eb_qs8_add_params>)
        case classifier(x: UnsafePointer<Int8>, k: Int, n: Int, xZero: Int32, w: UnsafePointer<Int8>, bias: UnsafePointer<Int32>,
                        scale: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>)
    }

    /// Loads `path`. Every header field, tensor and parameter is checked before use.
    public convenience init(path: String, isa: ISA = .best, threads: Int = 1) throws {
        try self.init(file: try SafeTensorsFile(path: path), isa: isa, threads: threads)
    }

    /// `threads` > 1 creates a pool of that many threads (the caller is one of them) now, at load.
    /// `splitEveryStep` splits even the steps too small to pay for the hand-off (for tests).
    public init(file: SafeTensorsFile, isa: ISA = .best, threads: Int = 1, splitEveryStep: Bool = false) throws {
        precondition(threads >= 1)
        path = file.path
        metadata = file.metadata
        guard file.metadata["edgebone.format"] == Self.formatName, file.metadata["edgebone.format_version"] == String(Int8Program.formatVersion) else {
            throw ModelFileError.unsupportedFormat(path: file.path, found: "\(file.metadata["edgebone.format"] ?? "no format") version \(file.metadata["edgebone.format_version"] ?? "none")")
        }
        guard let text = file.metadata["edgebone.program"] else {
            throw ModelFileError.invalidMetadata(path: file.path, key: "edgebone.program", detail: "missing")
        }
        let program = try Int8Program.parse(text, path: file.path)
        self.program = program
        self.isa = isa
        config = isa.kernelConfig
        let compiled = try Int8Compiler(file: file, program: program, config: config, threads: threads).compile()
        if let spec = program.floatPrefix {
            let parameters = try file.floats(spec.parameters, shape: [spec.graph.parameterCount])
            do {
                floatPrefix = FloatNetwork(graph: try spec.graph.graph(parameters: parameters), isa: isa, threads: threads)
            } catch {
                throw ModelFileError.invalidProgram(path: file.path, op: "float prefix", detail: error.description)
            }
        } else {
            floatPrefix = nil
        }
        tensorsByName = compiled.tensors
        plan = compiled.plan
        requests = compiled.requests
        tensorRequestIndex = compiled.tensorRequest
        arena = Arena(byteCount: plan.arenaBytes)
        weightsBytes = compiled.persistent.count
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: max(compiled.persistent.count, 64), alignment: 64)
        compiled.persistent.withUnsafeBytes { buffer.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        persistent = buffer
        logits = .allocate(capacity: program.outputCount)
        logits.initialize(repeating: 0, count: program.outputCount)
        let n = program.ops.count
        requant = .allocate(capacity: n)
        addParams = .allocate(capacity: n)
        mulcParams = .allocate(capacity: n)
        poolParams = .allocate(capacity: n)
        for (name, index) in compiled.tensorRequest { tensorOffsets[name] = plan.offsets[index] }
        // Resolved once here: setInput and the hand-over run every frame.
        input = (arena.base + tensorOffsets[program.input]!).assumingMemoryBound(to: Int8.self)
        inputSize = floatPrefix.map { $0.graph.tensors[$0.graph.input].shape[0] } ?? compiled.tensors[program.input]!.shape[0]
        pool = threads > 1 ? ThreadPool(threads: threads) : nil
        steps = compiled.steps.enumerated().map { i, s in resolve(s, op: i, compiled: compiled) }
        if let floatPrefix {
            let q = tensorsByName[program.input]!.quant
            handOver = (UnsafePointer(floatPrefix.pointer(to: floatPrefix.graph.output)), floatPrefix.output.count, q.scale, q.zeroPoint)
        }
        parallelStep = steps.indices.map { threads > 1 && (splitEveryStep || worthSplitting(op: $0)) }
    }

    deinit {
        persistent.deallocate()
        logits.deallocate()
        requant.deallocate()
        addParams.deallocate()
        mulcParams.deallocate()
        poolParams.deallocate()
    }

    /// The int8 program's input tensor: [h][w][3] pixel − 128 (see `setInput`), or with a float
    /// prefix the tensor its output is quantized into.
    public let input: UnsafeMutablePointer<Int8>
    /// Side of the square RGB frame the network takes.
    public let inputSize: Int

    /// Copies a uint8 RGB frame of the input size into the input tensor (pixel − 128), or with a
    /// float prefix normalizes it into the prefix's input.
    public func setInput(rgb: UnsafePointer<UInt8>) {
        let pixels = inputSize * inputSize
        if let floatPrefix, let spec = program.floatPrefix {
            eb_u8_f32_normalize_rgb(rgb, floatPrefix.input, pixels, spec.normalizationScale, spec.normalizationOffset)
            return
        }
        eb_x8_xor80(UnsafeRawPointer(rgb).assumingMemoryBound(to: Int8.self), UnsafeMutableRawPointer(input).assumingMemoryBound(to: UInt8.self),
                    pixels * 3)
    }

    /// Runs the float prefix (if any) and quantizes its output into the int8 input tensor.
    @inline(__always)
    private func runFloatPrefix() {
        guard let floatPrefix else { return }
        floatPrefix.run()
        quantizeHandOver()
    }

    /// The float prefix's output quantized into the int8 input tensor.
    @inline(__always)
    private func quantizeHandOver() {
        guard let h = handOver else { return }
        eb_f32_qs8_quantize(h.from, input, h.count, h.scale, h.zeroPoint)
    }

    /// Float32 logits after `run()`.
    public var output: UnsafeBufferPointer<Float> { UnsafeBufferPointer(start: logits, count: program.outputCount) }

    /// Shape and quantization of a tensor of the program.
    public func spec(of name: String) -> Int8TensorSpec? { tensorsByName[name] }

    public func tensor(_ name: String) -> UnsafeMutablePointer<Int8> {
        (arena.base + tensorOffsets[name]!).assumingMemoryBound(to: Int8.self)
    }

    /// Dequantized copy of a tensor (tools and reports; valid while the tensor is alive).
    public func values(of name: String) -> [Float] {
        let spec = tensorsByName[name]!
        let p = tensor(name)
        return (0..<spec.elementCount).map { spec.quant.dequantize(p[$0]) }
    }

    public func run() {
        runFloatPrefix()
        for i in steps.indices { step(i) }
    }

    /// Runs op by op, calling `after(opIndex)` once each op's output is written.
    public func run(after: (Int) -> Void) {
        runFloatPrefix()
        for i in steps.indices {
            step(i)
            after(i)
        }
    }

    /// Runs and adds each op's wall time in nanoseconds to `nanos[op]`.
    /// With a float prefix, `nanos` holds its ops first (`floatPrefixOpCount`, the hand-over
    /// quantization counted in the last of them), then the int8 ops.
    public func run(profile nanos: UnsafeMutableBufferPointer<UInt64>) {
        let p = floatPrefixOpCount
        precondition(nanos.count >= p + steps.count)
        if let floatPrefix {
            floatPrefix.run(profile: UnsafeMutableBufferPointer(rebasing: nanos[0..<p]))
            let t0 = monotonicNanos()
            quantizeHandOver()
            nanos[p - 1] &+= monotonicNanos() &- t0
        }
        for i in steps.indices {
            let t0 = monotonicNanos()
            step(i)
            nanos[p + i] &+= monotonicNanos() &- t0
        }
    }

    @inline(__always)
    private func step(_ i: Int) {
        if let pool, parallelStep[i] {
            currentStep = i
            pool.run(self)
        } else {
            execute(steps[i], part: 0, of: 1)
        }
    }

    /// PoolTask: one part of the current step.
    public func runPart(_ part: Int, of parts: Int) {
        execute(steps[currentStep], part: part, of: parts)
    }

    /// Whether a step has enough work to pay for handing parts to the pool (a few microseconds).
    private func worthSplitting(op i: Int) -> Bool {
        switch program.ops[i].kind {
        case .gavgpool: return false  // runs as one part
        case .mulc, .add: return macs(op: i) >= 65_536  // elementwise: about 10 µs and up on one core
        case .classifier: return true  // streams its weights (1.3 MB for B0) from memory: two cores fetch faster
        case .conv, .gemm, .depthwise: return macs(op: i) >= 1_000_000
        }
    }

    /// Multiply-accumulates of each op (for GMAC/s in profiles).
    public func macs(op i: Int) -> Int {
        let op = program.ops[i]
        let out = tensorsByName[op.output]?.elementCount ?? program.outputCount
        let inp = tensorsByName[op.inputs[0]]!
        switch op.kind {
        case .conv: return out * (op.kernel ?? 1) * (op.kernel ?? 1) * inp.shape[2]
        case .gemm, .classifier: return out * inp.shape.last!
        case .depthwise: return out * (op.kernel ?? 1) * (op.kernel ?? 1)
        case .gavgpool: return inp.elementCount
        case .mulc, .add: return out
        }
    }

    /// Executes part `part` of `parts` of a step: rows of a GEMM, output rows of a convolution.
    /// Steps that are not split run whole as part 0.
    @inline(__always)
    private func execute(_ step: Step, part: Int, of parts: Int) {
        let cfg = config.pointee
        switch step {
        case let .conv(x, h, w, cin, cout, packed, k, stride, pt, pl, y, oh, ow, pads, patches, patchSlice, params):
            let rows = partRange(part, of: parts, count: oh)
            guard !rows.isEmpty else { return }
            // Each part gathers into its own slice of the patch scratch.
            eb_qs8_conv_hwc(config, x, h, w, cin, cout, packed, k, stride, pt, pl, y, oh, ow, rows.lowerBound, rows.upperBound, pads,
                            patches + part * patchSlice, params)
        case let .gemm(a, m, k, n, packed, c, params, xor):
            let mr = Int(cfg.gemm_mr)
            let rows = partRange(part, of: parts, count: m, granule: mr)
            guard !rows.isEmpty else { return }
            var src = a
            if let xor {
                eb_x8_xor80(a + rows.lowerBound * k, xor + rows.lowerBound * k, rows.count * k)
                src = UnsafePointer(UnsafeMutableRawPointer(xor).assumingMemoryBound(to: Int8.self))
            }
            eb_qs8_gemm_rows(config, rows.lowerBound, rows.upperBound, n, k, src, k, packed, c, n, params)
        case let .depthwise(x, h, w, c, packed, k, stride, pt, pl, y, oh, ow, zero, params):
            let rows = partRange(part, of: parts, count: oh)
            guard !rows.isEmpty else { return }
            cfg.dwconv(x, h, w, c, packed, k, stride, pt, pl, y, oh, ow, rows.lowerBound, rows.upperBound, zero, params)
        case let .gavgpool(x, rows, c, y, acc, params):
            guard part == 0 else { return }  // never split
            cfg.gavgpool(rows, c, x, y, acc, params)
        case let .mulc(x, g, y, rows, c, params):
            let r = partRange(part, of: parts, count: rows)
            guard !r.isEmpty else { return }
            cfg.vmulc(r.count, c, x + r.lowerBound * c, g, y + r.lowerBound * c, params)
        case let .add(a, b, y, n, params):
            let r = partRange(part, of: parts, count: n, granule: 64)
            guard !r.isEmpty else { return }
            cfg.vadd(r.count, a + r.lowerBound, b + r.lowerBound, y + r.lowerBound, params)
        case let .classifier(x, k, n, xZero, w, bias, scale, y):
            // Outputs are independent dot products: any split computes the same floats.
            let r = partRange(part, of: parts, count: n, granule: 16)
            guard !r.isEmpty else { return }
            cfg.gemv_f32(k, r.count, x, xZero, w + r.lowerBound * k, bias + r.lowerBound, scale + r.lowerBound, y + r.lowerBound)
        }
    }

    // MARK: - Resolving offsets to pointers

    private func resolve(_ s: Int8Compiler.PlannedStep, op i: Int, compiled: Int8Compiler.Result) -> Step {
        let base = arena.base
        func t(_ request: Int) -> UnsafeMutablePointer<Int8> { (base + plan.offsets[request]).assumingMemoryBound(to: Int8.self) }
        func p(_ offset: Int) -> UnsafeRawPointer { UnsafeRawPointer(persistent + offset) }
        func rq(_ r: Int8Compiler.Requant) -> UnsafePointer<eb_qs8_requant_params> {
            requant[i] = eb_qs8_requant_params(zero_point: r.zeroPoint, qmin: r.qmin, qmax: r.qmax,
                                               lut: r.lut.map { p($0).assumingMemoryBound(to: Int8.self) })
            return UnsafePointer(requant + i)
        }
        switch s {
        case let .conv(x, h, w, cin, cout, packed, k, stride, pt, pl, y, oh, ow, pads, patches, r):
            var c = config.pointee
            return .conv(x: t(x), h: h, w: w, cin: cin, cout: cout, packed: p(packed), k: k, stride: stride, pt: pt, pl: pl, y: t(y),
                         oh: oh, ow: ow, pads: p(pads).assumingMemoryBound(to: Int8.self), patches: t(patches),
                         patchSlice: eb_qs8_conv_hwc_scratch_size(&c, k, cin), params: rq(r))
        case let .gemm(a, m, k, n, packed, c, r, xor):
            return .gemm(a: t(a), m: m, k: k, n: n, packed: p(packed), c: t(c), params: rq(r),
                         xor: xor.map { UnsafeMutableRawPointer(t($0)).assumingMemoryBound(to: UInt8.self) })
        case let .depthwise(x, h, w, c, packed, k, stride, pt, pl, y, oh, ow, zero, r):
            return .depthwise(x: t(x), h: h, w: w, c: c, packed: p(packed), k: k, stride: stride, pt: pt, pl: pl, y: t(y), oh: oh, ow: ow,
                              zero: p(zero).assumingMemoryBound(to: Int8.self), params: rq(r))
        case let .gavgpool(x, rows, c, y, acc, xZero, scale, r):
            poolParams[i] = eb_qs8_gavgpool_params(x_zero: xZero, scale: scale, out: rq(r).pointee)
            return .gavgpool(x: t(x), rows: rows, c: c, y: t(y), acc: UnsafeMutableRawPointer(t(acc)).assumingMemoryBound(to: Int32.self),
                             params: UnsafePointer(poolParams + i))
        case let .mulc(x, g, y, rows, c, xZero, gZero, scale, r):
            mulcParams[i] = eb_qs8_mulc_params(x_zero: xZero, g_zero: gZero, scale: scale, out: rq(r).pointee)
            return .mulc(x: t(x), g: t(g), y: t(y), rows: rows, c: c, params: UnsafePointer(mulcParams + i))
        case let .add(a, b, y, n, aZero, bZero, aScale, bScale, r):
            addParams[i] = eb_qs8_add_params(a_zero: aZero, b_zero: bZero, a_scale: aScale, b_scale: bScale, out: rq(r).pointee)
            return .add(a: t(a), b: t(b), y: t(y), n: n, params: UnsafePointer(addParams + i))
        case let .classifier(x, k, n, xZero, w, bias, scale):
            return .classifier(x: t(x), k: k, n: n, xZero: xZero, w: p(w).assumingMemoryBound(to: Int8.self),
                               bias: p(bias).assumingMemoryBound(to: Int32.self), scale: p(scale).assumingMemoryBound(to: Float.self), y: logits)
        }
    }
}
