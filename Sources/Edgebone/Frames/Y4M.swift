// YUV4MPEG2 (Y4M) streams: what `ffmpeg -i anything -f yuv4mpegpipe -` writes. 4:2:0 (all siting
// variants), 4:2:2, 4:4:4 and mono, 8-bit, converted to RGB with BT.601 coefficients, limited range
// (swscale's default) unless the header says XCOLORRANGE=FULL. Deeper samples (C420p10, C444p12…)
// are refused rather than read as 8-bit. Frames are read into reused buffers.
import CEdgeboneKernels
#if canImport(Glibc)
import Glibc
#endif

public enum Y4MError: Error, Equatable, CustomStringConvertible {
    case unreadable(String, String)
    case badHeader(String, String)
    case badFrameHeader(String, Int)
    case truncatedFrame(String, Int)
    case overBudget(String, String)

    public var description: String {
        switch self {
        case let .unreadable(p, why): return "\(p): cannot read: \(why)"
        case let .badHeader(p, why): return "\(p): not a Y4M stream: \(why)"
        case let .badFrameHeader(p, n): return "\(p): frame \(n): bad frame header"
        case let .truncatedFrame(p, n): return "\(p): frame \(n): truncated"
        case let .overBudget(p, why): return "\(p): \(why)"
        }
    }
}

public final class Y4MReader {
    public enum Chroma: String, Sendable { case c420, c422, c444, mono }

    public let name: String
    public let width: Int, height: Int
    public let chroma: Chroma
    /// Full-range samples (XCOLORRANGE=FULL), else limited (16–235).
    public let fullRange: Bool
    public private(set) var framesRead = 0
    /// Byte offset of the first frame (right after the stream header), for rewinding a file.
    public private(set) var dataStart = 0
    /// After a damaged frame header the reader skips to the next "FRAME" token; it is consumed.
    private var resynced = false
    private let file: UnsafeMutablePointer<FILE>
    private let ownsFile: Bool
    private var planes: [UInt8]

    /// Opens `path` ("-" for standard input) and parses the stream header.
    public convenience init(path: String) throws {
        if path == "-" {
            try self.init(file: stdin, name: "stdin", owns: false)
        } else {
            guard let f = fopen(path, "rb") else { throw Y4MError.unreadable(path, String(cString: strerror(errno))) }
            try self.init(file: f, name: path, owns: true)
        }
    }

    init(file: UnsafeMutablePointer<FILE>, name: String, owns: Bool) throws {
        self.file = file
        self.name = name
        ownsFile = owns
        guard let line = Y4MReader.readLine(file, limit: 1024) else {
            if owns { fclose(file) }
            throw Y4MError.badHeader(name, "empty or no header line")
        }
        let fields = line.split(separator: " ")
        guard fields.first == "YUV4MPEG2" else {
            if owns { fclose(file) }
            throw Y4MError.badHeader(name, "missing YUV4MPEG2 signature")
        }
        var w = 0, h = 0, c = Chroma.c420, full = false
        for f in fields.dropFirst() {
            let key = f.first!, value = f.dropFirst()
            switch key {
            case "W": w = Int(value) ?? 0
            case "H": h = Int(value) ?? 0
            case "C":
                guard let chroma = Y4MReader.eightBitChroma[String(value)] else {
                    if owns { fclose(file) }
                    let deep = value.contains("p") || value.hasPrefix("mono1")
                    throw Y4MError.badHeader(name, "unsupported colour space C\(value) (" +
                        (deep ? "more than 8 bits per sample; convert with ffmpeg -pix_fmt yuv420p" : "8-bit 420, 422, 444 or mono") + ")")
                }
                c = chroma
            case "X":
                if value == "COLORRANGE=FULL" { full = true } else if value == "COLORRANGE=LIMITED" { full = false }
            default: break
            }
        }
        guard w > 0, h > 0, w <= 16384, h <= 16384 else {
            if owns { fclose(file) }
            throw Y4MError.badHeader(name, "bad frame size \(w)x\(h)")
        }
        if let why = MemoryBudget.frameProblem(width: w, height: h) {
            if owns { fclose(file) }
            throw Y4MError.overBudget(name, why)
        }
        width = w; height = h; chroma = c; fullRange = full
        planes = [UInt8](repeating: 0, count: Y4MReader.frameBytes(w, h, c))
        dataStart = ftell(file)
    }

    deinit { if ownsFile { fclose(file) } }

    /// The 8-bit colour-space tags ffmpeg and mjpegtools write.
    static let eightBitChroma: [String: Chroma] = [
        "420": .c420, "420jpeg": .c420, "420paldv": .c420, "420mpeg2": .c420,
        "422": .c422, "444": .c444, "mono": .mono,
    ]

    static func chromaSize(_ w: Int, _ h: Int, _ c: Chroma) -> (Int, Int) {
        switch c {
        case .c420: return ((w + 1) / 2, (h + 1) / 2)
        case .c422: return ((w + 1) / 2, h)
        case .c444: return (w, h)
        case .mono: return (0, 0)
        }
    }

    static func frameBytes(_ w: Int, _ h: Int, _ c: Chroma) -> Int {
        let (cw, ch) = chromaSize(w, h, c)
        return w * h + 2 * cw * ch
    }

    /// Reads the next frame into `image` (resized when needed). Returns false at a clean end of
    /// stream; throws for a bad frame header or a frame cut short (the stream cannot continue after
    /// those, as its framing is lost).
    public func next(into image: RGBImage) throws -> Bool {
        guard let isFrame = readFrameHeader() else { return false }
        guard resynced || isFrame else {
            resync()
            framesRead += 1
            throw Y4MError.badFrameHeader(name, framesRead - 1)
        }
        resynced = false
        let n = planes.count
        let got = planes.withUnsafeMutableBytes { fread($0.baseAddress, 1, n, file) }
        guard got == n else { throw Y4MError.truncatedFrame(name, framesRead) }
        framesRead += 1
        image.reshape(width: width, height: height)
        convert(into: image.pixels)
        return true
    }

    private func convert(into out: UnsafeMutablePointer<UInt8>) {
        let (cw, ch) = Y4MReader.chromaSize(width, height, chroma)
        let (sx, sy): (Int32, Int32) = chroma == .c420 ? (1, 1) : chroma == .c422 ? (1, 0) : (0, 0)
        planes.withUnsafeBufferPointer { p in
            let y = p.baseAddress!
            let u = chroma == .mono ? nil : y + width * height
            eb_yuv_planar_to_rgb_range(y, u, u.map { $0 + cw * ch }, width, height, cw, sx, sy, fullRange ? 1 : 0, out)
        }
    }

    /// Skips to just past the next "FRAME" token (the rest of its line is read as the next header).
    private func resync() {
        let token = Array("FRAME".utf8)
        var matched = 0
        while true {
            let c = getc(file)
            if c == EOF { return }
            if UInt8(c) == token[matched] {
                matched += 1
                if matched == token.count { resynced = true; return }
            } else {
                matched = UInt8(c) == token[0] ? 1 : 0
            }
        }
    }

    /// Consumes one frame header line (at most 4096 bytes); nil at end of stream, else whether it
    /// starts with "FRAME". Allocates nothing (called once per frame).
    private func readFrameHeader() -> Bool? {
        let tag: StaticString = "FRAME"
        var n = 0, matches = true
        while n < 4096 {
            let c = getc(file)
            if c == EOF { return n == 0 ? nil : false }
            if c == 0x0A { return matches && n >= tag.utf8CodeUnitCount }
            if n < tag.utf8CodeUnitCount { matches = matches && c == Int32(tag.utf8Start[n]) }
            n += 1
        }
        return false
    }

    /// One header line without its newline, or nil at end of file.
    static func readLine(_ f: UnsafeMutablePointer<FILE>, limit: Int) -> String? {
        var bytes: [UInt8] = []
        while bytes.count < limit {
            let c = getc(f)
            if c == EOF { return bytes.isEmpty ? nil : String(decoding: bytes, as: UTF8.self) }
            if c == 0x0A { return String(decoding: bytes, as: UTF8.self) }
            bytes.append(UInt8(c))
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
