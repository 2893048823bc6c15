// EfficientNet configuration (timm's rounding rules) and float parity with timm's logits.
import EdgeboneTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif
@testable import Edgebone
@testable import EdgeboneModels

/// A checkpoint's configuration through the registry, as the commands get it.
func checkpointConfig(_ file: SafeTensorsFile) throws -> EfficientNetConfig {
    try #require(try Architectures.configuration(checkpoint: file) as? EfficientNetConfig)
}

@Suite struct EfficientNetConfigTests {
    @Test func b0MatchesTheReferenceArchitecture() throws {
        let c = try EfficientNetConfig(arch: "efficientnet_b0")
        #expect(c.stemChannels == 32 && c.headChannels == 1280)
        #expect(c.stages.map(\.count) == [1, 2, 2, 3, 3, 4, 1])
        #expect(c.stages.map { $0[0].outChannels } == [16, 24, 40, 80, 112, 192, 320])
        #expect(c.stages[1][0].midChannels == 96 && c.stages[1][0].seChannels == 4)
        #expect(c.stages[0][0].seChannels == 8)
        #expect(c.stages.flatMap { $0 }.filter(\.hasSkip).count == 9)
        #expect(c.activation == .silu && c.padding == .symmetric)
    }

    @Test func liteKeepsStemHeadAndFirstLastDepth() throws {
        let c = try EfficientNetConfig(arch: "tf_efficientnet_lite0", channelMultiplier: 0.25, depthMultiplier: 0.3)
        #expect(c.stemChannels == 32 && c.headChannels == 1280)
        #expect(c.stages.map(\.count) == [1, 1, 1, 1, 1, 2, 1])
        #expect(c.stages.allSatisfy { $0.allSatisfy { $0.seChannels == 0 } })
        #expect(c.padding == .same && c.batchNormEpsilon == 1e-3 && c.activation == .relu6)
        #expect(c.preprocessing.mean == [0.5, 0.5, 0.5])
    }

    @Test func unknownArchitectureIsAnError() {
        #expect(throws: ArchitectureError.self) { try EfficientNetConfig(arch: "resnet50") }
        #expect(throws: ArchitectureError.self) { try EfficientNetConfig(arch: "efficientnet_b0", channelMultiplier: 0) }
    }

    @Test func registryReadsOptionsAndRefusesUnknownOnes() throws {
        let c = try EfficientNetConfig(arch: "efficientnet_b0", options: ["channel_multiplier": "0.5", "num_classes": "10"])
        #expect(c.numClasses == 10 && c.channelMultiplier == 0.5)
        #expect(throws: ArchitectureError.self) { try EfficientNetConfig(arch: "efficientnet_b0", options: ["window_size": "8"]) }
        #expect(throws: ArchitectureError.self) { try EfficientNetConfig(arch: "efficientnet_b0", options: ["depth_multiplier": "1e12"]) }
        #expect(throws: ArchitectureError.self) { try EfficientNetConfig(arch: "efficientnet_b0", options: ["num_classes": "2.5"]) }
        #expect(Architectures.archNames.contains("tf_efficientnet_lite0"))
    }
}

/// Runs a checkpoint over the fixture inputs and compares with timm's logits.
func checkParity(weights: String, logits: String, config: EfficientNetConfig, isa: ISA = .best) throws {
    let classifier = try Classifier(checkpoint: try SafeTensorsFile(path: weights), config: config, isa: isa)
    let names = ["astronaut", "chelsea", "coffee", "motorcycle", "rocket"]
    let ref = try #require(NPY.decode(try ImageDecoder.readFile(logits)))
    #expect(ref.shape == [names.count, config.numClasses])
    for (row, name) in names.enumerated() {
        let image = try ImageDecoder.decode(path: Fixtures.path("inputs/\(name).png"))
        let got = classifier.logits(image)
        let want = Array(ref.values[(row * config.numClasses)..<((row + 1) * config.numClasses)])
        let maxAbs = want.map(abs).max()!
        let maxDelta = zip(got, want).map { abs($0 - $1) }.max()!
        #expect(maxDelta <= 1e-3 * maxAbs, "\(config.arch) \(name) [\(isa)]: max|Δlogit| \(maxDelta) > 1e-3 × \(maxAbs)")
        #expect(TopK.select(got, k: 5).map(\.index) == TopK.select(want, k: 5).map(\.index), "\(config.arch) \(name): top-5 differs")
        print("parity \(config.arch) cm\(config.channelMultiplier) \(name) [\(isa)]: max|Δlogit| \(maxDelta), max|logit| \(maxAbs)")
    }
}

@Suite struct FloatParityTests {
    static let isas = ISA.supported.filter { $0 < .neon }

    @Test(arguments: isas)
    func tinyB0MatchesTimm(isa: ISA) throws {
        try checkParity(weights: Fixtures.path("tiny/efficientnet_b0_tiny.safetensors"),
                        logits: Fixtures.path("tiny/efficientnet_b0_tiny.logits.npy"),
                        config: try EfficientNetConfig(arch: "efficientnet_b0", channelMultiplier: 0.25, depthMultiplier: 0.3, numClasses: 100),
                        isa: isa)
    }

    @Test(arguments: isas)
    func tinyTFLite0MatchesTimm(isa: ISA) throws {
        try checkParity(weights: Fixtures.path("tiny/tf_efficientnet_lite0_tiny.safetensors"),
                        logits: Fixtures.path("tiny/tf_efficientnet_lite0_tiny.logits.npy"),
                        config: try EfficientNetConfig(arch: "tf_efficientnet_lite0", channelMultiplier: 0.25, depthMultiplier: 0.3, numClasses: 100),
                        isa: isa)
    }

    @Test(.enabled(if: Fixtures.exists("full/efficientnet_b0.safetensors"), "full-size fixtures not generated (make_fixtures.py --full)"))
    func fullB0MatchesTimm() throws {
        try checkParity(weights: Fixtures.path("full/efficientnet_b0.safetensors"), logits: Fixtures.path("full/efficientnet_b0.logits.npy"),
                        config: try EfficientNetConfig(arch: "efficientnet_b0"))
    }

    @Test(.enabled(if: Fixtures.exists("full/tf_efficientnet_lite0.safetensors"), "full-size fixtures not generated (make_fixtures.py --full)"))
    func fullTFLite0MatchesTimm() throws {
        try checkParity(weights: Fixtures.path("full/tf_efficientnet_lite0.safetensors"), logits: Fixtures.path("full/tf_efficientnet_lite0.logits.npy"),
                        config: try EfficientNetConfig(arch: "tf_efficientnet_lite0"))
    }
}

@Suite struct CheckpointErrorTests {
    let b0Tiny = Fixtures.path("tiny/efficientnet_b0_tiny.safetensors")
    let config = try! EfficientNetConfig(arch: "efficientnet_b0", channelMultiplier: 0.25, depthMultiplier: 0.3, numClasses: 100)

    /// A copy of the tiny B0 checkpoint with `edit` applied to its tensor list.
    func rewritten(_ edit: (inout [(String, DType, [Int], [UInt8])]) -> Void) throws -> String {
        let f = try SafeTensorsFile(path: b0Tiny)
        var list = f.names.map { n -> (String, DType, [Int], [UInt8]) in
            let t = f.tensors[n]!
            return (n, t.dtype, t.shape, Array(f.bytes(t)))
        }
        edit(&list)
        var w = SafeTensorsWriter()
        for (n, d, s, b) in list { w.add(n, dtype: d, shape: s, bytes: b) }
        let p = Fixtures.scratchDirectory() + "/edited.safetensors"
        try w.write(to: p)
        return p
    }

    @Test func missingTensor() throws {
        let p = try rewritten { $0.removeAll { $0.0 == "blocks.1.0.conv_dw.weight" } }
        #expect(throws: ModelFileError.missingTensor(path: p, tensor: "blocks.1.0.conv_dw.weight")) {
            try config.graph(checkpoint: SafeTensorsFile(path: p))
        }
    }

    @Test func misShapedTensor() throws {
        let p = try rewritten { list in
            let i = list.firstIndex { $0.0 == "classifier.bias" }!
            list[i] = ("classifier.bias", .f32, [50], [UInt8](repeating: 0, count: 200))
        }
        #expect(throws: ModelFileError.shapeMismatch(path: p, tensor: "classifier.bias", expected: [100], found: [50])) {
            try config.graph(checkpoint: SafeTensorsFile(path: p))
        }
    }

    @Test func wrongDType() throws {
        let p = try rewritten { list in
            let i = list.firstIndex { $0.0 == "bn1.weight" }!
            list[i] = ("bn1.weight", .i32, list[i].2, list[i].3)
        }
        #expect(throws: ModelFileError.dtypeMismatch(path: p, tensor: "bn1.weight", expected: .f32, found: .i32)) {
            try config.graph(checkpoint: SafeTensorsFile(path: p))
        }
    }

    @Test func extraTensor() throws {
        let p = try rewritten { $0.append(("blocks.9.0.conv_pw.weight", .f32, [1], [0, 0, 0, 0])) }
        #expect(throws: ModelFileError.unexpectedTensors(path: p, tensors: ["blocks.9.0.conv_pw.weight"])) {
            try config.graph(checkpoint: SafeTensorsFile(path: p))
        }
    }

    @Test func checkpointOfAnotherArchitecture() throws {
        let lite = try SafeTensorsFile(path: Fixtures.path("tiny/tf_efficientnet_lite0_tiny.safetensors"))
        #expect(throws: ModelFileError.self) { try config.graph(checkpoint: lite) }
    }
}

/// The real EfficientNet-Lite0 ImageNet weights, converted by Models/tools/convert_lite0.py
/// (`.ci/setup.sh` runs it). Required in CI; skipped elsewhere until converted.
@Suite struct RealLite0Tests {
    static let weights = Fixtures.path("../../Models/generated/tf_efficientnet_lite0.safetensors")
    static var present: Bool { access(weights, F_OK) == 0 }
    static var required: Bool { getenv("CI") != nil }

    @Test func convertedWeightsArePresentInCI() {
        if Self.required { #expect(Self.present, "\(Self.weights) missing: run .ci/setup.sh") }
    }

    @Test(.enabled(if: present, "real Lite0 weights not converted (python3 Models/tools/convert_lite0.py)"))
    func metadataCarriesArchitectureAndPreprocessing() throws {
        let file = try SafeTensorsFile(path: Self.weights)
        let config = try checkpointConfig(file)
        #expect(config.arch == "tf_efficientnet_lite0")
        // (x − 127) / 128 in the preset's affine form.
        #expect(config.preprocessing.normalizationScale.allSatisfy { abs($0 - 1.0 / 128) < 1e-7 })
        #expect(config.preprocessing.normalizationOffset.allSatisfy { abs($0 + 127.0 / 128) < 1e-6 })
        #expect(file.metadata["license"] == "Apache-2.0")
    }

    @Test(.enabled(if: present, "real Lite0 weights not converted"))
    func labelsPhotosCorrectly() throws {
        let file = try SafeTensorsFile(path: Self.weights)
        let classifier = try Classifier(checkpoint: file, config: try checkpointConfig(file))
        let cat = TopK.select(classifier.logits(try ImageDecoder.decode(path: Fixtures.path("photos/chelsea.png"))), k: 1)[0]
        #expect((281...285).contains(cat.index), "chelsea.png → \(cat.index) \(classifier.labels[cat.index])")
        let coffee = TopK.select(classifier.logits(try ImageDecoder.decode(path: Fixtures.path("photos/coffee.png"))), k: 1)[0]
        #expect(coffee.index == 967, "coffee.png → \(coffee.index) \(classifier.labels[coffee.index])")
    }

    @Test(.enabled(if: present, "real Lite0 weights not converted"))
    func logitsMatchTimmOnTheSamePixels() throws {
        let file = try SafeTensorsFile(path: Self.weights)
        try checkParity(weights: Self.weights, logits: Fixtures.path("real/tf_efficientnet_lite0_real.logits.npy"),
                        config: try checkpointConfig(file))
    }
}

@Suite struct FusionPassTests {
    /// The plain graph (separate activations and squeeze-and-excite, what calibration observes) and the
    /// fused one the float runtime uses compute the same function.
    @Test(arguments: ["efficientnet_b0_tiny", "tf_efficientnet_lite0_tiny"])
    func plainMatchesFused(name: String) throws {
        let file = try SafeTensorsFile(path: Fixtures.path("tiny/\(name).safetensors"))
        let config = try checkpointConfig(file)
        let plain = try config.graph(checkpoint: file)
        let fusedGraph = plain.fusedForFloat()
        #expect(fusedGraph.nodes.count < plain.nodes.count)
        #expect(!fusedGraph.nodes.contains { $0.op == .activation })
        if name.contains("b0") { #expect(fusedGraph.nodes.contains { $0.op == .squeezeExcite }) }
        let fused = try Network(graph: fusedGraph), split = try Network(graph: plain)
        let pre = Preprocessor(preset: config.preprocessing)
        pre.crop(try ImageDecoder.decode(path: Fixtures.path("inputs/chelsea.png")))
        fused.setInput(rgb: pre.cropped.pixels)
        split.setInput(rgb: pre.cropped.pixels)
        fused.run()
        split.run()
        let delta = zip(fused.output, split.output).map { abs($0 - $1) }.max()!
        #expect(delta < 1e-4, "plain \(name): max|Δ| \(delta)")
    }
}

/// The bundled int8 EfficientNet-Lite0 (Models/efficientnet_lite0.int8.safetensors).
@Suite struct BundledModelTests {
    @Test func isFoundAndLabelsPhotos() throws {
        let path = try #require(BundledModel.path)
        let c = try Classifier(modelFile: path)
        #expect(c.arch == "tf_efficientnet_lite0" && c.labels.count == 1000)
        let cat = TopK.select(c.logits(try ImageDecoder.decode(path: Fixtures.path("photos/chelsea.png"))), k: 1)[0]
        #expect((281...285).contains(cat.index), "chelsea.png → \(cat.index) \(c.labels[cat.index])")
        let coffee = TopK.select(c.logits(try ImageDecoder.decode(path: Fixtures.path("photos/coffee.png"))), k: 1)[0]
        #expect(coffee.index == 967, "coffee.png → \(coffee.index)")
    }

    /// Arena-size regression: the plan of the bundled model on this build's best ISA. A change here is a
    /// planner or program change; update the number only on purpose.
    @Test func arenaSizeRegression() throws {
        let net = try Classifier(modelFile: try #require(BundledModel.path)).network
        // 1,605,824 B of int8 tensors before the logits moved into the arena (+4,096 B for 1000 floats).
        #expect(net.plan.arenaBytes <= 1_609_920, "arena grew: \(net.plan.arenaBytes) B")
        #expect(Double(net.plan.arenaBytes) <= 1.1 * Double(net.plan.lowerBoundBytes))
    }

    /// Against the float Lite0: the same top-1 on every committed photo and on ≥ 95% of random
    /// crops/flips of them (views never used for calibration: another seed), mean cosine ≥ 0.99.
    @Test(.enabled(if: RealLite0Tests.present, "real Lite0 weights not converted"))
    func agreesWithFloatOnPhotosAndCrops() throws {
        let int8 = try Classifier(modelFile: try #require(BundledModel.path))
        let file = try SafeTensorsFile(path: RealLite0Tests.weights)
        let float = try Classifier(checkpoint: file, config: try checkpointConfig(file))
        let photos = ["chelsea.png", "coffee.png", "rocket.jpg", "astronaut.jpg", "motorcycle.jpg"].map { Fixtures.path("photos/" + $0) }
        for p in photos {
            let image = try ImageDecoder.decode(path: p)
            #expect(TopK.select(int8.logits(image), k: 1)[0].index == TopK.select(float.logits(image), k: 1)[0].index, "\(p): top-1 differs")
        }
        let views = try calibrationLikeViews(photos, preset: float.preprocessor.preset)
        var agree = 0, cosines = 0.0
        for v in views {
            let image = RGBImage(width: float.preprocessor.preset.inputSize, height: float.preprocessor.preset.inputSize, rgb: v)
            let a = float.logits(image), b = int8.logits(image)
            if TopK.select(a, k: 1)[0].index == TopK.select(b, k: 1)[0].index { agree += 1 }
            var ab = 0.0, aa = 0.0, bb = 0.0
            for i in a.indices { ab += Double(a[i] * b[i]); aa += Double(a[i] * a[i]); bb += Double(b[i] * b[i]) }
            cosines += ab / (aa * bb).squareRoot()
        }
        let rate = Double(agree) / Double(views.count), cosine = cosines / Double(views.count)
        print("bundled Lite0 vs float: top-1 agreement \(agree)/\(views.count), mean cosine \(cosine)")
        #expect(rate >= 0.95, "top-1 agreement \(rate) on \(views.count) crops")
        #expect(cosine >= 0.99, "mean logits cosine \(cosine)")
    }
}

import EdgeboneQuantize

/// 12 random crops/flips of each photo, with a seed the bundled model's calibration did not use.
func calibrationLikeViews(_ photos: [String], preset: Preprocessing) throws -> [[UInt8]] {
    try calibrationViews(paths: photos, preset: preset, augment: 12, seed: 2024).enumerated().filter { $0.offset % 13 != 0 }.map(\.element)
}
