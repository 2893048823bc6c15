// Compiles a FloatGraph into steps over one planned arena and runs them: 1×1 convolutions and
// linear layers through OpenBLAS sgemm, k×k convolutions as im2col + sgemm, the rest in
// CEdgeboneKernels. After init, `run()` allocates nothing.
import CEdgeboneKernels
import COpenBLAS
#if canImport(Glibc)
import Glibc
#endif

/// A compiled float32 network. Owns its parameters and arena. Not thread-safe: one caller at a time.
public final class FloatNetwork: @unchecked Sendable {
    public let graph: FloatGraph
    public let kernels: FloatKernels
    public let plan: ArenaPlan
    public let threads: Int
    /// Byte offset of each graph tensor in the arena.
    public let tensorOffsets: [Int]

    private let arena: Arena
    private let params: UnsafeMutablePointer<Float>
    private var steps: [Step] = []

    enum Step {
        case gemm(a: UnsafePointer<Float>, w: UnsafePointer<Float>, bias: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>, m: Int32, n: Int32, k: Int32, act: Int32)
        case im2col(x: UnsafePointer<Float>, g: ConvGeometry, cin: Int, col: UnsafeMutablePointer<Float>)
        case depthwise(x: UnsafePointer<Float>, g: ConvGeometry, c: Int, w: UnsafePointer<Float>, bias: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, act: Int32)
        case direct(x: UnsafePointer<Float>, g: ConvGeometry, cin: Int, w: UnsafePointer<Float>, bias: UnsafePointer<Float>, cout: Int, y: UnsafeMutablePointer<Float>, act: Int32)
        case squeezeExcite(x: UnsafeMutablePointer<Float>, rows: Int, c: Int, wr: UnsafePointer<Float>, br: UnsafePointer<Float>, rd: Int, we: UnsafePointer<Float>, be: UnsafePointer<Float>, act: Int32, scratch: UnsafeMutablePointer<Float>)
        case add(a: UnsafePointer<Float>, b: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, n: Int)
        case pool(x: UnsafePointer<Float>, rows: Int, c: Int, y: UnsafeMutablePointer<Float>)
        case activation(x: UnsafeMutablePointer<Float>, n: Int, act: Int32)
        case mulChannel(x: UnsafePointer<Float>, gate: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, rows: Int, c: Int)
        case linear(x: UnsafePointer<Float>, w: UnsafePointer<Float>, bias: UnsafePointer<Float>, k: Int, n: Int, y: UnsafeMutablePointer<Float>)
    }

    /// Steps per graph op (an im2col convolution is two steps).
    public private(set) var stepsPerOp: [Int] = []

    public init(graph: FloatGraph, isa: ISA = .best, threads: Int = 1) {
        precondition(threads >= 1)
        self.graph = graph
        self.threads = threads
        kernels = FloatKernels(isa: isa)
        openblas_set_num_threads(Int32(threads))

        // Lifetimes: the input exists before op 0 (step 0), op i runs at step i + 1, the output
        // stays alive past the last op. Per-op scratch lives only during its op.
        let n = graph.ops.count
        var first = [Int](repeating: Int.max, count: graph.tensors.count)
        var last = [Int](repeating: -1, count: graph.tensors.count)
        first[graph.input] = 0
        for (i, op) in graph.ops.enumerated() {
            for t in op.inputs { last[t] = max(last[t], i + 1) }
            first[op.output] = min(first[op.output], i + 1)
            last[op.output] = max(last[op.output], i + 1)
        }
        last[graph.output] = n + 1
        var requests = graph.tensors.indices.map { t in
            BufferRequest(size: graph.tensors[t].elementCount * 4, first: first[t] == Int.max ? 0 : first[t], last: max(last[t], first[t] == Int.max ? 0 : first[t]))
        }
        var scratchIndex = [Int](repeating: -1, count: n)
        for (i, op) in graph.ops.enumerated() {
            var floats = 0
            switch op {
            case let .conv(x, _, _, _, g, _) where !(g.kernel == 1 && g.stride == 1) && !Self.isDirect(g, cin: graph.tensors[x].shape[2]):
                floats = g.outH * g.outW * g.kernel * g.kernel * graph.tensors[x].shape[2]
            case let .squeezeExcite(t, _, _, _, _, rd, _):
                floats = 2 * graph.tensors[t].shape[2] + rd
            default: break
            }
            if floats > 0 {
                scratchIndex[i] = requests.count
                requests.append(BufferRequest(size: floats * 4, first: i + 1, last: i + 1))
            }
        }
        plan = ArenaPlan(requests)
        arena = Arena(byteCount: plan.arenaBytes)
        tensorOffsets = Array(plan.offsets.prefix(graph.tensors.count))

        params = .allocate(capacity: max(graph.parameters.count, 1))
        graph.parameters.withUnsafeBufferPointer { params.initialize(from: $0.baseAddress!, count: $0.count) }

        let base = arena.base
        func t(_ i: TensorIndex) -> UnsafeMutablePointer<Float> { (base + plan.offsets[i]).assumingMemoryBound(to: Float.self) }
        func p(_ r: ParamRef) -> UnsafePointer<Float> { UnsafePointer(params + r.offset) }
        for (i, op) in graph.ops.enumerated() {
            let before = steps.count
            switch op {
            case let .conv(x, y, w, b, g, act):
                let cin = graph.tensors[x].shape[2], cout = graph.tensors[y].shape[2]
                if Self.isDirect(g, cin: cin) {
                    // Few input channels: direct convolution on HWIO weights (repacked once here).
                    let hwio = UnsafeMutablePointer<Float>.allocate(capacity: w.count)
                    for o in 0..<cout { for r in 0..<(g.kernel * g.kernel) { for i in 0..<cin {
                        hwio[(r * cin + i) * cout + o] = params[w.offset + (o * g.kernel * g.kernel + r) * cin + i]
                    }}}
                    (params + w.offset).update(from: hwio, count: w.count)
                    hwio.deallocate()
                    steps.append(.direct(x: t(x), g: g, cin: cin, w: p(w), bias: p(b), cout: cout, y: t(y), act: act.rawValue))
                    break
                }
                var a = UnsafePointer(t(x))
                if !(g.kernel == 1 && g.stride == 1) {
                    let col = (base + plan.offsets[scratchIndex[i]]).assumingMemoryBound(to: Float.self)
                    steps.append(.im2col(x: a, g: g, cin: cin, col: col))
                    a = UnsafePointer(col)
                }
                steps.append(.gemm(a: a, w: p(w), bias: p(b), c: t(y), m: Int32(g.outH * g.outW), n: Int32(cout),
                                   k: Int32(g.kernel * g.kernel * cin), act: act.rawValue))
            case let .depthwise(x, y, w, b, g, act):
                steps.append(.depthwise(x: t(x), g: g, c: graph.tensors[x].shape[2], w: p(w), bias: p(b), y: t(y), act: act.rawValue))
            case let .squeezeExcite(x, wr, br, we, be, rd, act):
                let s = graph.tensors[x].shape
                let scratch = (base + plan.offsets[scratchIndex[i]]).assumingMemoryBound(to: Float.self)
                steps.append(.squeezeExcite(x: t(x), rows: s[0] * s[1], c: s[2], wr: p(wr), br: p(br), rd: rd, we: p(we), be: p(be), act: act.rawValue, scratch: scratch))
            case let .add(a, b, y):
                steps.append(.add(a: t(a), b: t(b), y: t(y), n: graph.tensors[y].elementCount))
            case let .globalAvgPool(x, y):
                let s = graph.tensors[x].shape
                steps.append(.pool(x: t(x), rows: s[0] * s[1], c: s[2], y: t(y)))
            case let .activation(x, act):
                steps.append(.activation(x: t(x), n: graph.tensors[x].elementCount, act: act.rawValue))
            case let .mulChannel(x, gate, y):
                let sh = graph.tensors[x].shape
                steps.append(.mulChannel(x: t(x), gate: t(gate), y: t(y), rows: sh[0] * sh[1], c: sh[2]))
            case let .linear(x, y, w, b):
                steps.append(.linear(x: t(x), w: p(w), bias: p(b), k: graph.tensors[x].elementCount, n: graph.tensors[y].elementCount, y: t(y)))
            }
            stepsPerOp.append(steps.count - before)
        }
    }

    deinit { params.deallocate() }

    /// Dense convolutions with so few input channels that im2col + GEMM wastes its time (the stem).
    static func isDirect(_ g: ConvGeometry, cin: Int) -> Bool { g.kernel > 1 && cin <= 4 }

    /// Where to write the input: [h][w][c] float32, valid while this network lives.
    public var input: UnsafeMutablePointer<Float> { pointer(to: graph.input) }
    /// The output after `run()`, e.g. logits [classes].
    public var output: UnsafeBufferPointer<Float> {
        UnsafeBufferPointer(start: pointer(to: graph.output), count: graph.tensors[graph.output].elementCount)
    }

    /// A tensor's arena storage. Only meaningful while that tensor is alive (see `run(after:)`).
    public func pointer(to tensor: TensorIndex) -> UnsafeMutablePointer<Float> {
        (arena.base + tensorOffsets[tensor]).assumingMemoryBound(to: Float.self)
    }

    /// Runs the network on the current input.
    public func run() {
        let fp = eb_fp_flush_denormals()
        for i in steps.indices { execute(steps[i]) }
        eb_fp_restore(fp)
    }

    /// Runs op by op, calling `after(opIndex)` once each op's output is written (calibration,
    /// per-layer comparison). The op's output tensor is readable inside the callback.
    public func run(after: (Int) -> Void) {
        let fp = eb_fp_flush_denormals()
        defer { eb_fp_restore(fp) }
        var s = 0
        for (op, count) in stepsPerOp.enumerated() {
            for _ in 0..<count { execute(steps[s]); s += 1 }
            after(op)
        }
    }

    /// Runs and adds each op's wall time in nanoseconds to `nanos[op]` (`graph.ops.count` entries).
    public func run(profile nanos: UnsafeMutableBufferPointer<UInt64>) {
        precondition(nanos.count >= stepsPerOp.count)
        let fp = eb_fp_flush_denormals()
        defer { eb_fp_restore(fp) }
        var s = 0
        for (op, count) in stepsPerOp.enumerated() {
            let t0 = monotonicNanos()
            for _ in 0..<count { execute(steps[s]); s += 1 }
            nanos[op] &+= monotonicNanos() &- t0
        }
    }

    @inline(__always)
    private func execute(_ step: Step) {
        switch step {
        case let .gemm(a, w, bias, c, m, n, k, act):
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, k, 1, a, k, w, k, 0, c, n)
            kernels.biasAct(c, Int(m), Int(n), bias, act)
        case let .im2col(x, g, cin, col):
            eb_f32_im2col(x, g.inH, g.inW, cin, g.kernel, g.stride, g.padTop, g.padLeft, col, g.outH, g.outW)
        case let .direct(x, g, cin, w, bias, cout, y, act):
            kernels.convHWIO(x, g.inH, g.inW, cin, w, bias, cout, g.kernel, g.stride, g.padTop, g.padLeft, y, g.outH, g.outW, act)
        case let .depthwise(x, g, c, w, bias, y, act):
            kernels.dwconv(x, g.inH, g.inW, c, w, bias, g.kernel, g.stride, g.padTop, g.padLeft, y, g.outH, g.outW, act)
        case let .squeezeExcite(x, rows, c, wr, br, rd, we, be, act, scratch):
            kernels.squeezeExcite(x, rows, c, wr, br, rd, we, be, act, scratch)
        case let .add(a, b, y, n):
            eb_f32_vadd(a, b, y, n)
        case let .pool(x, rows, c, y):
            eb_f32_global_avgpool(x, rows, c, y)
        case let .activation(x, n, act):
            kernels.biasAct(x, 1, n, nil, act)
        case let .mulChannel(x, gate, y, rows, c):
            eb_f32_mul_channels(x, gate, y, rows, c)
        case let .linear(x, w, bias, k, n, y):
            // y = W x + b as a matrix-vector product: W is [n][k] row-major.
            y.update(from: bias, count: n)
            cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(n), Int32(k), 1, w, Int32(k), x, 1, 1, y, 1)
        }
    }
}

/// CLOCK_MONOTONIC in nanoseconds.
@inline(__always)
public func monotonicNanos() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
}
