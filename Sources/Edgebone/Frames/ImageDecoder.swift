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

    public var description: String {
        switch self {
        case let .unreadable(path, reason): return "\(path): cannot read: \(reason)"
        case let .unsupportedFormat(path): return "\(path): not a PNG or JPEG image"
        case let .corrupt(path, detail): return "\(path): corrupt image: \(detail)"
        case let .tooLarge(path, w, h): return "\(path): image \(w)x\(h) is larger than the 16384x16384 limit"
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

    /// Whole-file read with a clear error.
    public static func readFile(_ path: String) throws -> [UInt8] {
        guard let f = fopen(path, "rb") else {
            throw ImageError.unreadable(path: path, reason: String(cString: strerror(errno)))
        }
        defer { fclose(f) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, f) }
            if n > 0 { out.append(contentsOf: chunk[0..<n]) }
            if n < chunk.count {
                if ferror(f) != 0 { throw ImageError.unreadable(path: path, reason: "read error (is it a directory?)") }
                break
            }
        }
        return out
    }

    private static func message(_ info: eb_image_info) -> String {
        withUnsafeBytes(of: info.message) { raw in
            let bytes = raw.prefix { $0 != 0 }
            return String(decoding: bytes, as: UTF8.self)
        }
    }
}
