// SwinV2: configuration as timm builds it, float parity with timm's logits on the tiny seeded fixture
// (timm's own 256 eval crop of each photo against ours), and checkpoint errors.
import EdgeboneTestSupport
import Testing
@testable import Edgebone
@testable import EdgeboneModels

@Suite struct SwinV2Tests {
    static let weights = Fixtures.path("tiny/swinv2_tiny.safetensors")
    static let photos = ["chelsea.png", "coffee.png", "rocket.jpg", "astronaut.jpg", "motorcycle.jpg"]

    @Test func tinyWindow8MatchesTheReferenceArchitecture() throws {
        let c = try SwinV2Config(arch: "swinv2_tiny_window8_256", options: [:])
        #expect(c.embedDim == 96 && c.depths == [2, 2, 6, 2] && c.heads == [3, 6, 12, 24] && c.window == 8)
        #expect((0..<4).map { c.resolution($0) } == [64, 32, 16, 8])
        // The last stage's 8×8 map is one window: no shift there; odd blocks shift elsewhere.
        #expect(c.windowAndShift(stage: 0, block: 1) == (8, 4) && c.windowAndShift(stage: 3, block: 1) == (8, 0))
        let w16 = try SwinV2Config(arch: "swinv2_tiny_window16_256", options: [:])
        #expect(w16.windowAndShift(stage: 2, block: 1) == (16, 0) && w16.windowAndShift(stage: 1, block: 1) == (16, 8))
        #expect(c.preprocessing.inputSize == 256 && c.preprocessing.cropFraction == 0.9)
        #expect(throws: ArchitectureError.self) { try SwinV2Config(arch: "swinv2_tiny_window8_256", options: ["num_heads": "3,6,12"]) }
        #expect(throws: ArchitectureError.self) { try SwinV2Config(arch: "swinv2_tiny_window8_256", options: ["embed_dim": "10"]) }
        #expect(throws: ArchitectureError.self) { try SwinV2Config(arch: "swinv2_tiny_window8_256", options: ["channel_multiplier": "2"]) }
    }

    @Test func theFixtureConfiguresItselfFromItsMetadata() throws {
        let file = try SafeTensorsFile(path: Self.weights)
        let c = try #require(try Architectures.configuration(checkpoint: file) as? SwinV2Config)
        #expect(c.embedDim == 16 && c.depths == [2, 2, 2, 2] && c.heads == [1, 2, 2, 4] && c.numClasses == 10)
    }

    /// window 8 (shifted windows in every stage but the last) and window 16 (256-token windows, shifted
    /// in the first two stages; the 16×16 and 8×8 maps are one window each).
    static let tinyFixtures = ["swinv2_tiny", "swinv2_tiny_w16"]

    @Test(arguments: ISA.supported, tinyFixtures)
    func tinyMatchesTimm(isa: ISA, fixture: String) throws {
        let file = try SafeTensorsFile(path: Fixtures.path("tiny/\(fixture).safetensors"))
        let config = try Architectures.configuration(checkpoint: file)
        let classifier = try Classifier(checkpoint: file, config: config, isa: isa)
        let ref = try #require(NPY.decode(try ImageDecoder.readFile(Fixtures.path("tiny/\(fixture).logits.npy"))))
        #expect(ref.shape == [Self.photos.count, 10])
        func top5(_ v: [Float]) -> [Int] { Array(v.indices.sorted { v[$0] > v[$1] }.prefix(5)) }
        for (row, name) in Self.photos.enumerated() {
            let got = classifier.logits(try ImageDecoder.decode(path: Fixtures.path("photos/" + name)))
            let want = Array(ref.values[(row * 10)..<((row + 1) * 10)])
            let maxAbs = want.map(abs).max()!, maxDelta = zip(got, want).map { abs($0 - $1) }.max()!
            #expect(maxDelta <= 1e-4 * maxAbs, "\(fixture) \(name) [\(isa)]: max|Δlogit| \(maxDelta) > 1e-4 × \(maxAbs)")
            #expect(top5(got) == top5(want), "\(fixture) \(name) [\(isa)]: top-5 \(top5(got)) vs timm's \(top5(want))")
            print("parity \(fixture) \(name) [\(isa)]: max|Δlogit| \(maxDelta), max|logit| \(maxAbs)")
        }
    }

    @Test func missingAndForeignTensorsAreNamed() throws {
        let config = try SwinV2Config(arch: "swinv2_tiny_window8_256", options: ["embed_dim": "16", "depths": "2,2,2,2", "num_heads": "1,2,2,4", "num_classes": "10"])
        let b0 = try SafeTensorsFile(path: Fixtures.path("tiny/efficientnet_b0_tiny.safetensors"))
        #expect(throws: ModelFileError.missingTensor(path: b0.path, tensor: "patch_embed.proj.weight")) { try config.graph(checkpoint: b0) }
        let wrongWidth = try SwinV2Config(arch: "swinv2_tiny_window8_256", options: ["embed_dim": "32", "depths": "2,2,2,2", "num_heads": "1,2,2,4"])
        #expect(throws: ModelFileError.self) { try wrongWidth.graph(checkpoint: SafeTensorsFile(path: Self.weights)) }
    }
}
