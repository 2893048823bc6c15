// A V4L2 camera (/dev/videoN): YUYV or MJPEG by mmap streaming. A camera that is missing at start,
// disappears, or stops delivering is closed and reopened with capped backoff, each attempt logged;
// the source only ends when a stop is requested.
import CEdgeboneKernels
import CEdgeboneSystem
#if canImport(Glibc)
import Glibc
#endif

public final class V4L2Source: FrameSource {
    public let name: String
    public let width: Int, height: Int
    /// Times the device was reopened after a failure.
    public private(set) var reconnects = 0
    private var dev = eb_v4l2()
    private var isOpen = false
    private var backoff = 0.25
    private var silentPolls = 0
    private var everOpened = false
    private let log: (String) -> Void

    public init(path: String, width: Int = 640, height: Int = 480, log: @escaping (String) -> Void) {
        name = path
        self.width = width
        self.height = height
        self.log = log
        dev.fd = -1
    }

    deinit { if isOpen { eb_v4l2_close(&dev) } }

    public func next(into image: RGBImage) throws -> FrameRead {
        while eb_stop_requested() == 0 {
            if !isOpen && !openDevice() {
                sleepChecking(backoff)
                backoff = min(backoff * 2, 5)
                continue
            }
            var index: UInt32 = 0, bytes: UInt32 = 0
            var data: UnsafePointer<UInt8>? = nil
            let r = eb_v4l2_next(&dev, 1000, &index, &bytes, &data)
            if r == 0 {
                silentPolls += 1
                if silentPolls >= 3 {
                    log("\(name): no frame for 3 s; reopening")
                    closeDevice()
                }
                continue
            }
            if r < 0 {
                log("\(name): \(message()); reopening")
                closeDevice()
                continue
            }
            silentPolls = 0
            backoff = 0.25
            let result = convert(UnsafeRawBufferPointer(start: data, count: Int(bytes)), into: image)
            if eb_v4l2_release(&dev, index) < 0 {
                log("\(name): \(message()); reopening")
                closeDevice()
            }
            return result
        }
        return .end
    }

    private func openDevice() -> Bool {
        for format in [Int32(EB_V4L2_YUYV), Int32(EB_V4L2_MJPEG)] {
            if eb_v4l2_open(&dev, name, format, UInt32(width), UInt32(height)) == 0 {
                isOpen = true
                if everOpened { reconnects += 1 }
                everOpened = true
                let driver = withUnsafeBytes(of: dev.driver) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
                log("\(name): \(driver), \(dev.width)x\(dev.height) \(format == EB_V4L2_YUYV ? "YUYV" : "MJPEG"), \(dev.buffers) buffers")
                return true
            }
        }
        log("\(name): cannot open (\(message())); retrying in \(backoff) s")
        return false
    }

    private func closeDevice() {
        if isOpen { eb_v4l2_close(&dev) }
        isOpen = false
        silentPolls = 0
    }

    private func message() -> String {
        withUnsafeBytes(of: dev.message) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }

    private func sleepChecking(_ seconds: Double) {
        var left = seconds
        while left > 0 && eb_stop_requested() == 0 {
            usleep(UInt32(min(left, 0.1) * 1_000_000))
            left -= 0.1
        }
    }

    private func convert(_ data: UnsafeRawBufferPointer, into image: RGBImage) -> FrameRead {
        let w = Int(dev.width), h = Int(dev.height)
        if dev.format == EB_V4L2_MJPEG {
            do {
                try ImageDecoder.decode(data, name: "\(name) frame", into: image)
                return .frame
            } catch {
                return .bad(reason: "\(error)")
            }
        }
        let stride = Int(dev.bytesperline)
        guard data.count >= stride * (h - 1) + w * 2 else { return .bad(reason: "\(name): short YUYV frame (\(data.count) bytes)") }
        image.reshape(width: w, height: h)
        eb_yuyv_to_rgb(data.baseAddress!.assumingMemoryBound(to: UInt8.self), stride, w, h, image.pixels)
        return .frame
    }
}
