// Lifetime-aware greedy arena planner (the TFLite Micro GreedyMemoryPlanner idea).
//
// Every buffer has a size and a lifetime [first, last] in step indices. Buffers are placed one by one;
// each goes at the lowest 64-byte-aligned offset where it overlaps no already-placed buffer whose
// lifetime intersects its own (a first-fit scan of the gaps between those buffers, in offset order).
// The arena is the highest end. The placing order decides how well the gaps fill: the plan is made
// for four orders — largest first, longest-lived first, earliest first (ties by size), and the buffers of
// the busiest step stacked first — then, while above the lower bound, a few dozen seeded perturbations
// of the first; the smallest arena wins (a few hundred buffers: microseconds each). The lower bound any plan must respect is the largest sum of
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
        let bySize = requests.indices.sorted { sizes[$0] != sizes[$1] ? sizes[$0] > sizes[$1] : $0 < $1 }
        func span(_ i: Int) -> Int { requests[i].last - requests[i].first }
        let byLife = requests.indices.sorted { span($0) != span($1) ? span($0) > span($1) : sizes[$0] != sizes[$1] ? sizes[$0] > sizes[$1] : $0 < $1 }
        let byStart = requests.indices.sorted {
            requests[$0].first != requests[$1].first ? requests[$0].first < requests[$1].first : sizes[$0] != sizes[$1] ? sizes[$0] > sizes[$1] : $0 < $1
        }
        // The buffers alive at the busiest step must all coexist: stacked first, in order of birth.
        let steps = (requests.map(\.first).min() ?? 0)...(requests.map(\.last).max() ?? 0)
        let load = steps.map { t in requests.indices.filter { requests[$0].first <= t && t <= requests[$0].last }.map { sizes[$0] }.reduce(0, +) }
        let peak = steps.lowerBound + (load.indices.max { load[$0] < load[$1] } ?? 0)
        let atPeak = Set(requests.indices.filter { requests[$0].first <= peak && peak <= requests[$0].last })
        let peakFirst = byStart.filter { atPeak.contains($0) } + bySize.filter { !atPeak.contains($0) }
        var best = Self.greedy(requests, sizes: sizes, order: bySize)
        for order in [byLife, byStart, peakFirst] {
            let candidate = Self.greedy(requests, sizes: sizes, order: order)
            if candidate.arena < best.arena { best = candidate }
        }
        // Still above the bound: a few deterministic perturbations of the largest-first order
        // (neighbours of similar size swapped) often close the gap.
        var rng = SplitMix64(seed: 0x5EED)
        var order = bySize
        for _ in 0..<48 where best.arena > load.max() ?? 0 {
            var trial = order
            for _ in 0..<max(1, trial.count / 8) {
                let i = Int.random(in: 0..<trial.count, using: &rng), j = min(trial.count - 1, i + Int.random(in: 1...4, using: &rng))
                trial.swapAt(i, j)
            }
            let candidate = Self.greedy(requests, sizes: sizes, order: trial)
            if candidate.arena <= best.arena { best = candidate; order = trial }
        }
        offsets = best.offsets
        arenaBytes = best.arena
        lowerBoundBytes = load.max() ?? 0
    }

    /// First-fit placement in `order`.
    private static func greedy(_ requests: [BufferRequest], sizes: [Int], order: [Int]) -> (offsets: [Int], arena: Int) {
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
        return (offsets, arena)
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
