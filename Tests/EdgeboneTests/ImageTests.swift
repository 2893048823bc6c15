// Decoding (libpng, libjpeg-turbo) and the Pillow-exact resize + crop against timm's own crops.
import EdgeboneTestSupport
import Testing
@testable import Edgebone

@Suite struct ImageTests {
    static let photos = ["chelsea.png", "coffee.png", "rocket.jpg", "astronaut.jpg", "motorcycle.jpg"]
    let timmB0 = Preprocessing(inputSize: 224, cropFraction: 0.875, interpolation: .bicubic,
                               mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225])

    @Test func decodesPhotos() throws {
        let cat = try ImageDecoder.decode(path: Fixtures.path("photos/chelsea.png"))
        #expect(cat.width == 451 && cat.height == 300)
        let rocket = try ImageDecoder.decode(path: Fixtures.path("photos/rocket.jpg"))
        #expect(rocket.width == 640 && rocket.height == 427)
    }

    /// The SIMD resampling passes give the scalar passes' bytes: down- and upscaling, bilinear and
    /// bicubic, odd sizes, crops touching the image edges.
    @Test func simdResamplingEqualsScalar() {
        var rng = SplitMix64(seed: 5)
        let presets = [timmB0, Preprocessing(inputSize: 64, cropFraction: 1, interpolation: .bilinear, mean: [0, 0, 0], std: [1, 1, 1]),
                       Preprocessing(inputSize: 48, cropFraction: 0.875, interpolation: .bicubic, mean: [0, 0, 0], std: [1, 1, 1])]
        var checked = 0
        for preset in presets {
            for (w, h) in [(640, 480), (37, 29), (300, 451), (48, 48 + 1), (1023, 17), (33, 700)] {
                let image = RGBImage(width: w, height: h)
                for i in 0..<(w * h * 3) { image.pixels[i] = UInt8.random(in: 0...255, using: &rng) }
                let reference = Preprocessor(preset: preset, isa: .scalar)
                reference.crop(image)
                for isa in ISA.supported where isa != .scalar {
                    let pre = Preprocessor(preset: preset, isa: isa)
                    pre.crop(image)
                    let differing = zip(pre.cropped.bytes, reference.cropped.bytes).filter { $0 != $1 }.count
                    #expect(differing == 0, "\(isa) \(w)x\(h) → \(preset.inputSize): \(differing) bytes differ")
                    checked += 1
                }
            }
        }
        #expect(checked > 0 || ISA.supported == [.scalar])
    }

    /// Our decode + resize + crop gives exactly the pixels timm's eval transform (PIL) gave.
    @Test(arguments: photos)
    func cropMatchesTimmTransform(photo: String) throws {
        let image = try ImageDecoder.decode(path: Fixtures.path("photos/" + photo))
        let pre = Preprocessor(preset: timmB0)
        pre.crop(image)
        let name = String(photo.split(separator: ".")[0])
        let expected = try ImageDecoder.decode(path: Fixtures.path("inputs/\(name).png"))
        let got = pre.cropped.bytes, want = expected.bytes
        let differing = zip(got, want).filter { $0 != $1 }.count
        let maxDiff = zip(got, want).map { abs(Int($0) - Int($1)) }.max() ?? 0
        #expect(differing == 0, "\(photo): \(differing) of \(want.count) bytes differ (max \(maxDiff))")
    }

    @Test func imageAtInputSizeIsUsedAsIs() throws {
        let input = try ImageDecoder.decode(path: Fixtures.path("inputs/coffee.png"))
        let pre = Preprocessor(preset: timmB0)
        pre.crop(input)
        #expect(pre.cropped.bytes == input.bytes)
    }

    @Test func reusesBuffersForSameSizedFrames() throws {
        let image = try ImageDecoder.decode(path: Fixtures.path("photos/chelsea.png"))
        let pre = Preprocessor(preset: timmB0)
        pre.crop(image)
        let first = pre.cropped.bytes
        pre.crop(image)
        #expect(pre.cropped.bytes == first)
    }

    @Test func normalizationFollowsThePreset() {
        let lite = Preprocessing(inputSize: 2, cropFraction: 1, interpolation: .bilinear, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5])
        let pre = Preprocessor(preset: lite)
        pre.crop(RGBImage(width: 2, height: 2, rgb: [0, 255, 128, 0, 0, 0, 0, 0, 0, 0, 0, 0]))
        var out = [Float](repeating: 0, count: 12)
        out.withUnsafeMutableBufferPointer { pre.normalize(into: $0.baseAddress!) }
        #expect(abs(out[0] + 1) < 1e-6 && abs(out[1] - 1) < 1e-6 && abs(out[2] - (128.0 / 127.5 - 1)) < 1e-6)
    }

    @Test func corruptImagesGiveTypedErrors() throws {
        let dir = Fixtures.scratchDirectory()
        let jpeg = try ImageDecoder.readFile(Fixtures.path("photos/rocket.jpg"))
        let png = try ImageDecoder.readFile(Fixtures.path("photos/chelsea.png"))
        let cases: [(String, [UInt8])] = [
            ("truncated.jpg", Array(jpeg.prefix(jpeg.count / 2))),
            ("header-only.jpg", Array(jpeg.prefix(200))),
            ("truncated.png", Array(png.prefix(png.count / 3))),
            ("garbage.png", [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + [UInt8](repeating: 0x41, count: 100)),
        ]
        for (name, bytes) in cases {
            let p = dir + "/" + name
            Fixtures.write(bytes, to: p)
            #expect(throws: ImageError.self, "\(name) decoded") { try ImageDecoder.decode(path: p) }
            do { _ = try ImageDecoder.decode(path: p) } catch let e as ImageError {
                guard case .corrupt = e else { Issue.record("\(name): \(e)"); continue }
            }
        }
        let text = dir + "/notes.txt"
        Fixtures.write(Array("hello".utf8), to: text)
        #expect(throws: ImageError.unsupportedFormat(path: text)) { try ImageDecoder.decode(path: text) }
        #expect(throws: ImageError.self) { try ImageDecoder.decode(path: dir + "/missing.png") }
    }

    @Test func npyRoundTripAndTopK() {
        let v: [Float] = [0.5, -1, 3, 2, 3]
        let decoded = NPY.decode(NPY.encode(v, shape: [1, 5]))
        #expect(decoded?.values == v && decoded?.shape == [1, 5])
        let top = TopK.select(v, k: 3)
        #expect(top.map(\.index) == [2, 4, 3])
        #expect(abs(top[0].score - top[1].score) < 1e-7)
        #expect(top.map(\.score).reduce(0, +) < 1)
    }
}

@Suite struct MJPEGSplitTests {
    /// A JPEG carrying an EXIF thumbnail (a whole JPEG, FF D8 … FF D9, inside its APP1 segment) is one
    /// frame: the stream used to be cut at the thumbnail's end, losing every such frame.
    @Test func thumbnailsDoNotSplitFrames() throws {
        let dir = Fixtures.scratchDirectory()
        let photo = try ImageDecoder.readFile(Fixtures.path("photos/rocket.jpg"))
        let thumbnail = try ImageDecoder.readFile(Fixtures.path("photos/astronaut.jpg"))
        #expect(photo.count > 4 && thumbnail.count < 65_000)
        let payload = Array("Exif\0\0".utf8) + thumbnail
        let app1: [UInt8] = [0xFF, 0xE1, UInt8((payload.count + 2) >> 8), UInt8((payload.count + 2) & 0xFF)] + payload
        let frame = [0xFF, 0xD8] + app1 + photo.dropFirst(2)
        var stream: [UInt8] = []
        for _ in 0..<3 { stream += frame }
        let path = dir + "/exif.mjpeg"
        Fixtures.write(stream, to: path)
        let source = try openFrameSource(path, loop: false)
        let image = RGBImage(width: 1, height: 1)
        var frames = 0, bad: [String] = []
        while true {
            let r = try source.next(into: image)
            if r == .end { break }
            if case let .bad(reason) = r { bad.append(reason) } else { frames += 1 }
        }
        #expect(frames == 3 && bad.isEmpty, "\(bad)")
        let direct = try ImageDecoder.decode(path: Fixtures.path("photos/rocket.jpg"))
        #expect(image.width == direct.width && image.height == direct.height && Array(image.bytes) == Array(direct.bytes))
    }
}
