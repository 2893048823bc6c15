// A fixed pool of worker threads created at load. `run(task, tiles:)` splits one step into `tiles`
// parts that the threads — the caller included — claim one at a time from atomic counters: each
// thread first its own range of the tiles (the same rows of every step, so a step finds its input in
// the cache of the thread that wrote it: 2.45 → 2.37 ms per B0 frame on two threads), then what is
// left of the others', so a thread the system has descheduled holds up at most the tile it is
// running: the others take the rest. No allocation, no thread creation after init. Waiters spin
// briefly (steps come every few tens of microseconds while a frame runs), then sleep on a condition
// variable.
//
// What dynamic tiles cannot fix: a worker preempted in the middle of a tile (its core shared with
// another busy process) keeps the step waiting for a whole scheduler slice, milliseconds, and a frame
// has dozens of steps. So the pool measures whether splitting pays: for each split step, the time it
// took against the time the calling thread alone would have needed (its own time per tile × tiles).
// When, over a few milliseconds of steps, splitting was not clearly faster, steps run on the calling
// thread alone (the workers sleep and leave their cores to whoever needs them) for a back-off that
// doubles while the condition lasts (16 ms up to 1 s) and halves after each window where splitting
// paid, then splitting is tried again.
import CEdgeboneSystem
#if canImport(Glibc)
import Glibc
#endif

/// Work that can be split into parts.
public protocol PoolTask: AnyObject {
    /// Executes part `part` of `parts` (0-based); parts never overlap, and any subset may run
    /// concurrently on different threads.
    func runPart(_ part: Int, of parts: Int)
}

public final class ThreadPool: @unchecked Sendable {
    public let threads: Int
    private let shared: PoolShared
    private var workers: [pthread_t] = []

    public struct Stats: Sendable {
        /// Split steps that ran on several threads, and on the calling thread alone because splitting
        /// did not pay (see the top of the file); how many times the pool fell back to the calling thread.
        public var split = 0, alone = 0, fallbacks = 0
        /// Frames (whole runs of a network) run on the calling thread alone because whole split
        /// frames measured slower (`FrameSplitChooser`), and all frames.
        public var framesAlone = 0, frames = 0
    }
    public private(set) var stats = Stats()
    /// The measurement since the last decision: nanoseconds the split steps took, and the calling
    /// thread's estimate of the time alone.
    private var window = (taken: UInt64(0), alone: UInt64(0))
    /// While nonzero, steps run on the calling thread until this monotonic time.
    private var aloneUntil: UInt64 = 0
    private var backoff = ThreadPool.minBackoff
    static let minBackoff: UInt64 = 16_000_000, maxBackoff: UInt64 = 1_000_000_000
    /// Nanoseconds of split steps over which one decision is taken.
    static let windowNanos: UInt64 = 8_000_000

    /// Whether the pool falls back to the calling thread when splitting does not pay (tests of the
    /// split turn it off, so that every step is really split).
    public let adaptive: Bool

    /// `threads` − 1 workers; the caller is the last thread.
    public init(threads: Int, adaptive: Bool = true) {
        precondition(threads >= 1)
        self.threads = threads
        self.adaptive = adaptive
        shared = PoolShared(threads: threads)
        for home in 1..<threads {
            // Each worker owns a strong reference to the shared state, never to the pool: the pool's
            // owner alone decides when it goes, and its deinit stops and joins the workers.
            let box = Unmanaged.passRetained(WorkerStart(shared, home: home)).toOpaque()
            var tid = pthread_t()
            let rc = pthread_create(&tid, nil, { arg in
                let start = Unmanaged<WorkerStart>.fromOpaque(arg!).takeRetainedValue()
                start.shared.work(home: start.home)
                return nil
            }, box)
            precondition(rc == 0, "pthread_create failed: \(rc)")
            workers.append(tid)
        }
    }

    deinit {
        shared.stop()
        for t in workers { pthread_join(t, nil) }
    }

    /// Runs parts 0..<tiles of `task` on whichever threads claim them; returns when all are done.
    /// One caller at a time (the network that owns the pool).
    public func run(_ task: PoolTask, tiles: Int) {
        guard threads > 1, tiles > 1 else {
            for t in 0..<max(tiles, 1) { task.runPart(t, of: max(tiles, 1)) }
            return
        }
        if aloneUntil != 0 {
            if monotonicNanos() < aloneUntil {
                stats.alone += 1
                for t in 0..<tiles { task.runPart(t, of: tiles) }
                return
            }
            aloneUntil = 0
        }
        stats.split += 1
        let (own, taken, mine) = shared.run(task, tiles: tiles)
        guard adaptive else { return }
        // The calling thread's pace: `own` nanoseconds for `mine` tiles (it always claims at least one).
        window.taken &+= taken
        window.alone &+= mine > 0 ? own * UInt64(tiles) / UInt64(mine) : taken
        guard window.taken >= ThreadPool.windowNanos else { return }
        // Splitting must save at least a twentieth; on an idle two-core machine it saves about 40%.
        if window.taken * 20 > window.alone * 19 {
            stats.fallbacks += 1
            aloneUntil = monotonicNanos() &+ backoff
            backoff = min(backoff * 2, ThreadPool.maxBackoff)
        } else {
            backoff = max(backoff / 2, ThreadPool.minBackoff)
        }
        window = (0, 0)
    }
}

/// What the caller and the workers share. Workers reach it, never the `ThreadPool`: a worker that
/// briefly retained the pool could otherwise end up releasing its last reference and run the pool's
/// deinit — joining itself — on its own thread.
private final class PoolShared {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let start = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private let done = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    /// Shared words, each on its own cache line: [generation], [tiles finished in this generation],
    /// then one claim word per thread's home range (generation << 32 | next tile of the range).
    private let words: UnsafeMutablePointer<Int64>
    private var generation: UnsafeMutablePointer<Int64> { words }
    private var finished: UnsafeMutablePointer<Int64> { words + 8 }
    private func claim(_ range: Int) -> UnsafeMutablePointer<Int64> { words + 16 + 8 * range }
    /// Threads, the caller included: each has a home range of a step's tiles.
    private let ranges: Int
    private var stopping = false
    /// Pause-loop iterations before blocking (roughly 10–50 ns each).
    private let spins = 4_000
    private unowned(unsafe) var task: PoolTask?
    private var tiles = 0

    init(threads: Int) {
        ranges = threads
        words = .allocate(capacity: 16 + 8 * threads)
        words.initialize(repeating: 0, count: 16 + 8 * threads)
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(start, nil)
        pthread_cond_init(done, nil)
    }

    deinit {
        pthread_cond_destroy(start)
        pthread_cond_destroy(done)
        pthread_mutex_destroy(mutex)
        mutex.deallocate(); start.deallocate(); done.deallocate()
        words.deallocate()
    }

    func stop() {
        pthread_mutex_lock(mutex)
        stopping = true
        pthread_cond_broadcast(start)
        pthread_mutex_unlock(mutex)
    }

    /// Runs a step on every thread. Returns the nanoseconds the calling thread spent on its own tiles,
    /// the nanoseconds until all were done, and how many tiles it ran.
    func run(_ task: PoolTask, tiles: Int) -> (own: UInt64, taken: UInt64, mine: Int) {
        let t0 = monotonicNanos()
        pthread_mutex_lock(mutex)
        self.task = task
        self.tiles = tiles
        let g = eb_atomic_load(generation) &+ 1
        eb_atomic_store(finished, 0)
        for r in 0..<ranges { eb_atomic_store(claim(r), g << 32 | Int64(rangeStart(r, tiles: tiles))) }
        eb_atomic_store(generation, g)  // publishes task and tiles
        pthread_cond_broadcast(start)
        pthread_mutex_unlock(mutex)
        let mine = participate(generation: g, tiles: tiles, home: 0)
        let t1 = monotonicNanos()
        var n = 0
        while eb_atomic_load(finished) < Int64(tiles) && n < spins { eb_cpu_relax(); n += 1 }
        if eb_atomic_load(finished) < Int64(tiles) {
            pthread_mutex_lock(mutex)
            while eb_atomic_load(finished) < Int64(tiles) { pthread_cond_wait(done, mutex) }
            pthread_mutex_unlock(mutex)
        }
        self.task = nil
        return (t1 &- t0, monotonicNanos() &- t0, mine)
    }

    /// The first tile of thread `r`'s home range: the tiles split evenly, in order.
    @inline(__always)
    private func rangeStart(_ r: Int, tiles: Int) -> Int { tiles * r / ranges }

    /// Claims and runs tiles of generation `g` until none are left (or a newer step has begun); returns
    /// how many it ran. A thread takes its home range first, in order — so that on an idle machine each
    /// thread runs the same rows of every step and finds the previous step's output in its own cache —
    /// then whatever is left of the others' ranges, so that a descheduled thread holds up at most the
    /// tile it is running.
    ///
    /// The task is read afresh for each claimed tile and never held past it. A tile of generation `g`
    /// that is claimed but not yet counted as finished keeps `run` waiting, so the task is alive (its
    /// caller holds it) and still published while the tile runs. A worker that kept a reference
    /// beyond its last tile could end up releasing the task's last reference on its own thread.
    @discardableResult
    private func participate(generation g: Int64, tiles: Int, home: Int) -> Int {
        var ran = 0
        for i in 0..<ranges {
            let r = (home + i) % ranges, end = rangeStart(r + 1, tiles: tiles)
            while true {
                let v = eb_atomic_load(claim(r))
                guard v >> 32 == g else { return ran }  // a newer step has begun
                let tile = Int(v & 0xFFFF_FFFF)
                guard tile < end else { break }
                guard eb_atomic_cas(claim(r), v, v + 1) != 0 else { continue }
                runClaimed(tile, of: tiles)
                ran += 1
                if eb_atomic_fetch_add(finished, 1) == Int64(tiles - 1) {
                    pthread_mutex_lock(mutex)
                    pthread_cond_signal(done)
                    pthread_mutex_unlock(mutex)
                }
            }
        }
        return ran
    }

    @inline(never)
    private func runClaimed(_ part: Int, of parts: Int) {
        task!.runPart(part, of: parts)
    }

    func work(home: Int) {
        var seen: Int64 = 0
        while true {
            var n = 0
            while eb_atomic_load(generation) == seen && n < spins { eb_cpu_relax(); n += 1 }
            pthread_mutex_lock(mutex)
            while eb_atomic_load(generation) == seen && !stopping { pthread_cond_wait(start, mutex) }
            if stopping { pthread_mutex_unlock(mutex); return }
            seen = eb_atomic_load(generation)
            let tiles = self.tiles
            pthread_mutex_unlock(mutex)
            participate(generation: seen, tiles: tiles, home: home)
        }
    }
}

/// What a worker thread starts with: the shared state and its home range.
private final class WorkerStart {
    let shared: PoolShared, home: Int
    init(_ shared: PoolShared, home: Int) { self.shared = shared; self.home = home }
}

/// Splits `count` items into `parts` contiguous ranges, each a multiple of `granule` (but the last).
@inline(__always)
public func partRange(_ part: Int, of parts: Int, count: Int, granule: Int = 1) -> Range<Int> {
    let units = (count + granule - 1) / granule
    let lo = units * part / parts * granule, hi = units * (part + 1) / parts * granule
    return min(lo, count)..<min(hi, count)
}

/// The second, coarser half of "splitting must pay": whole frames. When every core is busy, each of
/// the pool's threads gets a share of a core and the per-step measurement cannot tell (the calling
/// thread's own pace suffers as much as the workers'), yet frames split over threads take longer
/// than frames on one thread. So the network times its frames both ways and keeps the faster.
///
/// After two frames left out (cold caches), frames alternate until each way has six samples (or 40
/// frames have passed), and each way starts from the median of its samples. Then the faster way
/// runs, its moving average settling over ~8 frames, and the other way runs now and then to keep its
/// own average current: probes start 64 frames apart, each probe that finds the other way still 25%
/// slower doubles the interval up to 1024 frames (on an idle machine about 0.1% of frames run the
/// slower way), any other resets it to 64. A probe counts for half, or fully when it beats the way in
/// use (early measurements can mislead: a new worker thread starts on its creator's core until the
/// scheduler moves it, and split frames are slow until then). A sample counts for at most three
/// times the average; alone must be 3% faster to be chosen. Split frames in which the per-step
/// fallback ran steps alone are not split measurements and are left out.
public struct FrameSplitChooser: Sendable {
    /// Moving averages of frame time in nanoseconds (0: not yet measured).
    private(set) var split = 0.0, alone = 0.0
    private var frame = 0, nextProbe = 0, probeInterval = 64
    private var settled = false
    /// Samples of the exploring frames, split and alone (fixed storage: frames must not allocate).
    private var splitSamples = SIMD8<Double>(), aloneSamples = SIMD8<Double>()
    private var splitCount = 0, aloneCount = 0
    static let skipped = 2, samples = 6, exploringUntil = 40

    public init() {}

    private var preferAlone: Bool { alone * 1.03 < split }

    /// The median of the first `count` samples (0 for none).
    private func median(_ v: SIMD8<Double>, _ count: Int) -> Double {
        let k = count / 2
        for i in 0..<count {
            var less = 0, equal = 0
            for j in 0..<count { if v[j] < v[i] { less += 1 } else if v[j] == v[i] { equal += 1 } }
            if less <= k && k < less + equal { return v[i] }
        }
        return 0
    }

    /// Whether the next frame runs on the calling thread alone.
    public mutating func nextAlone() -> Bool {
        frame &+= 1
        if !settled {
            if splitCount >= FrameSplitChooser.samples { return true }
            if aloneCount >= FrameSplitChooser.samples { return false }
            return frame > FrameSplitChooser.skipped && frame % 2 == 0
        }
        return frame == nextProbe ? !preferAlone : preferAlone
    }

    /// Records the time of the frame `nextAlone` was last asked about; `clean` is false for a split
    /// frame in which some steps ran alone.
    public mutating func record(alone wasAlone: Bool, nanos: UInt64, clean: Bool = true) {
        let t = Double(nanos)
        if frame <= FrameSplitChooser.skipped || (!wasAlone && !clean) { return }
        if !settled {
            if wasAlone, aloneCount < FrameSplitChooser.samples {
                aloneSamples[aloneCount] = t
                aloneCount += 1
            } else if !wasAlone, splitCount < FrameSplitChooser.samples {
                splitSamples[splitCount] = t
                splitCount += 1
            }
            let enough = splitCount >= FrameSplitChooser.samples && aloneCount >= FrameSplitChooser.samples
            if enough || frame >= FrameSplitChooser.exploringUntil {
                split = median(splitSamples, splitCount)
                alone = median(aloneSamples, aloneCount)
                // A way without a sample (no clean split frame: the per-step fallback ran throughout)
                // takes the other's average, so that neither is preferred on no evidence.
                if split == 0 { split = alone }
                if alone == 0 { alone = split }
                settled = split > 0
                nextProbe = frame + probeInterval
            }
            return
        }
        let probe = wasAlone != preferAlone
        if probe {
            let usual = wasAlone ? split : alone
            probeInterval = t > 1.25 * usual ? min(2 * probeInterval, 1024) : 64
            nextProbe = frame + probeInterval
        }
        // A probe that beats the usual way is taken as it is: if it was luck, the frames that follow
        // measure that way and correct it.
        let weight = probe ? (t < (wasAlone ? split : alone) ? 1 : 0.5) : 0.125
        if wasAlone {
            alone += weight * (min(t, 3 * alone) - alone)
        } else {
            split += weight * (min(t, 3 * split) - split)
        }
    }
}
