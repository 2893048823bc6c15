// PNG and JPEG files into RGBImage, through libpng and libjpeg-turbo (CEdgeboneSystem shims).
import CEdgeboneSystem
#if canImport(Glibc)
import Glibc
#endif

/// Why an image could not be read or decoded.
public enum ImageError: Error, Equatable, CustomStringConvertible {
    case unreadable(path: String, reason: String)
    case unsupportedFormat(path: String)
    case corrupt(path: String, detail: String)
    case tooLarge(path: String, width: Int, height: Int)
    case overBudget(path: String, detail: String)

    public var description: String {
        switch self {
        case let .unreadable(path, reason): return "\(path): cannot read: \(reason)"
        case let .unsupportedFormat(path): return "\(path): not a PNG or JPEG image"
        case let .corrupt(path, detail): return "\(path): corrupt image: \(detail)"
        case let .tooLarge(path, w, h): return "\(path): image \(w)x\(h) is larger than the 16384x16384 limit"
        case let .overBudget(path, detail): return "\(path): \(detail)"
        }
    }
}

/// Encoded image formats recognized by their first bytes.
public enum ImageFormat: Sendable {
    case png, jpeg

    public init?(magic bytes: UnsafeRawBufferPointer) {
        if bytes.count >= 8, bytes[0] == 0x89, bytes[1] == 0x50, bytes[2] == 0x4E, bytes[3] == 0x47 {
            self = .png
        } else if bytes.count >= 3, bytes[0] == 0xFF, bytes[1] == 0xD8, bytes[2] == 0xFF {
            self = .jpeg
        } else {
            return nil
        }
    }
}

public enum ImageDecoder {
    static let maxSide = 16384

    /// Decodes an encoded PNG or JPEG held in memory into `image` (resized as needed; storage is
    /// reused when large enough). `name` is used in errors.
    public static func decode(_ data: UnsafeRawBufferPointer, name: String, into image: RGBImage) throws {
        guard let format = ImageFormat(magic: data) else { throw ImageError.unsupportedFormat(path: name) }
        let base = data.baseAddress!.assumingMemoryBound(to: UInt8.self)
        let probe = format == .png ? eb_png_probe(base, data.count) : eb_jpeg_probe(base, data.count)
        guard probe.ok != 0 else { throw ImageError.corrupt(path: name, detail: message(probe)) }
        let w = Int(probe.width), h = Int(probe.height)
        guard w > 0, h > 0 else { throw ImageError.corrupt(path: name, detail: "zero-sized image") }
        guard w <= maxSide, h <= maxSide else { throw ImageError.tooLarge(path: name, width: w, height: h) }
        if let why = MemoryBudget.frameProblem(width: w, height: h) { throw ImageError.overBudget(path: name, detail: why) }
        // PNG with alpha decodes as RGBA first, in place: leave room for 4 bytes per pixel.
        image.reshape(width: w, height: h, minimumCapacity: w * h * 4)
        let info = format == .png
            ? eb_png_decode_rgb(base, data.count, image.pixels, image.capacity)
            : eb_jpeg_decode_rgb(base, data.count, image.pixels, image.capacity)
        guard info.ok != 0 else { throw ImageError.corrupt(path: name, detail: message(info)) }
    }

    /// Reads and decodes an image file.
    public static func decode(path: String) throws -> RGBImage {
        let bytes = try readFile(path)
        let image = RGBImage(width: 1, height: 1)
        try bytes.withUnsafeBytes { try decode($0, name: path, into: image) }
        return image
    }

    /// The largest image file read (a 16384×16384 JPEG at high quality is well below it).
    public static let maxFileBytes = 64 << 20

    /// Whole-file read with a clear error. Only regular files: a FIFO would block, and a device
    /// (`/dev/zero`, or a symlink to it in a folder) would never end.
    public static func readFile(_ path: String) throws -> [UInt8] {
        // O_NONBLOCK: opening a FIFO must not wait for a writer before the type check below.
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw ImageError.unreadable(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw ImageError.unreadable(path: path, reason: String(cString: strerror(errno))) }
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            throw ImageError.unreadable(path: path, reason: (st.st_mode & S_IFMT) == S_IFDIR ? "is a folder" : "not a regular file")
        }
        guard st.st_size <= maxFileBytes else {
            throw ImageError.unreadable(path: path, reason: "\(st.st_size) bytes, more than the \(maxFileBytes >> 20) MiB limit for an image file")
        }
        // Read what is there, up to one byte past the limit (a file that grows while read is cut off).
        var out = [UInt8](repeating: 0, count: Int(st.st_size) + 1)
        var count = 0
        while count < out.count {
            let n = out.withUnsafeMutableBytes { read(fd, $0.baseAddress! + count, $0.count - count) }
            if n < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                throw ImageError.unreadable(path: path, reason: String(cString: strerror(errno)))
            }
            if n == 0 { break }
            count += n
        }
        guard count <= maxFileBytes else {
            throw ImageError.unreadable(path: path, reason: "more than the \(maxFileBytes >> 20) MiB limit for an image file")
        }
        out.removeLast(out.count - count)
        return out
    }

    private static func message(_ info: eb_image_info) -> String {
        withUnsafeBytes(of: info.message) { raw in
            let bytes = raw.prefix { $0 != 0 }
            return String(decoding: bytes, as: UTF8.self)
        }
    }
}
