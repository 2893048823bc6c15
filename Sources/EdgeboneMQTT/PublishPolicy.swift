// Which results go to the broker: every frame, or (the default) only when the top-1 class changes
// or its score moves by more than a delta, plus a heartbeat so that silence means "no change" and
// not "dead". A 30 fps camera looking at an empty shelf sends one message per interval, not 30 a second.

public enum PublishMode: String, CaseIterable, Sendable {
    case every, change
}

public struct PublishPolicy: Sendable {
    public let mode: PublishMode
    public let delta: Double
    public let intervalNanos: UInt64
    private var lastClass = -1
    private var lastScore = 0.0
    private var lastNanos: UInt64 = 0

    /// `interval` in seconds; 0 turns the heartbeat off.
    public init(mode: PublishMode, delta: Double, interval: Double) {
        self.mode = mode
        self.delta = delta
        intervalNanos = UInt64(max(0, min(interval, 1e9)) * 1e9)
    }

    /// Whether the frame whose top-1 is (`top1`, `score`), seen at `nanos` (monotonic), is published;
    /// remembers it when it is.
    public mutating func shouldPublish(top1: Int, score: Double, nanos: UInt64) -> Bool {
        let publish: Bool
        switch mode {
        case .every: publish = true
        case .change:
            publish = lastClass != top1
                || abs(score - lastScore) > delta
                || (intervalNanos > 0 && nanos &- lastNanos >= intervalNanos)
        }
        if publish { lastClass = top1; lastScore = score; lastNanos = nanos }
        return publish
    }
}
