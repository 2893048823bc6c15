// Y4M streams: 4:2:0 and 4:4:4 frames decode to the RGB they were made from (BT.601 limited range),
// and damaged streams give their own errors.
import CEdgeboneKernels
import EdgeboneTestSupport
import Testing
@testable import Edgebone

/// A Y4M stream of `frames` copies of an RGB image, encoded with BT.601 limited-range coefficients.
func makeY4M(_ rgb: [UInt8], width w: Int, height h: Int, chroma: String, frames: Int) -> [UInt8] {
    func yuv(_ i: Int) -> (Double, Double, Double) {
        let r = Double(rgb[3 * i]), g = Double(rgb[3 * i + 1]), b = Double(rgb[3 * i + 2])
        return (16 + 0.257 * r + 0.504 * g + 0.098 * b, 128 - 0.148 * r - 0.291 * g + 0.439 * b, 128 + 0.439 * r - 0.368 * g - 0.071 * b)
    }
    func byte(_ v: Double) -> UInt8 { UInt8(max(0, min(255, v.rounded()))) }
    var out = Array("YUV4MPEG2 W\(w) H\(h) F25:1 Ip A1:1 C\(chroma)\n".utf8)
    for _ in 0..<frames {
        out += Array("FRAME\n".utf8)
        out += (0..<(w * h)).map { byte(yuv($0).0) }
        if chroma == "444" {
            out += (0..<(w * h)).map { byte(yuv($0).1) }
            out += (0..<(w * h)).map { byte(yuv($0).2) }
        } else {
            let cw = (w + 1) / 2, ch = (h + 1) / 2
            for plane in 1...2 {
                for cy in 0..<ch { for cx in 0..<cw {
                    let v = yuv(min(2 * cy, h - 1) * w + min(2 * cx, w - 1))
                    out.append(byte(plane == 1 ? v.1 : v.2))
                }}
            }
        }
    }
    return out
}

@Suite struct Y4MTests {
    let dir = Fixtures.scratchDirectory()

    @Test(arguments: ["444", "420jpeg"])
    func decodesFrames(chroma: String) throws {
        // Flat 2x2 colour blocks so 4:2:0 subsampling loses nothing.
        let (w, h) = (8, 6)
        var rgb = [UInt8](repeating: 0, count: w * h * 3)
        for y in 0..<h { for x in 0..<w {
            let block = (y / 2) * 4 + x / 2
            rgb[(y * w + x) * 3] = UInt8(block * 20 % 256); rgb[(y * w + x) * 3 + 1] = UInt8(255 - block * 13); rgb[(y * w + x) * 3 + 2] = UInt8(block * 7)
        }}
        let path = dir + "/clip-\(chroma).y4m"
        Fixtures.write(makeY4M(rgb, width: w, height: h, chroma: chroma, frames: 3), to: path)
        let reader = try Y4MReader(path: path)
        #expect(reader.width == w && reader.height == h)
        let frame = RGBImage(width: 1, height: 1)
        var n = 0
        while try reader.next(into: frame) {
            n += 1
            let maxDiff = zip(frame.bytes, rgb).map { abs(Int($0) - Int($1)) }.max()!
            #expect(maxDiff <= 3, "frame \(n): max |ΔRGB| \(maxDiff)")
        }
        #expect(n == 3)
    }

    /// The C conversions against the integer BT.601 formula, pixel by pixel, on random planes: every
    /// chroma layout, odd sizes, padded YUYV rows.
    @Test func conversionsFollowTheFormula() {
        func rgb(_ y: Int32, _ u: Int32, _ v: Int32) -> [UInt8] {
            let c = 298 * (y - 16), cu = u - 128, cv = v - 128
            return [c + 409 * cv + 128, c - 100 * cu - 208 * cv + 128, c + 516 * cu + 128].map { UInt8(max(0, min(255, $0 >> 8))) }
        }
        var rng = SplitMix64(seed: 9)
        for (w, h) in [(7, 5), (64, 3), (33, 34)] {
            for (sx, sy) in [(1, 1), (1, 0), (0, 0), (-1, -1)] {  // 4:2:0, 4:2:2, 4:4:4, mono
                let cw = sx < 0 ? 0 : (w + sx) >> sx, ch = sy < 0 ? 0 : (h + sy) >> sy
                let y = (0..<(w * h)).map { _ in UInt8.random(in: 0...255, using: &rng) }
                let u = (0..<(cw * ch)).map { _ in UInt8.random(in: 0...255, using: &rng) }
                let v = (0..<(cw * ch)).map { _ in UInt8.random(in: 0...255, using: &rng) }
                var out = [UInt8](repeating: 0, count: w * h * 3)
                if sx < 0 {
                    eb_yuv_planar_to_rgb(y, nil, nil, w, h, 0, 0, 0, &out)
                } else {
                    eb_yuv_planar_to_rgb(y, u, v, w, h, cw, Int32(sx), Int32(sy), &out)
                }
                var want: [UInt8] = []
                for r in 0..<h { for c in 0..<w {
                    let ci = sx < 0 ? -1 : (r >> sy) * cw + (c >> sx)
                    want += rgb(Int32(y[r * w + c]), ci < 0 ? 128 : Int32(u[ci]), ci < 0 ? 128 : Int32(v[ci]))
                }}
                #expect(out == want, "planar \(w)x\(h) shift (\(sx), \(sy))")
            }
            // YUYV: even width, rows padded to a larger stride.
            let ew = w & ~1, stride = ew * 2 + 6
            let yuyv = (0..<(stride * h)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            var out = [UInt8](repeating: 0, count: ew * h * 3)
            eb_yuyv_to_rgb(yuyv, stride, ew, h, &out)
            var want: [UInt8] = []
            for r in 0..<h { for c in 0..<ew {
                let q = r * stride + (c / 2) * 4
                want += rgb(Int32(yuyv[q + (c % 2) * 2]), Int32(yuyv[q + 1]), Int32(yuyv[q + 3]))
            }}
            #expect(out == want, "yuyv \(ew)x\(h)")
        }
    }

    @Test func damagedStreams() throws {
        let rgb = [UInt8](repeating: 100, count: 4 * 4 * 3)
        let good = makeY4M(rgb, width: 4, height: 4, chroma: "420jpeg", frames: 2)
        let notY4M = dir + "/x.y4m"
        Fixtures.write(Array("hello\n".utf8), to: notY4M)
        #expect(throws: Y4MError.badHeader(notY4M, "missing YUV4MPEG2 signature")) { try Y4MReader(path: notY4M) }
        let badSize = dir + "/size.y4m"
        Fixtures.write(Array("YUV4MPEG2 W0 H4\n".utf8), to: badSize)
        #expect(throws: Y4MError.self) { try Y4MReader(path: badSize) }
        let cut = dir + "/cut.y4m"
        Fixtures.write(Array(good.prefix(good.count - 5)), to: cut)
        let r = try Y4MReader(path: cut)
        let f = RGBImage(width: 1, height: 1)
        #expect(try r.next(into: f))
        #expect(throws: Y4MError.truncatedFrame(cut, 1)) { try r.next(into: f) }
        var mangled = good
        let marker = Array("FRAME".utf8)
        let second = (1..<good.count).filter { i in i + 5 <= good.count && Array(good[i..<(i + 5)]) == marker }[1]
        mangled[second] = 0x58  // "XRAME"
        let bad = dir + "/frame.y4m"
        Fixtures.write(mangled, to: bad)
        let r2 = try Y4MReader(path: bad)
        #expect(try r2.next(into: f))
        #expect(throws: Y4MError.self) { try r2.next(into: f) }
        #expect(throws: Y4MError.self) { try Y4MReader(path: dir + "/missing.y4m") }
    }

    /// Deeper samples are refused with the reason (they were read as 8-bit and classified wrong), and
    /// XCOLORRANGE=FULL is honoured (it was decoded as limited range).
    @Test func bitDepthAndRange() throws {
        for tag in ["420p10", "444p12", "422p16", "mono16", "444alpha"] {
            let path = dir + "/deep-\(tag).y4m"
            Fixtures.write(Array("YUV4MPEG2 W4 H4 C\(tag)\n".utf8), to: path)
            #expect { try Y4MReader(path: path) } throws: { "\($0)".contains("unsupported colour space C\(tag)") }
        }
        #expect { try Y4MReader(path: dir + "/deep-420p10.y4m") } throws: { "\($0)".contains("more than 8 bits per sample") }
        // Grey levels 16 and 235 with neutral chroma: black and white in limited range, themselves in full.
        func grey(_ range: String) throws -> [UInt8] {
            let path = dir + "/range-\(range).y4m"
            Fixtures.write(Array("YUV4MPEG2 W2 H1 C444 XCOLORRANGE=\(range)\nFRAME\n".utf8) + [16, 235, 128, 128, 128, 128], to: path)
            let reader = try Y4MReader(path: path)
            let f = RGBImage(width: 1, height: 1)
            #expect(try reader.next(into: f))
            return Array(f.bytes)
        }
        #expect(try grey("LIMITED") == [0, 0, 0, 255, 255, 255])
        #expect(try grey("FULL") == [16, 16, 16, 235, 235, 235])
    }
}
