// Where frames come from: Y4M files, pipes and FIFOs, MJPEG streams, PNG/JPEG files and folders.
// One small protocol; every source fills a caller-owned RGBImage, reusing its storage.
#if canImport(Glibc)
import Glibc
#endif

/// What reading one frame gave.
public enum FrameRead: Equatable {
    /// A frame was written into the image.
    case frame
    /// The frame was damaged and skipped (`reason` says why); the stream continues.
    case bad(reason: String)
    /// No more frames.
    case end
}

/// A source of RGB frames. Not thread-safe: one reader (the capture thread).
public protocol FrameSource: AnyObject {
    var name: String { get }
    /// Times a device source reopened after a failure (0 for files).
    var reconnects: Int { get }
    /// Reads the next frame into `image`. Throws only when the source cannot continue.
    func next(into image: RGBImage) throws -> FrameRead
}

extension FrameSource {
    public var reconnects: Int { 0 }
}

/// Errors that stop a source (as opposed to a bad frame, which is skipped).
public enum FrameSourceError: Error, CustomStringConvertible, Equatable {
    case notFound(String)
    case unsupported(String)
    case readFailed(String, String)
    case nothingDecodable(String)

    public var description: String {
        switch self {
        case let .notFound(p): return "\(p): no such file, folder or device"
        case let .unsupported(p): return "\(p): not a Y4M, MJPEG, PNG or JPEG source (by name or content)"
        case let .readFailed(p, why): return "\(p): read failed: \(why)"
        case let .nothingDecodable(p): return "\(p): a whole pass gave no decodable frame; stopping rather than skipping forever"
        }
    }
}

/// Opens a source by path: "-" (stdin: Y4M or MJPEG by content), a .y4m file or FIFO, a .mjpeg /
/// .mjpg stream, a PNG/JPEG file, or a folder of them. `loop` restarts finite file sources.
public func openFrameSource(_ path: String, loop: Bool, log: @escaping (String) -> Void = { _ in }) throws -> FrameSource {
    // A camera may be missing at start: that is a disconnect, retried, not an error.
    if path.hasPrefix("/dev/video") { return V4L2Source(path: path, log: log) }
    if path == "-" { return try StreamSource(file: stdin, name: "stdin", path: nil, loop: false) }
    var st = stat()
    guard stat(path, &st) == 0 else { throw FrameSourceError.notFound(path) }
    if (st.st_mode & S_IFMT) == S_IFDIR || ImageFormat.byName(path) != nil { return try ImageFilesSource(path: path, loop: loop) }
    guard let f = fopen(path, "rb") else { throw FrameSourceError.readFailed(path, String(cString: strerror(errno))) }
    let isFile = (st.st_mode & S_IFMT) == S_IFREG
    return try StreamSource(file: f, name: path, path: isFile ? path : nil, loop: loop && isFile)
}

extension ImageFormat {
    static func byName(_ path: String) -> ImageFormat? {
        let l = path.lowercased()
        if l.hasSuffix(".png") { return .png }
        if l.hasSuffix(".jpg") || l.hasSuffix(".jpeg") { return .jpeg }
        return nil
    }
}

/// PNG/JPEG files: one file or a folder (sorted by name).
public final class ImageFilesSource: FrameSource {
    public let name: String
    let paths: [String]
    let loop: Bool
    var index = 0
    var buffer: [UInt8] = []

    public init(path: String, loop: Bool) throws {
        name = path
        self.loop = loop
        var st = stat()
        stat(path, &st)
        if (st.st_mode & S_IFMT) == S_IFDIR {
            guard let dir = opendir(path) else { throw FrameSourceError.readFailed(path, String(cString: strerror(errno))) }
            var names: [String] = []
            while let e = readdir(dir) {
                let n = withUnsafeBytes(of: e.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
                // Regular files only (through symlinks): a FIFO would block capture, a device never end.
                var entry = stat()
                guard ImageFormat.byName(n) != nil, stat(path + "/" + n, &entry) == 0, (entry.st_mode & S_IFMT) == S_IFREG else { continue }
                names.append(n)
            }
            closedir(dir)
            paths = names.sorted().map { path + "/" + $0 }
            guard !paths.isEmpty else { throw FrameSourceError.unsupported(path + " (no PNG or JPEG files)") }
        } else {
            paths = [path]
        }
    }

    var decodedThisPass = 0

    public func next(into image: RGBImage) throws -> FrameRead {
        if index == paths.count {
            guard loop else { return .end }
            // Looping over files none of which decodes would only print "skipped" forever.
            guard decodedThisPass > 0 else { throw FrameSourceError.nothingDecodable(name) }
            index = 0
            decodedThisPass = 0
        }
        let p = paths[index]
        index += 1
        do {
            buffer = try ImageDecoder.readFile(p)
            try buffer.withUnsafeBytes { try ImageDecoder.decode($0, name: p, into: image) }
            decodedThisPass += 1
            return .frame
        } catch {
            return .bad(reason: "\(error)")
        }
    }
}

/// A byte stream of Y4M or MJPEG (concatenated JPEGs), told apart by its first bytes.
public final class StreamSource: FrameSource {
    public let name: String
    let path: String?
    let loop: Bool
    var file: UnsafeMutablePointer<FILE>
    var y4m: Y4MReader?
    var jpeg: [UInt8] = []
    var frames = 0
    var decodedThisPass = 0

    init(file: UnsafeMutablePointer<FILE>, name: String, path: String?, loop: Bool) throws {
        self.file = file
        self.name = name
        self.path = path
        self.loop = loop
        try start()
    }

    deinit { if path != nil { fclose(file) } }

    private func start() throws {
        let c = getc(file)
        guard c != EOF else { throw FrameSourceError.unsupported(name + " (empty)") }
        ungetc(c, file)
        if c == Int32(UInt8(ascii: "Y")) {
            y4m = try Y4MReader(file: file, name: name, owns: false)
        } else if c == 0xFF {
            y4m = nil
        } else {
            throw FrameSourceError.unsupported(name)
        }
    }

    public func next(into image: RGBImage) throws -> FrameRead {
        while true {
            let r = try readOne(into: image)
            if r == .frame { decodedThisPass += 1 }
            if r != .end { return r }
            guard loop, let path, frames > 0 else { return .end }
            guard decodedThisPass > 0 else { throw FrameSourceError.nothingDecodable(name) }
            decodedThisPass = 0
            // Restart the file: seek back to its first frame (nothing is allocated), or reopen it
            // when seeking fails.
            if fseek(file, y4m?.dataStart ?? 0, SEEK_SET) == 0 {
                clearerr(file)
                continue
            }
            fclose(file)
            guard let f = fopen(path, "rb") else { throw FrameSourceError.readFailed(path, String(cString: strerror(errno))) }
            file = f
            try start()
        }
    }

    private func readOne(into image: RGBImage) throws -> FrameRead {
        if let y4m {
            do {
                guard try y4m.next(into: image) else { return .end }
                frames += 1
                return .frame
            } catch let e as Y4MError {
                // Framing is lost after a bad header or a short frame: report it, then end the stream.
                if case .truncatedFrame = e { return .bad(reason: e.description) }
                return .bad(reason: e.description)
            }
        }
        return readJPEG(into: image)
    }

    /// One JPEG from SOI (FF D8) to its own EOI (FF D9); bytes before an SOI are skipped. The frame
    /// is walked marker by marker (segment lengths, then the entropy-coded data after each SOS), so an
    /// EXIF thumbnail — a whole JPEG inside APP1 — does not end the frame early.
    private func readJPEG(into image: RGBImage) -> FrameRead {
        jpeg.removeAll(keepingCapacity: true)
        var prev: Int32 = -1
        // Find SOI.
        while true {
            let c = getc(file)
            if c == EOF { return .end }
            if prev == 0xFF && c == 0xD8 { jpeg.append(0xFF); jpeg.append(0xD8); break }
            prev = c
        }
        let limit = 32 << 20
        func byte() -> Int32? {
            let c = getc(file)
            guard c != EOF, jpeg.count < limit else { return nil }
            jpeg.append(UInt8(c))
            return c
        }
        func cut() -> FrameRead {
            jpeg.count >= limit ? .bad(reason: "\(name): JPEG frame larger than 32 MiB")
                : .bad(reason: "\(name): stream ended inside a JPEG (\(jpeg.count) bytes)")
        }
        var pending: Int32?  // a marker code already read (found at the end of entropy-coded data)
        while true {
            var marker: Int32
            if let p = pending {
                marker = p; pending = nil
            } else {
                guard let ff = byte() else { return cut() }
                guard ff == 0xFF else { frames += 1; return .bad(reason: "frame \(frames - 1): \(name): JPEG marker expected, found 0x\(String(ff, radix: 16))") }
                repeat { guard let m = byte() else { return cut() }; marker = m } while marker == 0xFF
            }
            if marker == 0xD9 { break }                                  // EOI
            if marker == 0x01 || (0xD0...0xD7).contains(marker) { continue }  // no length
            guard let hi = byte(), let lo = byte() else { return cut() }
            let length = Int(hi) << 8 | Int(lo)
            guard length >= 2 else { frames += 1; return .bad(reason: "frame \(frames - 1): \(name): JPEG segment length \(length)") }
            for _ in 0..<(length - 2) { guard byte() != nil else { return cut() } }
            guard marker == 0xDA else { continue }
            // Entropy-coded data: ends at the first FF not followed by 00 (stuffing) or a restart marker.
            while true {
                guard let c = byte() else { return cut() }
                guard c == 0xFF else { continue }
                var n: Int32
                repeat { guard let m = byte() else { return cut() }; n = m } while n == 0xFF
                if n == 0x00 || (0xD0...0xD7).contains(n) { continue }
                pending = n
                break
            }
        }
        do {
            try jpeg.withUnsafeBytes { try ImageDecoder.decode($0, name: name, into: image) }
            frames += 1
            return .frame
        } catch {
            frames += 1
            return .bad(reason: "frame \(frames - 1): \(error)")
        }
    }
}
