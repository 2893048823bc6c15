// An 8-bit RGB image (HWC, rows packed) in memory this object owns; reused across frames.

/// 8-bit RGB pixels, row-major, 3 bytes per pixel, no row padding.
public final class RGBImage: @unchecked Sendable {
    public private(set) var width: Int
    public private(set) var height: Int
    /// Owned storage; `capacity` bytes, of which the first width*height*3 are the image.
    public private(set) var pixels: UnsafeMutablePointer<UInt8>
    public private(set) var capacity: Int

    public init(width: Int, height: Int) {
        precondition(width > 0 && height > 0)
        self.width = width
        self.height = height
        capacity = width * height * 3
        pixels = .allocate(capacity: capacity)
        pixels.initialize(repeating: 0, count: capacity)
    }

    /// Makes an image from packed RGB bytes.
    public convenience init(width: Int, height: Int, rgb: [UInt8]) {
        precondition(rgb.count == width * height * 3)
        self.init(width: width, height: height)
        rgb.withUnsafeBufferPointer { pixels.update(from: $0.baseAddress!, count: rgb.count) }
    }

    deinit { pixels.deallocate() }

    /// Sets the size, growing storage only when it must (so a stream of equal-sized frames never
    /// allocates). Contents are unspecified afterwards.
    public func reshape(width: Int, height: Int, minimumCapacity: Int = 0) {
        precondition(width > 0 && height > 0)
        let need = max(width * height * 3, minimumCapacity)
        if need > capacity {
            pixels.deallocate()
            pixels = .allocate(capacity: need)
            capacity = need
        }
        self.width = width
        self.height = height
    }

    public var byteCount: Int { width * height * 3 }

    /// A copy of the pixels (tests and tools).
    public var bytes: [UInt8] { Array(UnsafeBufferPointer(start: pixels, count: byteCount)) }
}
