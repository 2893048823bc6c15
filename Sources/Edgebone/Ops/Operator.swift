// The contract every op kind fulfils in its own file (Ops/<Kind>.swift): what it checks in a graph,
// the scratch and in-place storage it needs, the kernel it binds for its dtypes and the ISA, and how
// its work splits across threads. The network's execute loop only calls the bound steps.
import CEdgeboneKernels

/// A graph that breaks a rule: which node, and what is wrong.
public struct GraphError: Error, CustomStringConvertible, Equatable, Sendable {
    public var node: String
    public var detail: String
    /// Set when the problem is a constant the node needs and the graph lacks (a missing file tensor).
    public var missingConstant: String?
    public init(_ node: String, _ detail: String, missingConstant: String? = nil) {
        self.node = node; self.detail = detail; self.missingConstant = missingConstant
    }
    public var description: String { "op '\(node)': \(detail)" }
}

/// Storage an op asks the planner for, beyond its input and output tensors.
public struct OpNeeds {
    /// Bytes of each scratch buffer (alive only while the op runs).
    public var scratch: [Int] = []
    /// The op can write its output over its first input when nothing reads that input later.
    public var inPlace = false
    public init(scratch: [Int] = [], inPlace: Bool = false) { self.scratch = scratch; self.inPlace = inPlace }
}

/// One bound op: the kernel call with every pointer and parameter resolved at load. `run(part, parts)`
/// executes a disjoint share of the op (parts == 1: all of it). It allocates nothing.
public struct Step {
    public var run: (_ part: Int, _ parts: Int) -> Void
    /// Worth handing parts to the thread pool (enough work to pay for the hand-off).
    public var parallel: Bool
    /// Runs once on the calling thread before the parts (per-frame set-up every part reads).
    public var prepare: (() -> Void)?
    /// Runs once on the calling thread after the parts of a split run (parts > 1) — what joins their
    /// results. `run(0, 1)` alone does all of the op.
    public var finish: (() -> Void)?
    /// For a step whose parts split its output by positions (rows of [positions, channels]): the
    /// positions part `part` of `parts` writes. A following step that reads exactly those positions
    /// can then run on the same parts (`PositionRider`), in the thread and the cache that wrote them.
    public var positions: ((_ part: Int, _ parts: Int) -> Range<Int>)?
    public init(parallel: Bool = false, _ run: @escaping (_ part: Int, _ parts: Int) -> Void) {
        self.run = run; self.parallel = parallel
    }
}

/// Work that runs inside another step's parts: each part, right after the producer's, on the
/// positions that part wrote (`part(range, part, parts)`; with parts == 1, all of them and the whole
/// op), then `finish` once after a split run. See `Network`: a squeeze-and-excite pool rides on the
/// depthwise convolution whose output it averages, a residual add on the projection that feeds it.
struct PositionRider {
    let part: (_ positions: Range<Int>, _ part: Int, _ parts: Int) -> Void
    var finish: (() -> Void)? = nil
}

/// An op kind. Implemented once per kind, as an enum namespace, in Ops/<Kind>.swift.
protocol Operator {
    /// Everything a file could get wrong: input count, dtypes, shapes, attributes, constants.
    /// Called before planning; `bind` may rely on it.
    static func validate(_ node: Node, in graph: Graph) throws(GraphError)
    /// Scratch and in-place needs, for the kernel table of `binder`'s ISA.
    static func needs(_ node: Node, in graph: Graph, kernels: KernelSet) -> OpNeeds
    /// The step, with packed weights in the binder's persistent storage.
    static func bind(_ node: Node, _ b: Binder) -> Step
    /// Whether `node` may run inside the parts of `producer`, the node just before it, when that one
    /// is split by positions (`PositionRider`): it must read `producer`'s output position by position,
    /// and write nothing `producer` reads. Decided before planning (its output and scratch are then
    /// alive from the producer's step). Default: no.
    static func mayRide(_ node: Node, after producer: Node, in graph: Graph) -> Bool
    /// The node's work as a rider; called at bind where `mayRide` held and the producer is split.
    static func rider(_ node: Node, _ b: Binder) -> PositionRider?
}

extension Operator {
    static func mayRide(_ node: Node, after producer: Node, in graph: Graph) -> Bool { false }
    static func rider(_ node: Node, _ b: Binder) -> PositionRider? { nil }
}

/// The registry of op kinds: the only place that maps an `OpKind` to its implementation.
func implementation(of kind: OpKind) -> Operator.Type {
    switch kind {
    case .conv: return ConvOp.self
    case .depthwise: return DepthwiseOp.self
    case .linear: return LinearOp.self
    case .add: return AddOp.self
    case .mulChannel: return MulChannelOp.self
    case .globalAvgPool: return GlobalAvgPoolOp.self
    case .activation: return ActivationOp.self
    case .squeezeExcite: return SqueezeExciteOp.self
    case .quantize: return QuantizeOp.self
    case .dequantize: return DequantizeOp.self
    case .layerNorm: return LayerNormOp.self
    case .windowPartition: return WindowPartitionOp.self
    case .windowReverse: return WindowReverseOp.self
    case .patchMerge: return PatchMergeOp.self
    case .attention: return AttentionOp.self
    }
}

/// The kernels of one ISA level: the int8 table and the float helpers.
public struct KernelSet {
    public let isa: ISA
    public let config: UnsafePointer<eb_kernel_config>
    public let float: FloatKernels
    public let threads: Int
    /// Parts a split step is cut into (claimed dynamically by the pool's threads); per-part scratch is
    /// sized for this many.
    public var tiles: Int { threads == 1 ? 1 : 4 * threads }
    init(isa: ISA, threads: Int) {
        self.isa = isa; config = isa.kernelConfig; float = FloatKernels(isa: isa); self.threads = threads
    }
}

/// What an op's `bind` gets: pointers into the planned arena, persistent storage for packed weights
/// and parameters, and the graph's constants.
public final class Binder {
    let graph: Graph
    let kernels: KernelSet
    let arena: UnsafeMutableRawPointer
    /// Byte offset in the arena of each tensor (−1: not stored) and of each node's scratch buffers.
    let tensorOffset: [Int]
    let scratchOffsets: [[Int]]
    /// Output tensors that share their input's storage (in place).
    let inPlace: [Bool]
    var nodeIndex = 0
    /// Every block `persist` made; the network frees them.
    private(set) var blocks: [UnsafeMutableRawPointer] = []
    private(set) var persistentBytes = 0
    /// Forces every step to be split (tests of the thread split).
    let splitEveryStep: Bool

    init(graph: Graph, kernels: KernelSet, arena: UnsafeMutableRawPointer, tensorOffset: [Int], scratchOffsets: [[Int]],
         inPlace: [Bool], splitEveryStep: Bool) {
        self.graph = graph; self.kernels = kernels; self.arena = arena; self.tensorOffset = tensorOffset
        self.scratchOffsets = scratchOffsets; self.inPlace = inPlace; self.splitEveryStep = splitEveryStep
    }

    var config: UnsafePointer<eb_kernel_config> { kernels.config }
    var threads: Int { kernels.threads }

    func tensor(_ t: Int) -> GraphTensor { graph.tensors[t] }
    func pointer<T>(_ t: Int, as: T.Type) -> UnsafeMutablePointer<T> {
        precondition(tensorOffset[t] >= 0, "tensor \(graph.tensors[t].name) is not stored")
        return (arena + tensorOffset[t]).assumingMemoryBound(to: T.self)
    }
    func scratch<T>(_ i: Int, as: T.Type) -> UnsafeMutablePointer<T> {
        (arena + scratchOffsets[nodeIndex][i]).assumingMemoryBound(to: T.self)
    }
    /// Whether the current node's output shares its first input's storage.
    var outputInPlace: Bool { inPlace[nodeIndex] }

    func constant(_ node: Node, _ role: String) -> Constant { graph.constant(node, role)! }

    /// A 64-byte aligned copy of `bytes` that lives as long as the network.
    func persist(_ bytes: UnsafeRawBufferPointer) -> UnsafeRawPointer {
        let p = UnsafeMutableRawPointer.allocate(byteCount: max(bytes.count, 64), alignment: 64)
        if bytes.count > 0 { p.copyMemory(from: bytes.baseAddress!, byteCount: bytes.count) }
        blocks.append(p)
        persistentBytes += bytes.count
        return UnsafeRawPointer(p)
    }
    func persist<T>(_ values: [T]) -> UnsafePointer<T> {
        values.withUnsafeBytes { persist($0) }.assumingMemoryBound(to: T.self)
    }
    /// One parameter struct at a stable address.
    func persist<T>(value: T) -> UnsafePointer<T> { persist([value]) }

    /// Whether a step of `work` multiply-adds (or elements) pays for a hand-off to the pool.
    func parallel(_ work: Int, threshold: Int) -> Bool { threads > 1 && (splitEveryStep || work >= threshold) }
}

// MARK: - Float ops with int8 edges

/// An f32 op (layer_norm, attention) whose input or output may be qs8 (see
/// `Graph.foldingPrecisionBoundaries`): it converts one block at a time through scratch, with the
/// quantize and dequantize kernels of the ISA, so the values are exactly those of separate
/// dequantize / op / quantize steps (LayerNorm with both edges int8, and attention's int8 input, work
/// from the int8 values themselves instead: their kernels).
struct Int8Edges {
    let inQuant: QuantParams?, outQuant: QuantParams?
    let dequantize: eb_qs8_f32_dequantize_fn, quantize: eb_f32_qs8_quantize_fn

    init(_ node: Node, _ b: Binder) {
        inQuant = b.tensor(node.inputs[0]).type == .qs8 ? b.tensor(node.inputs[0]).quant : nil
        outQuant = b.tensor(node.output).type == .qs8 ? b.tensor(node.output).quant : nil
        dequantize = b.kernels.float.dequantize
        quantize = b.kernels.float.quantize
    }

    /// Float scratch per part for blocks of `inCount` input and `outCount` output values.
    static func scratchFloats(_ node: Node, in graph: Graph, inCount: Int, outCount: Int) -> Int {
        (graph.tensors[node.inputs[0]].type == .qs8 ? inCount : 0) + (graph.tensors[node.output].type == .qs8 ? outCount : 0)
    }

    /// The block's input as floats: the tensor itself (offset `at`), or its int8 values converted into
    /// `scratch` (present whenever the input is int8).
    func input(_ x: UnsafeMutableRawPointer, at: Int, count: Int, scratch: UnsafeMutablePointer<Float>?) -> UnsafePointer<Float> {
        guard let q = inQuant else { return UnsafePointer(x.assumingMemoryBound(to: Float.self) + at) }
        dequantize(x.assumingMemoryBound(to: Int8.self) + at, scratch!, count, q.scale, q.zeroPoint)
        return UnsafePointer(scratch!)
    }

    /// Where the op writes the block's output: the tensor itself, or `scratch` (present whenever the
    /// output is int8).
    func output(_ y: UnsafeMutableRawPointer, at: Int, scratch: UnsafeMutablePointer<Float>?) -> UnsafeMutablePointer<Float> {
        outQuant == nil ? y.assumingMemoryBound(to: Float.self) + at : scratch!
    }

    /// Converts the block written by `output` into the int8 tensor (nothing when the output is f32).
    func store(_ y: UnsafeMutableRawPointer, at: Int, count: Int, from scratch: UnsafeMutablePointer<Float>) {
        guard let q = outQuant else { return }
        quantize(scratch, y.assumingMemoryBound(to: Int8.self) + at, count, q.scale, q.zeroPoint)
    }
}

// MARK: - Checks shared by the op files

extension Node {
    func fail(_ detail: String) -> GraphError { GraphError(name, detail) }

    func expectInputs(_ n: Int) throws(GraphError) {
        guard inputs.count == n else { throw fail("expects \(n) input(s), has \(inputs.count)") }
    }

    /// Only the listed attributes may be set.
    func allowAttributes(_ allowed: Set<String>) throws(GraphError) {
        let extra = attributes.setNames.filter { !allowed.contains($0) }
        guard extra.isEmpty else { throw fail("unexpected attribute(s) \(extra.joined(separator: ", ")) for \(op.rawValue)") }
    }
}

extension Graph {
    /// The constant NODE.ROLE, present with this dtype and shape.
    @discardableResult
    func expectConstant(_ node: Node, _ role: String, _ dtype: DType, _ shape: [Int]) throws(GraphError) -> Constant {
        guard let c = constant(node, role) else {
            throw GraphError(node.name, "missing constant '\(node.constantName(role))'", missingConstant: node.constantName(role))
        }
        guard c.dtype == dtype else { throw node.fail("constant '\(node.constantName(role))' is \(c.dtype.rawValue), expected \(dtype.rawValue)") }
        guard c.shape == shape else { throw node.fail("constant '\(node.constantName(role))' has shape \(c.shape), expected \(shape)") }
        return c
    }

    /// Per-channel weight scales: finite, positive, normal.
    func expectScales(_ node: Node, count: Int) throws(GraphError) {
        let s = try expectConstant(node, "weight_scale", .f32, [count]).floats
        guard s.allSatisfy({ $0.isFinite && $0.isNormal && $0 > 0 }) else { throw node.fail("weight scales must be finite and positive") }
    }

    /// Every input and the output of one dtype.
    func sameType(_ node: Node) throws(GraphError) -> TensorType {
        let t = tensors[node.output].type
        guard node.inputs.allSatisfy({ tensors[$0].type == t }) else { throw node.fail("mixes f32 and qs8 tensors (insert quantize/dequantize)") }
        return t
    }

    /// The fused epilogue of an f32 producer: no int8 grid, an activation the float kernels apply.
    func checkFloatEpilogue(_ node: Node) throws(GraphError) {
        guard node.attributes.preQuant == nil else { throw node.fail("an f32 op has no pre-activation grid") }
        guard (node.attributes.activation ?? Activation.none).fusableInFloat else {
            throw node.fail("\(node.attributes.activation!.rawValue) cannot be fused into an f32 epilogue (it runs as an activation node)")
        }
    }

    /// The fused epilogue of a qs8 producer: a table activation needs its grid (8 to 12 bits), a clamp none.
    func checkQuantizedEpilogue(_ node: Node) throws(GraphError) {
        let act = node.attributes.activation ?? Activation.none
        if let pq = node.attributes.preQuant {
            guard !act.isClamp else { throw node.fail("a pre-activation grid (preQuant) needs a table activation (silu, sigmoid)") }
            let bits = node.attributes.gridBits
            guard QuantParams.tableBits.contains(bits) else { throw node.fail("tableBits \(bits) outside 8…12") }
            guard pq.isValidTableInput(bits: bits) else {
                throw node.fail("pre-activation quantization \(pq.scale) / \(pq.zeroPoint) not valid on a \(bits)-bit grid")
            }
        } else if node.attributes.tableBits != nil {
            throw node.fail("tableBits without a pre-activation grid (preQuant)")
        } else if !act.isClamp {
            throw node.fail("\(act.rawValue) in int8 needs a pre-activation grid (preQuant)")
        }
    }
}
