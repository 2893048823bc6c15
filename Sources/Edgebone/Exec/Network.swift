// Runs any graph: validates it, plans one arena for every tensor and scratch buffer (f32 and int8
// together), binds each node to its kernel through its op file, then executes a loop over the bound
// steps. Phases: validate → needs → plan → bind → run. After init, `run()` allocates nothing.
import CEdgeboneKernels
import COpenBLAS
#if canImport(Glibc)
import Glibc
#endif

/// A graph ready to run. Owns its arena and its packed weights. One caller at a time.
public final class Network: PoolTask, @unchecked Sendable {
    public let graph: Graph
    public let kernels: KernelSet
    public var isa: ISA { kernels.isa }
    public let plan: ArenaPlan
    /// What the plan placed: tensors and scratch buffers, with their lifetimes in steps.
    public let requests: [BufferRequest]
    /// Name of each request ("scratch of NODE" for scratch).
    public let requestNames: [String]
    /// Arena byte offset of each tensor (−1 for tensors nothing stores).
    public let tensorOffsets: [Int]
    /// Bytes of packed weights, tables and per-op parameters.
    public let weightsBytes: Int
    public var threads: Int { pool?.threads ?? 1 }
    /// How the split steps and frames ran so far (nil with one thread).
    public var threadStats: ThreadPool.Stats? {
        guard var stats = pool?.stats else { return nil }
        stats.framesAlone = framesAlone
        stats.frames = frames
        return stats
    }
    /// Nodes whose work runs inside the previous node's split step (`Operator.mayRide`: on two
    /// threads a step of their own either read half its input from the other core's cache, unsplit,
    /// or paid a hand-off for a few microseconds of work); their own steps do nothing.
    public let riders: [Int]
    private var chooser = FrameSplitChooser()
    private var framesAlone = 0, frames = 0
    public var kernelName: String { String(cString: kernels.config.pointee.gemm_name) }

    private let arena: Arena
    private let blocks: [UnsafeMutableRawPointer]
    /// The bound steps, in a buffer of their own: the per-frame loop touches nothing else.
    private let steps: UnsafeMutableBufferPointer<Step>
    /// Each step's `run`, as the pool's threads call it: through an unretained reference to an object
    /// that holds the closure, so that no thread touches a reference count (a closure read from
    /// `steps` is retained and released around each call: on two threads, its context's cache line
    /// went back and forth between the cores several times per step).
    private let parts: UnsafeMutableBufferPointer<Unmanaged<StepParts>>
    private let pool: ThreadPool?
    private var current = 0
    /// Side of the square RGB frame the network takes.
    public let inputSize: Int
    private let normalization: (scale: UnsafePointer<Float>, offset: UnsafePointer<Float>)
    /// Resolved at load: what setInput and output touch every frame.
    private let inputStorage: UnsafeMutableRawPointer
    private let inputIsFloat: Bool
    private let outputStorage: UnsafeMutablePointer<Float>
    private let outputCount: Int

    /// Validates `graph` and prepares it for `isa`. `threads` > 1 creates the pool now; `splitEveryStep`
    /// splits even the steps too small to pay for the hand-off, and always on every thread, even when
    /// the pool measures that splitting does not pay (tests). `foldingBoundaries` runs the valid graph
    /// through `foldingPrecisionBoundaries` and `fusingChannelGates` (fewer steps, the same values but
    /// for LayerNorm's and attention's integer arithmetic; `graph` is then the folded one): what classifiers do, and the
    /// quantizer's end-to-end figures; not its per-layer report, which compares tensors by name.
    public init(graph: Graph, isa: ISA = .best, threads: Int = 1, splitEveryStep: Bool = false,
                foldingBoundaries: Bool = false) throws(GraphError) {
        precondition(threads >= 1)
        try graph.validate()
        let graph = foldingBoundaries ? graph.foldingPrecisionBoundaries().fusingChannelGates() : graph
        self.graph = graph
        kernels = KernelSet(isa: isa, threads: threads)
        if graph.nodes.contains(where: { ($0.op == .conv || $0.op == .linear) && graph.tensors[$0.output].type == .f32 && graph.tensors[$0.inputs[0]].type == .f32 }) {
            openblas_set_num_threads(Int32(threads))
        }

        // Nodes whose work may run inside the previous node's parts (`Operator.mayRide`): alive from that step.
        let rides = graph.nodes.indices.map { i in
            threads > 1 && i > 0 && implementation(of: graph.nodes[i].op).mayRide(graph.nodes[i], after: graph.nodes[i - 1], in: graph)
        }
        // Liveness: the input exists at step 0, node i runs at step i + 1, the output lives past the
        // last node; scratch lives during its node only. An in-place output takes over its input's buffer.
        let n = graph.nodes.count
        var last = [Int](repeating: -1, count: graph.tensors.count)
        for (i, node) in graph.nodes.enumerated() { for t in node.inputs { last[t] = max(last[t], i + 1) } }
        last[graph.output] = n + 1
        var requests: [BufferRequest] = [], names: [String] = []
        var requestOf = [Int](repeating: -1, count: graph.tensors.count)
        func request(_ t: Int, first: Int) {
            requestOf[t] = requests.count
            requests.append(BufferRequest(size: graph.tensors[t].byteCount + Int(EB_EXTRA_BYTES), first: first, last: max(first, last[t])))
            names.append(graph.tensors[t].name)
        }
        request(graph.input, first: 0)
        var scratchRequests: [[Int]] = [], inPlace = [Bool](repeating: false, count: n)
        for (i, node) in graph.nodes.enumerated() {
            let needs = implementation(of: node.op).needs(node, in: graph, kernels: kernels)
            let x = node.inputs.first ?? -1, y = node.output
            if needs.inPlace, x >= 0, x != graph.input, last[x] == i + 1, graph.tensors[x].byteCount == graph.tensors[y].byteCount {
                inPlace[i] = true
                requestOf[y] = requestOf[x]
                requests[requestOf[x]].last = max(requests[requestOf[x]].last, last[y], i + 1)
                names[requestOf[x]] += " → " + graph.tensors[y].name
            } else {
                request(y, first: rides[i] ? i : i + 1)
            }
            scratchRequests.append(needs.scratch.map { bytes in
                requests.append(BufferRequest(size: bytes + Int(EB_EXTRA_BYTES), first: rides[i] ? i : i + 1, last: i + 1))
                names.append("scratch of \(node.name)")
                return requests.count - 1
            })
        }
        let plan = ArenaPlan(requests)
        guard plan.arenaBytes <= MemoryBudget.modelBytes else {
            throw GraphError(graph.nodes.first?.name ?? "network", "the network needs a \(plan.arenaBytes >> 20) MiB arena, more than the " +
                             MemoryBudget.describe(MemoryBudget.modelBytes) + " for the model")
        }
        self.plan = plan
        self.requests = requests
        requestNames = names
        tensorOffsets = requestOf.map { $0 >= 0 ? plan.offsets[$0] : -1 }
        arena = Arena(byteCount: plan.arenaBytes)

        let binder = Binder(graph: graph, kernels: kernels, arena: arena.base, tensorOffset: tensorOffsets,
                            scratchOffsets: scratchRequests.map { $0.map { plan.offsets[$0] } }, inPlace: inPlace,
                            splitEveryStep: splitEveryStep)
        var steps: [Step] = [], riders: [Int] = []
        for (i, node) in graph.nodes.enumerated() {
            binder.nodeIndex = i
            if rides[i], steps[i - 1].parallel, let positions = steps[i - 1].positions, let rider = implementation(of: node.op).rider(node, binder) {
                // Each part of the producer, then this node's work on the positions that part just
                // wrote: no hand-off of its own, and nothing read back from the other core's cache.
                let producer = steps[i - 1].run, producerFinish = steps[i - 1].finish
                steps[i - 1].run = { part, parts in
                    producer(part, parts)
                    rider.part(positions(part, parts), part, parts)
                }
                if let riderFinish = rider.finish { steps[i - 1].finish = { producerFinish?(); riderFinish() } }
                steps.append(Step { _, _ in })  // done by then
                riders.append(i)
                continue
            }
            steps.append(implementation(of: node.op).bind(node, binder))
        }
        self.riders = riders
        let norm = binder.persist(graph.normalization.scale + graph.normalization.offset)
        normalization = (norm, norm + 3)
        self.steps = .allocate(capacity: steps.count)
        _ = self.steps.initialize(from: steps)
        parts = .allocate(capacity: steps.count)
        _ = parts.initialize(from: steps.map { .passRetained(StepParts($0.run)) })
        blocks = binder.blocks
        weightsBytes = binder.persistentBytes
        inputSize = graph.tensors[graph.input].shape[0]
        pool = threads > 1 ? ThreadPool(threads: threads, adaptive: !splitEveryStep) : nil
        inputStorage = arena.base + tensorOffsets[graph.input]
        inputIsFloat = graph.tensors[graph.input].type == .f32
        outputStorage = (arena.base + tensorOffsets[graph.output]).assumingMemoryBound(to: Float.self)
        outputCount = graph.tensors[graph.output].elementCount
    }

    deinit {
        for b in blocks { b.deallocate() }
        steps.deinitialize()
        steps.deallocate()
        for p in parts { p.release() }
        parts.deallocate()
    }

    // MARK: Input and output

    /// Storage of tensor `t` (valid while it is alive: see `run(after:)`).
    public func pointer(to t: Int) -> UnsafeMutableRawPointer {
        let offset = tensorOffsets[t]
        if offset < 0 { notStored(t) }
        return arena.base + offset
    }

    private func notStored(_ t: Int) -> Never { fatalError("tensor \(graph.tensors[t].name) is not stored") }

    /// Wakes the pool's sleeping workers ahead of a frame (a frame's first steps would otherwise
    /// wait for them). For callers that write `floatInput` themselves; `setInput` does it.
    /// Nothing when the next frame runs on the calling thread alone: on a busy machine, workers woken
    /// for a frame they take no part in would spin for 100 µs on cores others need.
    public func wakeThreads() {
        guard let pool, !pool.adaptive || !chooser.nextIsAlone else { return }
        pool.wake()
    }

    /// The f32 input tensor, for callers that normalize themselves (nil when the input is qs8).
    public var floatInput: UnsafeMutablePointer<Float>? {
        inputIsFloat ? inputStorage.assumingMemoryBound(to: Float.self) : nil
    }

    /// Copies a uint8 RGB frame of the input size into the input tensor: pixel − 128 for a qs8 input,
    /// normalized (pixel · scale + offset) for an f32 one. Wakes the pool's sleeping workers first
    /// (`wakeThreads`): between frames they sleep, and they come up while the input converts.
    public func setInput(rgb: UnsafePointer<UInt8>) {
        wakeThreads()
        let pixels = inputSize * inputSize
        if inputIsFloat {
            eb_u8_f32_normalize_rgb(rgb, inputStorage.assumingMemoryBound(to: Float.self), pixels, normalization.scale, normalization.offset)
        } else {
            kernels.config.pointee.xor80(UnsafeRawPointer(rgb).assumingMemoryBound(to: Int8.self), inputStorage.assumingMemoryBound(to: UInt8.self), pixels * 3)
        }
    }

    /// The f32 output (logits) after `run()`.
    public var output: UnsafeBufferPointer<Float> { UnsafeBufferPointer(start: outputStorage, count: outputCount) }

    /// A copy of tensor `t` as real values (dequantized when qs8). Tools and reports only.
    public func values(of t: Int) -> [Float] {
        let spec = graph.tensors[t], p = pointer(to: t)
        switch spec.type {
        case .f32: return Array(UnsafeBufferPointer(start: p.assumingMemoryBound(to: Float.self), count: spec.elementCount))
        case .qs8:
            let q = p.assumingMemoryBound(to: Int8.self), qp = spec.quant!
            return (0..<spec.elementCount).map { qp.dequantize(q[$0]) }
        }
    }

    // MARK: Running

    public func run() {
        let fp = eb_fp_flush_denormals()
        if let pool, pool.adaptive {
            // Split or alone, whichever whole frames measure faster (see FrameSplitChooser).
            let alone = chooser.nextAlone()
            let stepsAloneBefore = pool.stats.alone
            let t0 = monotonicNanos()
            if alone {
                // The same parts as a split step, in turn: what each part does (and the scratch and
                // library calls it uses) stays the same.
                let tiles = kernels.tiles
                for i in steps.indices {
                    steps[i].prepare?()
                    if steps[i].parallel {
                        for t in 0..<tiles { steps[i].run(t, tiles) }
                        steps[i].finish?()
                    } else {
                        steps[i].run(0, 1)
                    }
                }
            } else {
                for i in steps.indices { step(i) }
            }
            chooser.record(alone: alone, nanos: monotonicNanos() &- t0, clean: pool.stats.alone == stepsAloneBefore)
            framesAlone += alone ? 1 : 0
            frames += 1
        } else {
            for i in steps.indices { step(i) }
        }
        eb_fp_restore(fp)
    }

    /// Runs node by node, calling `after(node)` once each node's output is written and readable.
    public func run(after: (Int) -> Void) {
        let fp = eb_fp_flush_denormals()
        defer { eb_fp_restore(fp) }
        for i in steps.indices {
            step(i)
            after(i)
        }
    }

    /// Runs once, adding each node's wall time in nanoseconds to `nanos[node]`.
    public func run(profile nanos: UnsafeMutableBufferPointer<UInt64>) {
        precondition(nanos.count >= steps.count)
        let fp = eb_fp_flush_denormals()
        defer { eb_fp_restore(fp) }
        for i in steps.indices {
            let t0 = monotonicNanos()
            step(i)
            nanos[i] &+= monotonicNanos() &- t0
        }
    }

    @inline(__always)
    private func step(_ i: Int) {
        steps[i].prepare?()
        if let pool, steps[i].parallel {
            current = i
            pool.run(self, tiles: kernels.tiles)
            steps[i].finish?()
        } else {
            steps[i].run(0, 1)
        }
    }

    /// PoolTask: one part of the current step.
    override public func runPart(_ part: Int, of count: Int) {
        parts[current]._withUnsafeGuaranteedRef { $0.run(part, count) }
    }
}

/// CLOCK_MONOTONIC in nanoseconds.
@inline(__always)
public func monotonicNanos() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
}

/// A step's `run`, in an object that the pool's threads reach unretained (`Network.parts`).
private final class StepParts {
    private let body: (_ part: Int, _ parts: Int) -> Void
    init(_ body: @escaping (_ part: Int, _ parts: Int) -> Void) { self.body = body }
    @inline(__always)
    func run(_ part: Int, _ parts: Int) { body(part, parts) }
}
