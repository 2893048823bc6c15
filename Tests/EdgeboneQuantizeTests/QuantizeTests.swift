// The quantizer end to end on the tiny fixtures, the int8 runtime's guarantees (bit-exact across
// ISAs, no allocation per frame, arena near its lower bound) and its refusal of corrupt model files.
import CEdgeboneTestSupport
import EdgeboneTestSupport
import Testing
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
@testable import Edgebone
@testable import EdgeboneModels
@testable import EdgeboneQuantize
#if canImport(Glibc)
import Glibc
#endif

/// Quantizes a tiny fixture once per process (shared by the tests below).
enum TinyModels {
    static let dir = Fixtures.scratchDirectory()
    static func quantized(_ name: String) throws -> (path: String, report: FidelityReport) {
        let weights = Fixtures.path("tiny/\(name).safetensors")
        let config = try Architectures.configuration(checkpoint: SafeTensorsFile(path: weights))
        var options = QuantizeOptions()
        options.augment = 3
        let out = dir + "/\(name).int8.safetensors"
        let report = try QuantizeJob.run(weights: weights, config: config, calibration: Fixtures.path("photos"), out: out, options: options)
        return (out, report)
    }
    static let b0 = Result { try quantized("efficientnet_b0_tiny") }
    static let lite = Result { try quantized("tf_efficientnet_lite0_tiny") }
}

/// Expects `rewritten` to give exactly `plain`'s logits on one random frame, on one thread and split
/// across two (every step, however small).
func expectSameLogits(_ plain: Graph, _ rewritten: Graph, isa: ISA, seed: UInt64) throws {
    let size = plain.tensors[plain.input].shape[0]
    var rng = SplitMix64(seed: seed)
    let pixels = (0..<(size * size * 3)).map { _ in UInt8.random(in: 0...255, using: &rng) }
    func logits(_ g: Graph, threads: Int) throws -> [Float] {
        let net = try Network(graph: g, isa: isa, threads: threads, splitEveryStep: threads > 1)
        pixels.withUnsafeBufferPointer { net.setInput(rgb: $0.baseAddress!) }
        net.run()
        return Array(net.output)
    }
    let want = try logits(plain, threads: 1)
    #expect(try logits(rewritten, threads: 1) == want, "\(isa)")
    #expect(try logits(rewritten, threads: 2) == want, "\(isa), 2 threads")
}

/// Heap allocations on this thread during 100 invokes of `c` on one photo, after 5 warm-up invokes: the
/// fewest of up to ten such windows (the first with none ends it). OpenBLAS's thread count is
/// process-wide, and tests running beside this one that build 2-thread networks change it; the float
/// ops' next OpenBLAS call may then set up its threads again, from this thread (seen in CI, three
/// windows in a row once on a loaded machine). A per-frame allocation shows in every window.
func allocationsIn100Invokes(_ c: Classifier) throws -> Int {
    c.preprocessor.crop(try ImageDecoder.decode(path: Fixtures.path("inputs/chelsea.png")))
    for _ in 0..<5 { _ = c.runCropped() }
    var fewest = Int.max
    for _ in 0..<10 where fewest > 0 {
        eb_test_alloc_begin()
        for _ in 0..<100 { _ = c.runCropped() }
        fewest = min(fewest, eb_test_alloc_end())
    }
    return fewest
}

@Suite struct QuantizeTests {
    @Test func tinyB0KeepsFidelity() throws {
        let (_, r) = try TinyModels.b0.get()
        #expect(r.meanCosine >= 0.985, "tiny B0 int8 vs float mean logits cosine \(r.meanCosine)")
        #expect(r.top1Agreement >= 0.75, "tiny B0 top-1 agreement \(r.top1Agreement)")
        #expect(r.layers.count > 40 && r.layers.allSatisfy { $0.sqnr > 5 })
        #expect(r.layers.first!.name == "conv_stem" && r.layers.first!.sqnr > 25, "stem SQNR \(r.layers.first!.sqnr)")
    }

    /// Shift requantization (`--requant`): by default every int8 convolution but the gated ones shifts
    /// and depthwise keeps fp32; shift-all shifts depthwise too, fp32 nothing. Each variant loads (its
    /// scales validated as powers of two) and stays close to the others.
    @Test func shiftRequantChoices() throws {
        let weights = Fixtures.path("tiny/efficientnet_b0_tiny.safetensors")
        let config = try Architectures.configuration(checkpoint: SafeTensorsFile(path: weights))
        var cosines: [ShiftRequant: Double] = [:]
        for choice in ShiftRequant.allCases {
            var options = QuantizeOptions()
            options.shiftRequant = choice
            let out = TinyModels.dir + "/b0-\(choice.rawValue).int8.safetensors"
            cosines[choice] = try QuantizeJob.run(weights: weights, config: config, calibration: Fixtures.path("photos"), out: out, options: options).meanCosine
            let g = try Classifier(modelFile: out).network.graph
            let convs = g.nodes.filter { $0.op == .conv && $0.inputs.count == 1 && g.tensors[$0.output].type == .qs8 }
            let gated = g.nodes.filter { $0.op == .conv && $0.inputs.count == 2 }, dws = g.nodes.filter { $0.op == .depthwise }
            #expect(!convs.isEmpty && !gated.isEmpty && !dws.isEmpty)
            #expect(convs.allSatisfy { ($0.attributes.shiftRequant == true) == (choice != .none) }, "\(choice): convolutions")
            #expect(dws.allSatisfy { ($0.attributes.shiftRequant == true) == (choice == .all) }, "\(choice): depthwise")
            #expect(gated.allSatisfy { $0.attributes.shiftRequant == nil }, "\(choice): gated")
        }
        #expect(abs(cosines[.convolutions]! - cosines[.none]!) < 0.01 && abs(cosines[.all]! - cosines[.none]!) < 0.01, "\(cosines)")
    }

    /// The trimmed range loses nothing: over the part of the observed range it cuts off, the activation
    /// rounds to the output byte of the observed extreme, which the clamped grid point gives too.
    @Test(arguments: [(Activation.silu, QuantParams(min: -0.3, max: 6)), (.sigmoid, QuantParams(min: 0, max: 1)),
                      (.gelu, QuantParams(min: -0.2, max: 8))])
    func tableGridTrimmingIsLossless(f: Activation, out: QuantParams) {
        let r = Quantizer.tableGridRange((-20, 20), f, out: out)
        #expect(r.lo > -12 && r.lo < -1, "\(f): lower end \(r.lo)")
        #expect(f == .silu || f == .gelu ? r.hi > 5 && r.hi < 9 : r.hi > 1 && r.hi < 12, "\(f): upper end \(r.hi)")
        for i in 0...2000 {
            let below = -20 + (r.lo + 20) * Float(i) / 2000, above = r.hi + (20 - r.hi) * Float(i) / 2000
            #expect(out.quantize(f.apply(below)) == out.quantize(f.apply(-20)), "\(f) at \(below)")
            #expect(out.quantize(f.apply(above)) == out.quantize(f.apply(20)), "\(f) at \(above)")
        }
    }

    /// The mul_channel left in the graph folds into the 1×1 convolution that reads it at load
    /// (`fusingChannelGates`: each GEMM part scales its own rows) and changes no value: the plain
    /// graph and the fused one give identical logits on every ISA, on one thread and split across two.
    @Test(arguments: ISA.supported)
    func fusedChannelGatesAreExact(isa: ISA) throws {
        let plain = try Graph(file: SafeTensorsFile(path: try TinyModels.b0.get().path))
        // The tiny B0's maps are small: every mul_channel folds when any map may; at the largest map's
        // size only those of that size; none at the default.
        let fused = plain.fusingChannelGates(minPositions: 1)
        let muls = plain.nodes.filter { $0.op == .mulChannel }
        #expect(!muls.isEmpty && !fused.nodes.contains { $0.op == .mulChannel } && fused.nodes.count == plain.nodes.count - muls.count)
        #expect(fused.nodes.filter { $0.attributes.gatedInput != nil }.count == muls.count)
        let positions = muls.map { plain.tensors[$0.output].shape.prefix(2).reduce(1, *) }, largest = positions.max()!
        let left = plain.fusingChannelGates(minPositions: largest).nodes.filter { $0.op == .mulChannel }.count
        #expect(left == positions.filter { $0 < largest }.count, "\(left) left of \(positions)")
        #expect(plain.fusingChannelGates().nodes.count == plain.nodes.count)
        try expectSameLogits(plain, fused, isa: isa, seed: 9)
    }

    /// Squeeze-and-excite gates fold into the 1×1 convolution that reads their product exactly where its
    /// activations outnumber its weights `gateFoldRatio` times (the tiny B0 has both kinds of block).
    @Test func gatesFoldWhereTheActivationsOutnumberTheWeights() throws {
        let g = try Graph(file: SafeTensorsFile(path: try TinyModels.b0.get().path))
        let ratio = Quantizer.gateFoldRatio
        let gated = g.nodes.filter { $0.op == .conv && $0.inputs.count == 2 }
        let muls = g.nodes.filter { $0.op == .mulChannel }
        #expect(!gated.isEmpty && !muls.isEmpty, "\(gated.count) gated convolutions, \(muls.count) mul_channel")
        for c in gated {
            let x = g.tensors[c.inputs[0]], gate = g.tensors[c.inputs[1]]
            #expect(gate.shape == [x.shape[2]] && x.elementCount >= ratio * g.constant(c, "weight")!.elementCount, "\(c.name)")
        }
        for m in muls {
            let readers = g.nodes.filter { $0.inputs.contains(m.output) }
            guard readers.count == 1, readers[0].op == .conv, readers[0].attributes.kernel == 1 else { continue }
            #expect(g.tensors[m.output].elementCount < ratio * g.constant(readers[0], "weight")!.elementCount, "\(m.name) was not folded")
        }
    }

    @Test func tinyLite0KeepsFidelity() throws {
        let (_, r) = try TinyModels.lite.get()
        #expect(r.meanCosine >= 0.99, "tiny Lite0 int8 vs float mean logits cosine \(r.meanCosine)")
    }

    @Test func everyISAComputesTheSameLogits() throws {
        let (path, _) = try TinyModels.b0.get()
        let image = try ImageDecoder.decode(path: Fixtures.path("inputs/rocket.png"))
        var results: [[Float]] = []
        for isa in ISA.supported {
            let c = try Classifier(modelFile: path, isa: isa)
            results.append(c.logits(image))
        }
        #expect(results.allSatisfy { $0 == results[0] }, "int8 logits differ between \(ISA.supported)")
    }

    @Test func threadsComputeTheSameLogits() throws {
        let (path, _) = try TinyModels.b0.get()
        let image = try ImageDecoder.decode(path: Fixtures.path("inputs/coffee.png"))
        let one = try Classifier(modelFile: path, threads: 1).logits(image)
        for t in [2, 3] {
            #expect(try Classifier(modelFile: path, threads: t).logits(image) == one, "\(t) threads differ from 1")
            // The tiny model's steps are all below the split thresholds: force every kind through parts.
            #expect(try Classifier(modelFile: path, threads: t, splitEveryStep: true).logits(image) == one,
                    "\(t) threads, every step split, differ from 1")
        }
    }

    @Test func invokeAllocatesNothing() throws {
        let (path, _) = try TinyModels.b0.get()
        for threads in [1, 2] {
            let allocations = try allocationsIn100Invokes(Classifier(modelFile: path, threads: threads))
            #expect(allocations == 0, "\(allocations) heap allocations in 100 int8 invokes with \(threads) thread(s)")
        }
        // The counter itself works: an array allocates.
        eb_test_alloc_begin()
        let a = [Int](repeating: 1, count: Int(getpid() % 7 + 100))
        let n = eb_test_alloc_end()
        #expect(n >= 1 && a.count > 0)
    }

    @Test func arenaStaysNearItsLowerBound() throws {
        for r in [TinyModels.b0, TinyModels.lite] {
            let net = try Classifier(modelFile: try r.get().path).network
            #expect(ArenaPlan.isValid(net.plan, for: net.requests))
            #expect(Double(net.plan.arenaBytes) <= 1.1 * Double(net.plan.lowerBoundBytes),
                    "arena \(net.plan.arenaBytes) vs lower bound \(net.plan.lowerBoundBytes)")
        }
    }

    @Test func calibrationInputErrors() throws {
        let empty = Fixtures.scratchDirectory()
        #expect(throws: CalibrationError.empty(empty)) { try calibrationImagePaths(empty) }
        #expect(throws: CalibrationError.self) { try calibrationImagePaths(empty + "/missing") }
        // A wrong checkpoint or bad images: an error, and nothing at --out.
        let out = empty + "/out.safetensors"
        let lite = Fixtures.path("tiny/tf_efficientnet_lite0_tiny.safetensors")
        let b0Config = try EfficientNetConfig(arch: "efficientnet_b0", channelMultiplier: 0.25, depthMultiplier: 0.3, numClasses: 100)
        #expect(throws: ModelFileError.self) {
            try QuantizeJob.run(weights: lite, config: b0Config, calibration: Fixtures.path("photos"), out: out, options: QuantizeOptions())
        }
        let notImage = empty + "/x.png"
        Fixtures.write(Array("no".utf8), to: notImage)
        #expect(throws: ImageError.self) {
            try QuantizeJob.run(weights: Fixtures.path("tiny/efficientnet_b0_tiny.safetensors"), config: b0Config, calibration: empty,
                                out: out, options: QuantizeOptions())
        }
        #expect(access(out, F_OK) != 0, "a failed quantization left \(out)")
    }
}

/// Corrupt int8 model files are typed errors naming what is wrong.
@Suite struct CorruptInt8ModelTests {
    /// A copy of an int8 model (default: the tiny B0) with `edit` applied to its tensors and metadata.
    func rewritten(from source: String? = nil, _ edit: (inout [String: (DType, [Int], [UInt8])], inout [String: String]) -> Void) throws -> String {
        try Fixtures.rewritten(try source ?? TinyModels.b0.get().path, as: "bad", edit)
    }

    func description(_ meta: [String: String]) -> Graph.Description {
        try! JSONDecoder().decode(Graph.Description.self, from: Data(meta["edgebone.graph"]!.utf8))
    }
    func json(_ d: Graph.Description) -> String {
        var g = Graph()
        g.tensors = d.tensors; g.nodes = d.nodes; g.input = d.input; g.output = d.output; g.normalization = d.normalization
        return g.descriptionJSON
    }
    func editedGraph(_ edit: @escaping (inout Graph.Description) -> Void) throws -> String {
        try rewritten { _, m in
            var d = description(m)
            edit(&d)
            m["edgebone.graph"] = json(d)
        }
    }

    /// The ModelFileError loading `path` throws, if any.
    func loadError(_ path: String) -> ModelFileError? {
        do { _ = try Classifier(modelFile: path); return nil } catch let e as ModelFileError { return e } catch { return nil }
    }

    /// Table activations index a 9-bit grid (SiLU, sigmoid; GELU keeps 12, see the SwinV2 test) over the
    /// pre-activation range trimmed to where the rounded activation still changes; a file that does not
    /// say its bits (written before 9-bit tables) means 12, and bits outside 8…12 are refused.
    @Test func tableGrids() throws {
        let c = try Classifier(modelFile: TinyModels.b0.get().path)
        let tables = c.network.graph.nodes.filter { $0.attributes.preQuant != nil }
        #expect(tables.count > 10 && tables.allSatisfy { $0.attributes.tableBits == 9 })
        let old = try editedGraph { d in for i in d.nodes.indices { d.nodes[i].attributes.tableBits = nil } }
        #expect(loadError(old) == nil)
        let wide = try editedGraph { d in for i in d.nodes.indices where d.nodes[i].attributes.preQuant != nil { d.nodes[i].attributes.tableBits = 13 } }
        guard case .invalidGraph(_, _, let why)? = loadError(wide), why.contains("tableBits 13") else {
            Issue.record("expected invalidGraph for 13-bit tables: \(String(describing: loadError(wide)))"); return
        }
        // Any other width is either a valid grid for the zero points (it loads and runs, direct lookups
        // up to 9 bits, step planes or gathers above) or refused by name: never a crash.
        let image = try ImageDecoder.decode(path: Fixtures.path("inputs/rocket.png"))
        for bits in 8...12 {
            let p = try editedGraph { d in for i in d.nodes.indices where d.nodes[i].attributes.preQuant != nil { d.nodes[i].attributes.tableBits = bits } }
            if let e = loadError(p) {
                guard case .invalidGraph(_, _, let why) = e, why.contains("\(bits)-bit grid") else { Issue.record("\(bits) bits: \(e)"); continue }
            } else {
                #expect(try Classifier(modelFile: p).logits(image).allSatisfy(\.isFinite), "\(bits) bits")
            }
        }
    }

    @Test func unknownFormatVersion() throws {
        let p = try rewritten { _, m in m["edgebone.format_version"] = "99" }
        guard case .unsupportedFormat? = loadError(p) else { Issue.record("\(String(describing: loadError(p)))"); return }
    }

    @Test func versionOneIsRefusedWithTheCommandThatReplacesIt() throws {
        let p = try rewritten { _, m in m["edgebone.format"] = "edgebone-int8"; m["edgebone.format_version"] = "1" }
        guard case let .unsupportedFormat(_, found)? = loadError(p) else { Issue.record("\(String(describing: loadError(p)))"); return }
        #expect(found.contains("version 1") && found.contains("edgebone quantize"), "\(found)")
    }

    @Test func garbageGraph() throws {
        let p = try rewritten { _, m in m["edgebone.graph"] = "{\"nodes\": 3" }
        guard case .invalidMetadata(_, "edgebone.graph", _)? = loadError(p) else { Issue.record("expected invalidMetadata: \(String(describing: loadError(p)))"); return }
    }

    @Test func nodeReadingAMissingTensor() throws {
        let p = try editedGraph { $0.nodes[3].inputs = [9999] }
        guard case let .invalidGraph(_, node, detail)? = loadError(p) else { Issue.record("expected invalidGraph"); return }
        #expect(detail.contains("9999"), "\(node): \(detail)")
        let q = try editedGraph { $0.nodes.swapAt(1, 2) }
        guard case .invalidGraph? = loadError(q) else { Issue.record("expected invalidGraph for nodes out of order"); return }
    }

    @Test func misShapedWeight() throws {
        let p = try rewritten { t, _ in
            let w = t["blocks.1.0.conv_pw.weight"]!
            t["blocks.1.0.conv_pw.weight"] = (w.0, [w.1[0] + 1, w.1[1]], w.2 + [UInt8](repeating: 0, count: w.1[1]))
        }
        guard case let .invalidGraph(_, "blocks.1.0.conv_pw", detail)? = loadError(p), detail.contains("shape") else {
            Issue.record("expected invalidGraph: \(String(describing: loadError(p)))"); return
        }
    }

    @Test func missingBias() throws {
        let p = try rewritten { t, _ in t["conv_head.bias"] = nil }
        #expect(loadError(p) == .missingTensor(path: p, tensor: "conv_head.bias"))
    }

    @Test func strayTensor() throws {
        let p = try rewritten { t, _ in t["nobody.weight"] = (.f32, [1], [0, 0, 0, 0]) }
        #expect(loadError(p) == .unexpectedTensors(path: p, tensors: ["nobody.weight"]))
    }

    @Test func nonFiniteScales() throws {
        let p = try rewritten { t, _ in
            let s = t["conv_stem.weight_scale"]!
            var bytes = s.2
            withUnsafeBytes(of: Float.nan) { for i in 0..<4 { bytes[i] = $0[i] } }
            t["conv_stem.weight_scale"] = (s.0, s.1, bytes)
        }
        guard case .invalidGraph(_, "conv_stem", _)? = loadError(p) else { Issue.record("expected invalidGraph for NaN scale: \(String(describing: loadError(p)))"); return }
        let q = try editedGraph { $0.tensors[2].quant!.scale = 0 }
        guard case .invalidGraph? = loadError(q) else { Issue.record("expected invalidGraph for a zero tensor scale: \(String(describing: loadError(q)))"); return }
    }

    /// Every int8 depthwise kernel keeps its taps in arrays sized for 5×5: a file asking for 7×7 (with
    /// consistent [49, c] weights) is refused, not run.
    @Test func int8DepthwiseKernelSevenIsRefused() throws {
        let f = try SafeTensorsFile(path: try TinyModels.b0.get().path)
        let d = description(f.metadata)
        let i = try #require(d.nodes.firstIndex { $0.op == .depthwise && $0.attributes.kernel == 3 })
        let name = d.nodes[i].name, c = d.tensors[d.nodes[i].output].shape[2]
        let p = try rewritten { t, m in
            var d = description(m)
            d.nodes[i].attributes.kernel = 7
            d.nodes[i].attributes.padding = .same  // keeps the output size
            m["edgebone.graph"] = json(d)
            t[name + ".weight"] = (.i8, [49, c], [UInt8](repeating: 1, count: 49 * c))
        }
        guard case let .invalidGraph(_, node, detail)? = loadError(p) else { Issue.record("expected invalidGraph: \(String(describing: loadError(p)))"); return }
        #expect(node == name && detail.contains("3 or 5"), "\(node): \(detail)")
    }

    /// Int8 depthwise weights are symmetric like every int8 weight (−127…127): the NEON kernel sums two
    /// products in int16, which a −128 weight could overflow. A file with one is refused, naming the op.
    @Test func int8DepthwiseWeightMinus128IsRefused() throws {
        let f = try SafeTensorsFile(path: try TinyModels.b0.get().path)
        let d = description(f.metadata)
        let i = try #require(d.nodes.firstIndex { $0.op == .depthwise })
        let name = d.nodes[i].name
        let p = try rewritten { t, _ in
            var w = t[name + ".weight"]!
            w.2[w.2.count / 2] = 0x80
            t[name + ".weight"] = w
        }
        guard case let .invalidGraph(_, node, detail)? = loadError(p) else { Issue.record("expected invalidGraph: \(String(describing: loadError(p)))"); return }
        #expect(node == name && detail.contains("-127…127"), "\(node): \(detail)")
    }

    /// Fields an op does not use are refused, not ignored: a linear op with a 3×3 kernel or stride 2
    /// used to load and run as 1×1, stride 1.
    @Test func unusedAttributesAreRefused() throws {
        let f = try SafeTensorsFile(path: try TinyModels.b0.get().path)
        let i = try #require(description(f.metadata).nodes.firstIndex { $0.op == .linear })
        for edit in [{ (a: inout Attributes) in a.kernel = 3 }, { (a: inout Attributes) in a.stride = 2 }, { (a: inout Attributes) in a.window = 8 }] {
            let p = try editedGraph { edit(&$0.nodes[i].attributes) }
            guard case let .invalidGraph(_, _, detail)? = loadError(p) else { Issue.record("expected invalidGraph: \(String(describing: loadError(p)))"); continue }
            #expect(detail.contains("unexpected attribute"), "\(detail)")
        }
    }

    @Test func hugeShapeIsRefusedNotTrapped() throws {
        let p = try editedGraph { $0.tensors[3].shape = [65536, 65536, 65536, 65536] }
        guard case .invalidGraph? = loadError(p) else { Issue.record("expected invalidGraph: \(String(describing: loadError(p)))"); return }
        let q = try editedGraph { $0.tensors[3].shape = [Int](repeating: 2, count: 70) }
        guard case .invalidGraph? = loadError(q) else { Issue.record("expected invalidGraph for rank 70"); return }
    }

    @Test func truncatedModelFile() throws {
        let bytes = try ImageDecoder.readFile(try TinyModels.b0.get().path)
        let p = Fixtures.scratchDirectory() + "/cut.safetensors"
        Fixtures.write(Array(bytes.prefix(bytes.count - 1000)), to: p)
        #expect(throws: ModelFileError.self) { try Classifier(modelFile: p) }
    }
}

/// Any set of ops kept in float32: chosen, stored, validated on load, run between int8 ops.
@Suite struct KeepFloatTests {
    static let weights = Fixtures.path("tiny/efficientnet_b0_tiny.safetensors")
    static let middle = "blocks.1.0.conv_dw"

    static func run(_ keep: KeepFloat, name: String, target: Double = 0.99, maxShare: Double = 0.5) throws -> (path: String, report: FidelityReport) {
        let config = try Architectures.configuration(checkpoint: SafeTensorsFile(path: weights))
        var options = QuantizeOptions()
        options.augment = 3
        options.keepFloat = keep
        options.targetCosine = target
        options.maxFloatShare = maxShare
        let out = TinyModels.dir + "/b0-\(name).safetensors"
        return (out, try QuantizeJob.run(weights: weights, config: config, calibration: Fixtures.path("photos"), out: out, options: options))
    }
    static let middleModel = Result { try run(.nodes([middle]), name: "middle") }
    static let prefixModel = Result { try run(.prefix("blocks.1.0"), name: "prefix") }

    @Test func aMiddleOpRunsInFloatBetweenInt8Ops() throws {
        let (path, report) = try Self.middleModel.get()
        let c = try Classifier(modelFile: path)
        let g = c.network.graph
        let i = try #require(g.node(named: Self.middle))
        #expect(g.tensors[g.nodes[i].output].type == .f32 && g.tensors[g.nodes[i].inputs[0]].type == .f32)
        #expect(g.nodes.contains { $0.op == .dequantize } && g.nodes.contains { $0.op == .quantize })
        #expect(g.tensors[g.input].type == .qs8, "the stem should stay int8")
        #expect(c.precision == "int8+fp32" && c.opKinds[i].hasPrefix("f32 depthwise"))
        #expect(report.floatOps == [Self.middle] && report.floatShare > 0 && report.floatShare < 0.1)
        #expect(report.floatLatencyRatio != nil && report.text.contains("kept in float32"))
        let allocations = try allocationsIn100Invokes(c)
        #expect(allocations == 0, "\(allocations) heap allocations in 100 mixed-precision invokes")
        // Same logits on every ISA and thread count.
        let image = try ImageDecoder.decode(path: Fixtures.path("inputs/rocket.png"))
        let one = c.logits(image)
        for isa in ISA.supported { #expect(try Classifier(modelFile: path, isa: isa).logits(image) == one, "\(isa)") }
        #expect(try Classifier(modelFile: path, threads: 2, splitEveryStep: true).logits(image) == one)
    }

    @Test func aFloatPrefixStartsFromTheNormalizedImage() throws {
        let (path, report) = try Self.prefixModel.get()
        let c = try Classifier(modelFile: path)
        let g = c.network.graph
        #expect(g.tensors[g.input].type == .f32 && c.opKinds.first!.hasPrefix("f32 "))
        #expect(report.floatOps.first == "conv_stem" && report.floatOps.contains("blocks.1.0.conv_pwl"), "\(report.floatOps)")
        #expect(!report.layers.contains { $0.name == "conv_stem" && !$0.kind.hasPrefix("f32") })
        let allInt8 = try TinyModels.b0.get().report.meanCosine
        #expect(report.meanCosine >= allInt8, "float prefix cosine \(report.meanCosine) below all-int8 \(allInt8)")
        let allocations = try allocationsIn100Invokes(c)
        #expect(allocations == 0, "\(allocations) heap allocations in 100 float-prefix invokes")
    }

    @Test func unknownNameSaysWhatExists() throws {
        let out = Fixtures.scratchDirectory() + "/never.safetensors"
        do {
            _ = try Self.run(.nodes(["blocks.99.conv"]), name: "never")
            Issue.record("expected an error")
        } catch let e as QuantizeError {
            #expect(e.description.contains("conv_stem"), "\(e)")
        }
        #expect(access(out, F_OK) != 0)
    }

    @Test func autoStopsAtTheAllowedShare() throws {
        let (_, r) = try Self.run(.auto, name: "auto", target: 1.0, maxShare: 0.15)
        #expect(r.floatShare <= 0.15 && r.allInt8Cosine != nil && r.meanCosine >= r.allInt8Cosine!)
        #expect(r.text.contains("not reached"))
    }
}

/// Random edits of the numbers in a stored graph: every load is a typed error or a network that runs;
/// nothing crashes.
@Suite struct GraphFuzzTests {
    @Test func mutatedGraphsNeverCrash() throws {
        let f = try SafeTensorsFile(path: try KeepFloatTests.middleModel.get().path)
        let program = Array(f.metadata["edgebone.graph"]!.utf8)
        var numbers: [Range<Int>] = []
        var i = 1
        while i < program.count {
            if (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(program[i]) && !(program[i - 1] == UInt8(ascii: ".") || program[i - 1] == UInt8(ascii: "e")) {
                var j = i
                while j < program.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(program[j]) { j += 1 }
                if j < program.count, program[j] != UInt8(ascii: ".") && program[j] != UInt8(ascii: "e") { numbers.append(i..<j) }
                i = j
            } else {
                i += 1
            }
        }
        #expect(numbers.count > 100)
        let image = try ImageDecoder.decode(path: Fixtures.path("inputs/rocket.png"))
        var rng = SplitMix64(seed: 5)
        var loaded = 0, refused = 0
        for _ in 0..<150 {
            var text = program
            let r = numbers[Int.random(in: 0..<numbers.count, using: &rng)]
            let value = ["0", "1", "2", "3", "7", "31", "999", "65536", "2147483647", "99999999999"][Int.random(in: 0..<10, using: &rng)]
            text.replaceSubrange(r, with: Array(value.utf8))
            let p = try CorruptInt8ModelTests().rewritten(from: f.path) { _, m in m["edgebone.graph"] = String(decoding: text, as: UTF8.self) }
            do {
                let c = try Classifier(modelFile: p)
                _ = c.logits(image)
                loaded += 1
            } catch {
                refused += 1
            }
        }
        #expect(refused > 0 && loaded + refused == 150, "loaded \(loaded), refused \(refused)")
        print("graph fuzz: \(loaded) mutated graphs loaded and ran, \(refused) refused")
    }
}

/// SwinV2 through the same quantizer: linear layers (and GELU, as a table in fc1's epilogue) in int8,
/// LayerNorm and attention as f32 islands with quantize/dequantize at their edges.
@Suite struct SwinV2QuantizeTests {
    static let model = Result { () throws -> (path: String, report: FidelityReport) in
        let weights = Fixtures.path("tiny/swinv2_tiny.safetensors")
        let config = try Architectures.configuration(checkpoint: SafeTensorsFile(path: weights))
        var options = QuantizeOptions()
        options.augment = 3
        let out = TinyModels.dir + "/swinv2.int8.safetensors"
        return (out, try QuantizeJob.run(weights: weights, config: config, calibration: Fixtures.path("photos"), out: out, options: options))
    }

    @Test func keepsFidelityWithFloatIslands() throws {
        let (path, report) = try Self.model.get()
        #expect(report.meanCosine >= 0.99, "tiny SwinV2 int8 vs float mean logits cosine \(report.meanCosine)")
        let c = try Classifier(modelFile: path)
        let g = c.network.graph
        #expect(c.precision == "int8+fp32")
        // Every LayerNorm and attention reads and writes int8 at run time (the boundaries folded into
        // them): no quantize or dequantize step is left.
        #expect(g.nodes.filter { $0.op == .layerNorm || $0.op == .attention }.allSatisfy { g.tensors[$0.output].type == .qs8 && g.tensors[$0.inputs[0]].type == .qs8 })
        #expect(!g.nodes.contains { $0.op == .quantize || $0.op == .dequantize })
        let fc1 = try #require(g.nodes.first { $0.name.hasSuffix("mlp.fc1") })
        #expect(g.tensors[fc1.output].type == .qs8 && fc1.attributes.activation == .gelu && fc1.attributes.preQuant != nil)
        #expect(fc1.attributes.tableBits == 12)
        #expect(g.nodes.filter { $0.op == .linear && $0.name.hasSuffix("qkv") }.allSatisfy { g.tensors[$0.output].type == .qs8 })
        #expect(try allocationsIn100Invokes(c) == 0)
        let image = try ImageDecoder.decode(path: Fixtures.path("inputs/rocket.png"))
        #expect(try Classifier(modelFile: path, threads: 2, splitEveryStep: true).logits(image) == c.logits(image))
    }

    /// Folding the precision boundaries into LayerNorm and attention moves their arithmetic to integers
    /// (LayerNorm's statistics; attention's products and 8-bit softmax weights): each fold alone and both
    /// give the same logits on one thread and split across two, within 0.995 logits cosine of the plain
    /// graph (measured 0.9974–0.9976 with both on this tiny model; the full-size SwinV2-T keeps its
    /// cosine to float, README).
    @Test(arguments: ISA.supported)
    func foldedBoundaries(isa: ISA) throws {
        let plain = try Graph(file: SafeTensorsFile(path: try Self.model.get().path))
        var rng = SplitMix64(seed: 6)
        let size = plain.tensors[plain.input].shape[0]
        let pixels = (0..<(size * size * 3)).map { _ in UInt8.random(in: 0...255, using: &rng) }
        func logits(_ g: Graph) throws -> [Float] {
            let net = try Network(graph: g, isa: isa)
            pixels.withUnsafeBufferPointer { net.setInput(rgb: $0.baseAddress!) }
            net.run()
            return Array(net.output)
        }
        let want = try logits(plain)
        for ops: Set<OpKind> in [[.layerNorm], [.attention], [.layerNorm, .attention]] {
            let folded = plain.foldingPrecisionBoundaries(of: ops)
            #expect(folded.nodes.count < plain.nodes.count)
            try expectSameLogits(folded, folded, isa: isa, seed: 5)  // one thread and two
            let c = cosine(want, try logits(folded))
            #expect(c > 0.995, "\(isa): logits cosine \(c) against the plain graph's, \(ops) folded")
        }
    }
}
