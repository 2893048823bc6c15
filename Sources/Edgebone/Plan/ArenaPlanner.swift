// Lifetime-aware greedy arena planner (the TFLite Micro GreedyMemoryPlanner idea).
//
// Every buffer has a size and a lifetime [first, last] in step indices. Buffers are placed largest
// first; each goes at the lowest 64-byte-aligned offset where it overlaps no already-placed buffer
// whose lifetime intersects its own (a first-fit scan of the gaps between those buffers, in offset
// order). The arena is the highest end. The lower bound any plan must respect is the largest sum of
// sizes alive at one step; the planner's result is compared against it in `inspect` and in tests.

/// One buffer to place: `size` bytes, alive from step `first` through step `last` inclusive.
public struct BufferRequest: Sendable, Equatable {
    public var size: Int
    public var first: Int
    public var last: Int
    public init(size: Int, first: Int, last: Int) {
        precondition(size >= 0 && first <= last)
        self.size = size
        self.first = first
        self.last = last
    }

    func overlapsInTime(_ other: BufferRequest) -> Bool { first <= other.last && other.first <= last }
}

/// Where each buffer goes and how big the arena is.
public struct ArenaPlan: Sendable, Equatable {
    public static let alignment = 64
    /// Byte offset of each request, in request order.
    public var offsets: [Int]
    public var arenaBytes: Int
    /// Largest sum of (aligned) sizes alive at any one step.
    public var lowerBoundBytes: Int

    /// A plan given outright (tests of the overlap checker).
    public init(offsets: [Int], arenaBytes: Int, lowerBoundBytes: Int) {
        self.offsets = offsets
        self.arenaBytes = arenaBytes
        self.lowerBoundBytes = lowerBoundBytes
    }

    /// Plans `requests`.
    public init(_ requests: [BufferRequest]) {
        let a = ArenaPlan.alignment
        let sizes = requests.map { ($0.size + a - 1) / a * a }
        let order = requests.indices.sorted { sizes[$0] != sizes[$1] ? sizes[$0] > sizes[$1] : $0 < $1 }
        var offsets = [Int](repeating: 0, count: requests.count)
        var placed: [Int] = []
        var arena = 0
        for i in order {
            let neighbours = placed.filter { requests[$0].overlapsInTime(requests[i]) && sizes[$0] > 0 }
                .sorted { offsets[$0] < offsets[$1] }
            var candidate = 0
            for j in neighbours {
                if offsets[j] >= candidate + sizes[i] { break }
                candidate = max(candidate, offsets[j] + sizes[j])
            }
            offsets[i] = candidate
            placed.append(i)
            arena = max(arena, candidate + sizes[i])
        }
        self.offsets = offsets
        arenaBytes = arena
        let steps = (requests.map(\.first).min() ?? 0)...(requests.map(\.last).max() ?? 0)
        lowerBoundBytes = steps.map { t in
            requests.indices.filter { requests[$0].first <= t && t <= requests[$0].last }.map { sizes[$0] }.reduce(0, +)
        }.max() ?? 0
    }

    /// True when no two buffers alive at the same time share a byte (the tests' overlap checker).
    public static func isValid(_ plan: ArenaPlan, for requests: [BufferRequest]) -> Bool {
        for i in requests.indices {
            guard plan.offsets[i] % alignment == 0, plan.offsets[i] + requests[i].size <= plan.arenaBytes else { return false }
            for j in requests.indices where j > i && requests[i].overlapsInTime(requests[j]) {
                let (a0, a1) = (plan.offsets[i], plan.offsets[i] + requests[i].size)
                let (b0, b1) = (plan.offsets[j], plan.offsets[j] + requests[j].size)
                if a0 < b1 && b0 < a1 { return false }
            }
        }
        return true
    }
}

/// 64-byte-aligned memory owned by one model instance; freed on deinit.
public final class Arena: @unchecked Sendable {
    public let base: UnsafeMutableRawPointer
    public let byteCount: Int

    public init(byteCount: Int) {
        self.byteCount = max(byteCount, ArenaPlan.alignment)
        base = .allocate(byteCount: self.byteCount, alignment: ArenaPlan.alignment)
        base.initializeMemory(as: UInt8.self, repeating: 0, count: self.byteCount)
    }

    deinit { base.deallocate() }
}
