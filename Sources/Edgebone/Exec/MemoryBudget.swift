// How much memory a process may plan for: one figure a user sets for a small board (`--memory-budget`,
// default 512 MiB, which leaves a 1 GB Raspberry Pi room for its system), split between the model
// (arena and weights) and frames. Whatever would exceed it is refused up front with a message naming
// the limit, before the memory is asked for: a crafted model's 996 GB arena, a Y4M header announcing
// 16384×16384 4:4:4 frames, a small PNG that decodes to gigabytes.

public enum MemoryBudget {
    public static let defaultMiB = 512
    /// What one pixel of a frame can cost on its way through the daemon: the decoder's RGBA room (4),
    /// the capture slots' three RGB frames (9), a Y4M frame's planes (3).
    public static let bytesPerFramePixel = 16

    nonisolated(unsafe) public private(set) static var bytes = defaultMiB << 20

    /// Sets the budget (call once, at start, before any thread runs).
    public static func set(mebibytes: Int) {
        bytes = max(16, mebibytes) << 20
    }

    public static var mebibytes: Int { bytes >> 20 }

    /// The model's share: arena plus weights.
    public static var modelBytes: Int { bytes / 2 }

    /// The largest frame or decoded image, in pixels (the frames' half of the budget).
    public static var maxFramePixels: Int { bytes / 2 / bytesPerFramePixel }

    /// "N MiB of the 512 MiB memory budget": how messages name the limit.
    static func describe(_ share: Int) -> String {
        "\(share >> 20) MiB of the \(mebibytes) MiB memory budget (--memory-budget)"
    }

    /// Why a frame of `width`×`height` cannot be taken, or nil when it fits.
    public static func frameProblem(width: Int, height: Int) -> String? {
        let (pixels, overflow) = width.multipliedReportingOverflow(by: height)
        guard overflow || pixels > maxFramePixels else { return nil }
        return "a \(width)x\(height) frame needs about \(overflow ? Int.max >> 20 : (pixels * bytesPerFramePixel) >> 20) MiB, " +
            "more than the \(describe(bytes / 2)) allows for frames"
    }
}
