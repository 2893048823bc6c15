// The hand-off between the capture thread and the inference loop: three reused frame buffers, one
// being written, one ready, one being read. A live source overwrites an unread ready frame (counted
// as dropped) so results never lag behind; a file source waits instead, so every frame is used.
#if canImport(Glibc)
import Glibc
#endif

public final class LatestFrameSlot: @unchecked Sendable {
    public struct Meta: Sendable {
        /// Index of the frame in the source (0-based, counting skipped and dropped ones).
        public var index = 0
        /// CLOCK_MONOTONIC nanoseconds when the frame was complete.
        public var capturedNanos: UInt64 = 0
        /// Wall-clock seconds since the epoch at the same moment.
        public var capturedEpoch: Double = 0
        public init(index: Int = 0, capturedNanos: UInt64 = 0, capturedEpoch: Double = 0) {
            self.index = index; self.capturedNanos = capturedNanos; self.capturedEpoch = capturedEpoch
        }
    }

    private var buffers: [RGBImage]
    private var meta = [Meta](repeating: Meta(), count: 3)
    private var writing = 0, ready: Int? = nil, reading = 2
    private var finished = false
    private var mutex = pthread_mutex_t()
    private var changed = pthread_cond_t()
    public let live: Bool
    public private(set) var dropped = 0

    public init(live: Bool) {
        self.live = live
        buffers = (0..<3).map { _ in RGBImage(width: 1, height: 1) }
        pthread_mutex_init(&mutex, nil)
        pthread_cond_init(&changed, nil)
    }

    deinit {
        pthread_cond_destroy(&changed)
        pthread_mutex_destroy(&mutex)
    }

    /// The buffer the capture thread fills next.
    public var captureBuffer: RGBImage { buffers[writing] }

    /// Capture side: the capture buffer holds a complete frame. For a file source, waits until the
    /// previous frame was taken (or `shouldStop` says so); for a live one, replaces it.
    public func publish(_ m: Meta, shouldStop: () -> Bool) {
        pthread_mutex_lock(&mutex)
        if !live {
            while ready != nil && !shouldStop() { timedWait(milliseconds: 50) }
        }
        meta[writing] = m
        if let r = ready {
            dropped += 1
            swap(&writing, &ready!)
            _ = r
        } else {
            ready = writing
            writing = 3 - reading - writing  // the remaining free buffer
        }
        pthread_cond_broadcast(&changed)
        pthread_mutex_unlock(&mutex)
    }

    /// Capture side: no more frames.
    public func finish() {
        pthread_mutex_lock(&mutex)
        finished = true
        pthread_cond_broadcast(&changed)
        pthread_mutex_unlock(&mutex)
    }

    public enum Take { case frame(RGBImage, Meta), timeout, finished }

    /// Inference side: the newest frame, waiting up to `milliseconds` for one.
    public func take(milliseconds: Int) -> Take {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        if ready == nil && !finished { timedWait(milliseconds: milliseconds) }
        guard let r = ready else { return finished ? .finished : .timeout }
        swap(&reading, &ready!)
        ready = nil
        _ = r
        pthread_cond_broadcast(&changed)
        return .frame(buffers[reading], meta[reading])
    }

    private func timedWait(milliseconds: Int) {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        let ns = Int(ts.tv_nsec) + milliseconds * 1_000_000
        ts.tv_sec += ns / 1_000_000_000
        ts.tv_nsec = ns % 1_000_000_000
        pthread_cond_timedwait(&changed, &mutex, &ts)
    }
}
