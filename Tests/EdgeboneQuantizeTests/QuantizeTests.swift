// The quantizer end to end on the tiny fixtures, the int8 runtime's guarantees (bit-exact across
// ISAs, no allocation per frame, arena near its lower bound) and its refusal of corrupt model files.
import CEdgeboneTestSupport
import EdgeboneTestSupport
import Testing
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
        let config = try EfficientNetConfig(checkpoint: SafeTensorsFile(path: weights))
        var options = QuantizeOptions()
        options.augment = 3
        let out = dir + "/\(name).int8.safetensors"
        let report = try QuantizeJob.run(weights: weights, config: config, calibration: Fixtures.path("photos"), out: out,
                                         options: options, labels: (0..<config.numClasses).map { "c\($0)" })
        return (out, report)
    }
    static let b0 = Result { try quantized("efficientnet_b0_tiny") }
    static let lite = Result { try quantized("tf_efficientnet_lite0_tiny") }
}

/// Heap allocations on this thread during 100 invokes of `c` on one photo, after 5 warm-up invokes.
func allocationsIn100Invokes(_ c: Int8Classifier) throws -> Int {
    c.preprocessor.crop(try ImageDecoder.decode(path: Fixtures.path("inputs/chelsea.png")))
    for _ in 0..<5 { _ = c.runCropped() }
    eb_test_alloc_begin()
    for _ in 0..<100 { _ = c.runCropped() }
    return eb_test_alloc_end()
}

@Suite struct QuantizeTests {
    @Test func tinyB0KeepsFidelity() throws {
        let (_, r) = try TinyModels.b0.get()
        #expect(r.meanCosine >= 0.985, "tiny B0 int8 vs float mean logits cosine \(r.meanCosine)")
        #expect(r.top1Agreement >= 0.75, "tiny B0 top-1 agreement \(r.top1Agreement)")
        #expect(r.layers.count > 40 && r.layers.allSatisfy { $0.sqnr > 5 })
        #expect(r.layers.first!.name == "conv_stem" && r.layers.first!.sqnr > 25, "stem SQNR \(r.layers.first!.sqnr)")
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
            let c = try Int8Classifier(path: path, isa: isa)
            results.append(c.logits(image))
        }
        #expect(results.allSatisfy { $0 == results[0] }, "int8 logits differ between \(ISA.supported)")
    }

    @Test func threadsComputeTheSameLogits() throws {
        let (path, _) = try TinyModels.b0.get()
        let image = try ImageDecoder.decode(path: Fixtures.path("inputs/coffee.png"))
        let one = try Int8Classifier(path: path, threads: 1).logits(image)
        for t in [2, 3] {
            #expect(try Int8Classifier(path: path, threads: t).logits(image) == one, "\(t) threads differ from 1")
            // The tiny model's steps are all below the split thresholds: force every kind through parts.
            #expect(try Int8Classifier(path: path, threads: t, splitEveryStep: true).logits(image) == one,
                    "\(t) threads, every step split, differ from 1")
        }
    }

    @Test func invokeAllocatesNothing() throws {
        let (path, _) = try TinyModels.b0.get()
        for threads in [1, 2] {
            let allocations = try allocationsIn100Invokes(Int8Classifier(path: path, threads: threads))
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
            let net = try Int8Network(path: try r.get().path)
            #expect(ArenaPlan.isValid(net.plan, for: try Int8Compiler(file: SafeTensorsFile(path: net.path), program: net.program,
                                                                      config: net.config).compile().requests))
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
            try QuantizeJob.run(weights: lite, config: b0Config, calibration: Fixtures.path("photos"), out: out, options: QuantizeOptions(), labels: [])
        }
        let notImage = empty + "/x.png"
        Fixtures.write(Array("no".utf8), to: notImage)
        #expect(throws: ImageError.self) {
            try QuantizeJob.run(weights: Fixtures.path("tiny/efficientnet_b0_tiny.safetensors"), config: b0Config, calibration: empty,
                                out: out, options: QuantizeOptions(), labels: [])
        }
        #expect(access(out, F_OK) != 0, "a failed quantization left \(out)")
    }
}

/// Corrupt int8 model files are typed errors naming what is wrong.
@Suite struct CorruptInt8ModelTests {
    /// A copy of an int8 model (default: the tiny B0) with `edit` applied to its tensors and metadata.
    func rewritten(from source: String? = nil, _ edit: (inout [String: (DType, [Int], [UInt8])], inout [String: String]) -> Void) throws -> String {
        let f = try SafeTensorsFile(path: try source ?? TinyModels.b0.get().path)
        var tensors: [String: (DType, [Int], [UInt8])] = [:]
        for n in f.names { let t = f.tensors[n]!; tensors[n] = (t.dtype, t.shape, Array(f.bytes(t))) }
        var meta = f.metadata
        edit(&tensors, &meta)
        var w = SafeTensorsWriter()
        for (n, t) in tensors { w.add(n, dtype: t.0, shape: t.1, bytes: t.2) }
        w.metadata = meta
        let p = Fixtures.scratchDirectory() + "/bad.safetensors"
        try w.write(to: p)
        return p
    }

    func program(_ meta: [String: String]) -> Int8Program { try! Int8Program.parse(meta["edgebone.program"]!, path: "") }

    /// The ModelFileError loading `path` throws, if any.
    func loadError(_ path: String) -> ModelFileError? {
        do { _ = try Int8Network(path: path); return nil } catch let e as ModelFileError { return e } catch { return nil }
    }

    @Test func unknownFormatVersion() throws {
        let p = try rewritten { _, m in m["edgebone.format_version"] = "99" }
        #expect(throws: ModelFileError.self) { try Int8Network(path: p) }
        do { _ = try Int8Network(path: p) } catch let e as ModelFileError {
            guard case .unsupportedFormat = e else { Issue.record("\(e)"); return }
        }
    }

    @Test func garbageProgram() throws {
        let p = try rewritten { _, m in m["edgebone.program"] = "{\"ops\": 3" }
        guard case .invalidMetadata(_, "edgebone.program", _)? = loadError(p) else { Issue.record("expected invalidMetadata: \(String(describing: loadError(p)))"); return }
    }

    @Test func opReadingAMissingTensor() throws {
        let p = try rewritten { _, m in
            var prog = program(m)
            prog.ops[3].inputs = ["nowhere"]
            m["edgebone.program"] = prog.json()
        }
        guard case let .invalidProgram(_, op, detail)? = loadError(p) else { Issue.record("expected invalidProgram"); return }
        #expect(detail.contains("nowhere"), "\(op): \(detail)")
    }

    @Test func misShapedWeight() throws {
        let p = try rewritten { t, _ in
            let w = t["blocks.1.0.conv_pw.weight"]!
            t["blocks.1.0.conv_pw.weight"] = (w.0, [w.1[0] + 1, w.1[1]], w.2 + [UInt8](repeating: 0, count: w.1[1]))
        }
        guard case .shapeMismatch(_, "blocks.1.0.conv_pw.weight", _, _)? = loadError(p) else { Issue.record("expected shapeMismatch: \(String(describing: loadError(p)))"); return }
    }

    @Test func missingBias() throws {
        let p = try rewritten { t, _ in t["conv_head.bias"] = nil }
        #expect(throws: ModelFileError.missingTensor(path: p, tensor: "conv_head.bias")) { try Int8Network(path: p) }
    }

    @Test func nonFiniteScales() throws {
        let p = try rewritten { t, _ in
            let s = t["conv_stem.weight_scale"]!
            var bytes = s.2
            withUnsafeBytes(of: Float.nan) { for i in 0..<4 { bytes[i] = $0[i] } }
            t["conv_stem.weight_scale"] = (s.0, s.1, bytes)
        }
        guard case .invalidProgram(_, "conv_stem", _)? = loadError(p) else { Issue.record("expected invalidProgram for NaN scale: \(String(describing: loadError(p)))"); return }
        let q = try rewritten { _, m in
            var prog = program(m)
            prog.tensors[2].quant.scale = 0
            m["edgebone.program"] = prog.json()
        }
        guard case .invalidProgram? = loadError(q) else { Issue.record("expected invalidProgram for a zero tensor scale: \(String(describing: loadError(q)))"); return }
    }

    @Test func truncatedModelFile() throws {
        let bytes = try ImageDecoder.readFile(try TinyModels.b0.get().path)
        let p = Fixtures.scratchDirectory() + "/cut.safetensors"
        Fixtures.write(Array(bytes.prefix(bytes.count - 1000)), to: p)
        #expect(throws: ModelFileError.self) { try Int8Network(path: p) }
    }
}

/// Leading ops kept in float32: chosen, stored, validated on load, run before the int8 steps.
@Suite struct FloatPrefixTests {
    static let weights = Fixtures.path("tiny/efficientnet_b0_tiny.safetensors")

    /// The tiny B0 with float through the third place a single tensor is handed over.
    static let model = Result { () throws -> (path: String, report: FidelityReport, through: String) in
        let config = try EfficientNetConfig(checkpoint: SafeTensorsFile(path: weights))
        let graph = try config.floatGraph(checkpoint: SafeTensorsFile(path: weights), decomposed: true)
        let name = graph.opNames[graph.prefixCuts[2] - 1]
        let through = name.hasSuffix(".act") ? String(name.dropLast(4)) : name
        var options = QuantizeOptions()
        options.augment = 3
        options.floatPrefix = .through(through)
        let out = TinyModels.dir + "/b0-prefix.int8.safetensors"
        let report = try QuantizeJob.run(weights: weights, config: config, calibration: Fixtures.path("photos"), out: out,
                                         options: options, labels: (0..<config.numClasses).map { "c\($0)" })
        return (out, report, through)
    }

    @Test func prefixIsStoredReportedAndHelps() throws {
        let (path, report, through) = try Self.model.get()
        let net = try Int8Network(path: path)
        let prefix = try #require(net.floatPrefix)
        #expect(prefix.graph.opNames.contains(through) && net.program.floatPrefix != nil)
        #expect(report.floatOps.first == "conv_stem" && report.floatOps.last == through, "\(report.floatOps)")
        #expect(report.floatShare > 0 && report.floatShare < 0.5)
        #expect(!report.layers.contains { $0.name == "conv_stem" }, "the stem ran in int8")
        let allInt8 = try TinyModels.b0.get().report.meanCosine
        #expect(report.meanCosine >= allInt8, "float prefix cosine \(report.meanCosine) below all-int8 \(allInt8)")
        #expect(report.text.contains("kept in float32"))
    }

    @Test func prefixRunsWithoutAllocating() throws {
        let c = try Int8Classifier(path: try Self.model.get().path)
        let allocations = try allocationsIn100Invokes(c)
        #expect(allocations == 0, "\(allocations) heap allocations in 100 invokes with a float prefix")
        #expect(c.opNames.count == c.opKinds.count && c.opKinds.first!.hasPrefix("f32 "))
    }

    @Test func corruptPrefixIsATypedError() throws {
        let corrupt = CorruptInt8ModelTests()
        func rewritten(_ edit: @escaping (inout Int8Program) -> Void) throws -> String {
            try corrupt.rewritten(from: try Self.model.get().path) { _, m in
                var prog = corrupt.program(m)
                edit(&prog)
                m["edgebone.program"] = prog.json()
            }
        }
        let edits: [(String, (inout Int8Program) -> Void)] = [
            ("parameter block past the end", { p in
                if case let .conv(i, o, w, b, g, a) = p.floatPrefix!.graph.ops[0] {
                    p.floatPrefix!.graph.ops[0] = .conv(input: i, output: o, weights: ParamRef(offset: p.floatPrefix!.graph.parameterCount - 1, count: w.count), bias: b, geometry: g, activation: a)
                }
            }),
            ("tensor index out of range", { p in p.floatPrefix!.graph.output = 999 }),
            ("read before written", { p in p.floatPrefix!.graph.ops.swapAt(0, 1) }),
            ("wrong geometry", { p in
                if case let .conv(i, o, w, b, g, a) = p.floatPrefix!.graph.ops[0] {
                    var g2 = g; g2.outH += 1
                    p.floatPrefix!.graph.ops[0] = .conv(input: i, output: o, weights: w, bias: b, geometry: g2, activation: a)
                }
            }),
            ("normalization missing", { p in p.floatPrefix!.normalizationScale = [] }),
        ]
        for (what, edit) in edits {
            let path = try rewritten(edit)
            guard case .invalidProgram? = corrupt.loadError(path) else {
                Issue.record("\(what): expected invalidProgram, got \(String(describing: corrupt.loadError(path)))"); continue
            }
        }
        let missing = try rewritten { p in p.floatPrefix!.parameters = "nowhere" }
        #expect(throws: ModelFileError.missingTensor(path: missing, tensor: "nowhere")) { try Int8Network(path: missing) }
    }

    @Test func unknownCutNamesTheValidOnes() throws {
        let config = try EfficientNetConfig(checkpoint: SafeTensorsFile(path: Self.weights))
        var options = QuantizeOptions()
        options.floatPrefix = .through("blocks.1.0.se.conv_reduce")  // inside squeeze-and-excite: two tensors live
        let out = Fixtures.scratchDirectory() + "/never.safetensors"
        do {
            _ = try QuantizeJob.run(weights: Self.weights, config: config, calibration: Fixtures.path("photos"), out: out, options: options, labels: [])
            Issue.record("expected an error")
        } catch let e as QuantizeError {
            #expect(e.description.contains("conv_stem"), "\(e)")
        }
        #expect(access(out, F_OK) != 0)
    }

    @Test func autoStopsAtTheAllowedShare() throws {
        let config = try EfficientNetConfig(checkpoint: SafeTensorsFile(path: Self.weights))
        var options = QuantizeOptions()
        options.floatPrefix = .auto
        options.targetCosine = 1.0  // unreachable: every allowed cut is tried, the best is kept
        options.maxFloatShare = 0.15
        let out = Fixtures.scratchDirectory() + "/auto.safetensors"
        let r = try QuantizeJob.run(weights: Self.weights, config: config, calibration: Fixtures.path("photos"), out: out, options: options, labels: [])
        #expect(r.floatShare <= 0.15 && r.allInt8Cosine != nil && r.meanCosine >= r.allInt8Cosine!)
        #expect(r.text.contains("not reached"))
    }
}

/// A prefix cut runs on its own and hands over exactly what the whole network computes there.
@Suite struct FloatGraphPrefixTests {
    @Test func prefixOutputMatchesTheWholeNetwork() throws {
        let file = try SafeTensorsFile(path: FloatPrefixTests.weights)
        let config = try EfficientNetConfig(checkpoint: file)
        let decomposed = try config.floatGraph(checkpoint: file, decomposed: true)
        let fused = try config.floatGraph(checkpoint: file, decomposed: false)
        let whole = FloatNetwork(graph: decomposed)
        let image = try ImageDecoder.decode(path: Fixtures.path("inputs/rocket.png"))
        let count = whole.graph.tensors[whole.graph.input].elementCount
        // The input's arena slot is reused once it is consumed: keep a copy for every run.
        let pixels = (0..<count).map { Float(image.pixels[$0]) / 255 - 0.5 }
        let cuts = decomposed.prefixCuts
        #expect(cuts.count >= 5)
        var fusedCompared = 0
        for cut in [cuts[0], cuts[cuts.count / 2], cuts.last!] {
            let boundary = decomposed.liveTensors(cutBefore: cut)[0]
            var reference: [Float] = []
            whole.input.update(from: pixels, count: count)
            whole.run { op in
                if op == cut - 1 {
                    reference = Array(UnsafeBufferPointer(start: whole.pointer(to: boundary), count: decomposed.tensors[boundary].elementCount))
                }
            }
            let prefixGraph = decomposed.prefix(ops: cut)
            #expect(prefixGraph.ops.count == cut && prefixGraph.tensors.count < decomposed.tensors.count)
            #expect(throws: Never.self) { try FloatGraphSpec(prefixGraph).validate() }
            let prefix = FloatNetwork(graph: try FloatGraphSpec(prefixGraph).graph(parameters: prefixGraph.parameters))
            prefix.input.update(from: pixels, count: count)
            prefix.run()
            let same = Array(prefix.output) == reference
            #expect(same, "cut \(cut): the prefix differs from the whole network")
            // The fused graph's prefix at the same tensor computes the same values up to rounding.
            if let fcut = fused.prefixCuts.first(where: { fused.tensors[fused.liveTensors(cutBefore: $0)[0]].name == decomposed.tensors[boundary].name }) {
                let f = FloatNetwork(graph: fused.prefix(ops: fcut))
                f.input.update(from: pixels, count: count)
                f.run()
                let maxRef = reference.map(abs).max()!
                let maxDiff = zip(Array(f.output), reference).map { abs($0 - $1) }.max()!
                #expect(maxDiff <= 1e-4 * max(maxRef, 1), "cut \(cut): fused prefix off by \(maxDiff)")
                fusedCompared += 1
            }
        }
        #expect(fusedCompared >= 2, "the fused graph had a matching cut for only \(fusedCompared) of 3")
    }
}

/// Random edits of the numbers in a float-prefix program: every load is a typed error or a network
/// that runs; nothing crashes.
@Suite struct FloatPrefixFuzzTests {
    @Test func mutatedProgramsNeverCrash() throws {
        let f = try SafeTensorsFile(path: try FloatPrefixTests.model.get().path)
        let program = Array(f.metadata["edgebone.program"]!.utf8)
        // Start offsets of the integer literals inside the float prefix's description.
        let start = Array("\"floatPrefix\"".utf8)
        let prefixAt = (0..<(program.count - start.count)).first { Array(program[$0..<($0 + start.count)]) == start }!
        var numbers: [Range<Int>] = []
        var i = prefixAt
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
        #expect(numbers.count > 50)
        let image = try ImageDecoder.decode(path: Fixtures.path("inputs/rocket.png"))
        var rng = SplitMix64(seed: 5)
        var loaded = 0, refused = 0
        for _ in 0..<100 {
            var text = program
            let r = numbers[Int.random(in: 0..<numbers.count, using: &rng)]
            let value = ["0", "1", "2", "3", "7", "31", "999", "65536", "2147483647", "99999999999"][Int.random(in: 0..<10, using: &rng)]
            text.replaceSubrange(r, with: Array(value.utf8))
            let p = try CorruptInt8ModelTests().rewritten(from: f.path) { _, m in m["edgebone.program"] = String(decoding: text, as: UTF8.self) }
            do {
                let c = try Int8Classifier(path: p)
                _ = c.logits(image)
                loaded += 1
            } catch {
                refused += 1
            }
        }
        #expect(refused > 0 && loaded + refused == 100, "loaded \(loaded), refused \(refused)")
        print("float prefix fuzz: \(loaded) mutated programs loaded and ran, \(refused) refused")
    }
}
