// A fixed pool of worker threads created at load. `run(task, tiles:)` splits one step into `tiles`
// parts that the threads — the caller included — claim one at a time from atomic counters: each
// thread first its own range of the tiles (the same rows of every step, so a step finds its input in
// the cache of the thread that wrote it: 2.45 → 2.37 ms per B0 frame on two threads), then what is
// left of the others', so a thread the system has descheduled holds up at most the tile it is
// running: the others take the rest. No allocation, no thread creation after init, no lock while
// every thread is awake (see PoolShared). Waiters spin briefly (steps come every few tens of
// microseconds while a frame runs), then sleep on a condition variable.
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

/// Work that can be split into parts. A class, not a protocol, so that the threads reach the task
/// without touching its reference count (`Unmanaged`): every tile of every step would otherwise add
/// and remove a reference, atomic operations on one cache line that the threads take from each other.
open class PoolTask {
    public init() {}
    /// Executes part `part` of `parts` (0-based); parts never overlap, and any subset may run
    /// concurrently on different threads. Subclasses override it.
    open func runPart(_ part: Int, of parts: Int) {
        preconditionFailure("\(type(of: self)) does not override PoolTask.runPart")
    }
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

    /// `threads` − 1 workers; the caller is the last thread. `firstGeneration` numbers the steps
    /// (tests start near the 32-bit wrap).
    public init(threads: Int, adaptive: Bool = true, firstGeneration: UInt32 = 0) {
        precondition(threads >= 1)
        self.threads = threads
        self.adaptive = adaptive
        shared = PoolShared(threads: threads, firstGeneration: firstGeneration)
        for home in 1..<threads {
            // Each worker owns a strong reference to the shared state, never to the pool: the pool's
            // owner alone decides when it goes, and its deinit stops and joins the workers.
            let box = Unmanaged.passRetained(WorkerStart(shared, home: home)).toOpaque()
            var tid = pthread_t()
            // Each worker begins on a core of its own (see eb_thread_create_spread).
            let rc = eb_thread_create_spread(&tid, { arg in
                let start = Unmanaged<WorkerStart>.fromOpaque(arg!).takeRetainedValue()
                start.shared.work(home: start.home)
                return nil
            }, box, Int32(home))
            precondition(rc == 0, "pthread_create failed: \(rc)")
            workers.append(tid)
        }
    }

    deinit {
        shared.stop()
        for t in workers { pthread_join(t, nil) }
    }

    /// Wakes sleeping workers ahead of a step that comes within tens of microseconds (a frame about
    /// to run): a worker woken by the step itself joins it late. Cheap when no worker sleeps; nothing
    /// while steps run on the calling thread alone (woken workers would spin for nothing).
    public func wake() {
        if aloneUntil != 0 && monotonicNanos() < aloneUntil { return }
        shared.wake()
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
///
/// A step's hand-off takes no lock while every thread is awake, and moves few cache lines between
/// cores (each move costs 0.1–0.3 µs, more between the dies of one processor): the caller publishes
/// the step in one word (generation and tile count together, so that a thread never pairs one step's
/// generation with another's tile count); the workers spin on that word; a thread claims the tiles of
/// a range by compare-and-swap on the range's word, which the first claim of a step moves from an
/// older generation to the current one (the caller does not reset the others' words); each thread adds
/// the tiles it ran to a running count once, at the end of its share, and the caller spins until that
/// count reaches its target. The task is written only when it changes (a network passes itself every
/// step). A side that has spun for `spinNanos` blocks on a condition variable after announcing it in
/// a word of its own, and the other side takes the mutex to signal only when that word says someone
/// sleeps (each side publishes, then reads the other's word, both sequentially consistent, so that at
/// least one of them sees the other).
///
/// Generations are 32-bit and wrap; words compare them by the sign of their 32-bit difference. Every
/// range word is at most one step behind (a nonempty range is claimed in every step, the caller
/// refreshes empty ones), so the comparison never meets a distance near 2³¹. A worker that compared a
/// wrapped generation with a 64-bit one would find no tile to claim after 2³¹ steps, and hang.
private final class PoolShared {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let start = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private let done = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    /// Shared words, each group on its own cache line: [the published step: generation << 32 | tiles],
    /// [tiles finished since the pool began], [workers blocked on `start`], [1 while the caller is
    /// blocked on `done`], [1 once the pool stops], then one claim word per thread's home range
    /// (generation << 32 | next tile of the range).
    private let words: UnsafeMutablePointer<Int64>
    private var published: UnsafeMutablePointer<Int64> { words }
    private var finished: UnsafeMutablePointer<Int64> { words + 8 }
    private var asleep: UnsafeMutablePointer<Int64> { words + 16 }
    private var callerAsleep: UnsafeMutablePointer<Int64> { words + 24 }
    private var stopping: UnsafeMutablePointer<Int64> { words + 32 }
    private func claim(_ range: Int) -> UnsafeMutablePointer<Int64> { words + 40 + 8 * range }
    /// The task, on a cache line of its own.
    private let taskSlot: UnsafeMutablePointer<TaskSlot>
    /// Threads, the caller included: each has a home range of a step's tiles.
    private let ranges: Int
    /// How long a waiting side spins before it blocks. Steps follow one another every few to a few
    /// tens of microseconds while a frame runs; a thread woken from the condition variable takes
    /// tens of microseconds (more in a virtual machine, whose idle virtual CPU the host deschedules).
    /// Timed rather than counted: a pause is 1 cycle on one CPU and 140 on another.
    private let spinNanos: UInt64 = 100_000
    /// Counts `wake` calls (under the mutex).
    private var wakes = 0
    /// The running count of finished tiles once the caller's current step is done (caller only).
    private var target: Int64 = 0

    init(threads: Int, firstGeneration: UInt32) {
        ranges = threads
        let count = 40 + 8 * threads
        words = UnsafeMutableRawPointer.allocate(byteCount: 8 * count, alignment: 64).bindMemory(to: Int64.self, capacity: count)
        words.initialize(repeating: 0, count: count)
        taskSlot = UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 64).bindMemory(to: TaskSlot.self, capacity: 1)
        taskSlot.initialize(to: TaskSlot(task: nil))
        published.pointee = PoolShared.word(firstGeneration, 0)
        for r in 0..<ranges { claim(r).pointee = PoolShared.word(firstGeneration, 0) }
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
        taskSlot.deallocate()
    }

    @inline(__always)
    private static func word(_ g: UInt32, _ low: Int) -> Int64 { Int64(bitPattern: UInt64(g) << 32 | UInt64(UInt32(truncatingIfNeeded: low))) }
    @inline(__always)
    private static func generation(of word: Int64) -> UInt32 { UInt32(truncatingIfNeeded: UInt64(bitPattern: word) >> 32) }
    @inline(__always)
    private static func low(of word: Int64) -> Int { Int(UInt32(truncatingIfNeeded: word)) }

    func stop() {
        pthread_mutex_lock(mutex)
        eb_atomic_store_sc(stopping, 1)
        pthread_cond_broadcast(start)
        pthread_mutex_unlock(mutex)
    }

    /// Wakes the workers that sleep: for a step just published, or ahead of one, so that they spin for
    /// it instead of being woken by it (tens of microseconds later). Workers woken for nothing sleep
    /// again after `spinNanos`. Reads the sleepers' word after the caller's publication (both
    /// sequentially consistent), so a worker about to sleep either sees the step or is signalled.
    func wake() {
        guard eb_atomic_load_sc(asleep) != 0 else { return }
        pthread_mutex_lock(mutex)
        wakes &+= 1
        pthread_cond_broadcast(start)
        pthread_mutex_unlock(mutex)
    }

    /// Spins until `ready()` or `spinNanos` have passed; returns whether `ready()` held.
    @inline(__always)
    private func spin(_ ready: () -> Bool) -> Bool {
        if ready() { return true }
        let deadline = monotonicNanos() &+ spinNanos
        while true {
            for _ in 0..<32 {
                eb_cpu_relax()
                if ready() { return true }
            }
            if monotonicNanos() > deadline { return ready() }
        }
    }

    /// Runs a step on every thread. Returns the nanoseconds the calling thread spent on its own tiles,
    /// the nanoseconds until all were done, and how many tiles it ran.
    func run(_ task: PoolTask, tiles: Int) -> (own: UInt64, taken: UInt64, mine: Int) {
        let t0 = monotonicNanos()
        let g = PoolShared.generation(of: eb_atomic_load(published)) &+ 1
        if taskSlot.pointee.task?.toOpaque() != Unmanaged.passUnretained(task).toOpaque() {
            taskSlot.pointee = TaskSlot(task: .passUnretained(task))
        }
        for r in 0..<ranges where rangeStart(r, tiles: tiles) == rangeStart(r + 1, tiles: tiles) {
            eb_atomic_store(claim(r), PoolShared.word(g, rangeStart(r, tiles: tiles)))  // empty: nothing claims it
        }
        target &+= Int64(tiles)
        eb_atomic_store_sc(published, PoolShared.word(g, tiles))  // publishes the task and the count
        wake()
        let mine = participate(generation: g, tiles: tiles, home: 0)
        let t1 = monotonicNanos()
        let all = target
        if !spin({ eb_atomic_load(finished) == all }) {
            pthread_mutex_lock(mutex)
            eb_atomic_store_sc(callerAsleep, 1)
            while eb_atomic_load_sc(finished) != all { pthread_cond_wait(done, mutex) }
            eb_atomic_store(callerAsleep, 0)
            pthread_mutex_unlock(mutex)
        }
        return (t1 &- t0, monotonicNanos() &- t0, mine)
    }

    /// The first tile of thread `r`'s home range: the tiles split evenly, in order.
    @inline(__always)
    private func rangeStart(_ r: Int, tiles: Int) -> Int { tiles * r / ranges }

    /// Claims and runs tiles of generation `g` until none are left (or a newer step has begun), then
    /// counts them as finished; returns how many it ran. A thread takes its home range first, in
    /// order — so that on an idle machine each thread runs the same rows of every step and finds the
    /// previous step's output in its own cache — then whatever is left of the others' ranges, so
    /// that a descheduled thread holds up at most the tile it is running.
    ///
    /// A range word of an older generation means that nothing of the range was claimed in this step:
    /// its next tile is the range's first. If the range is not empty, the step `g` cannot have ended
    /// (its tiles are not done), so a thread that read `g` long ago still claims a tile of the step
    /// in progress, never of a finished one; a word of a newer generation means that `g` has ended.
    ///
    /// The task is read afresh for each claimed tile and never retained. Tiles of generation `g`
    /// that are claimed but not yet counted as finished keep `run` waiting, so the task is alive (its
    /// caller holds it) and still published while they run — and no newer step can begin. A worker
    /// that kept a reference beyond its last tile could end up releasing the task's last reference on
    /// its own thread.
    @discardableResult
    private func participate(generation g: UInt32, tiles: Int, home: Int) -> Int {
        var ran = 0
        search: for i in 0..<ranges {
            let r = (home + i) % ranges, first = rangeStart(r, tiles: tiles), end = rangeStart(r + 1, tiles: tiles)
            while true {
                let v = eb_atomic_load(claim(r))
                let age = Int32(bitPattern: g &- PoolShared.generation(of: v))
                if age < 0 { break search }  // a newer step has begun
                let tile = age == 0 ? PoolShared.low(of: v) : first
                guard tile < end else { break }
                guard eb_atomic_cas(claim(r), v, PoolShared.word(g, tile + 1)) != 0 else { continue }
                runClaimed(tile, of: tiles)
                ran += 1
            }
        }
        guard ran > 0 else { return 0 }
        _ = eb_atomic_fetch_add_sc(finished, Int64(ran))
        if eb_atomic_load_sc(callerAsleep) != 0 {  // it checks its count again when woken
            pthread_mutex_lock(mutex)
            pthread_cond_signal(done)
            pthread_mutex_unlock(mutex)
        }
        return ran
    }

    @inline(never)
    private func runClaimed(_ part: Int, of parts: Int) {
        taskSlot.pointee.task!._withUnsafeGuaranteedRef { $0.runPart(part, of: parts) }
    }

    func work(home: Int) {
        var seen = PoolShared.generation(of: eb_atomic_load(published))
        while true {
            if !spin({ PoolShared.generation(of: eb_atomic_load(published)) != seen || eb_atomic_load(stopping) != 0 }) {
                pthread_mutex_lock(mutex)
                _ = eb_atomic_fetch_add_sc(asleep, 1)
                let ticket = wakes
                while PoolShared.generation(of: eb_atomic_load_sc(published)) == seen && eb_atomic_load_sc(stopping) == 0 && wakes == ticket {
                    pthread_cond_wait(start, mutex)
                }
                _ = eb_atomic_fetch_add_sc(asleep, -1)
                let early = PoolShared.generation(of: eb_atomic_load(published)) == seen && eb_atomic_load(stopping) == 0
                pthread_mutex_unlock(mutex)
                if early { continue }  // woken ahead of a step (`wake`): spin for it
            }
            if eb_atomic_load(stopping) != 0 { return }
            let step = eb_atomic_load(published)
            seen = PoolShared.generation(of: step)
            participate(generation: seen, tiles: PoolShared.low(of: step), home: home)
        }
    }
}

/// The task a step runs, held without a reference count (the caller keeps it alive while it runs).
private struct TaskSlot {
    var task: Unmanaged<PoolTask>?
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

    /// What `nextAlone` will answer, without moving on.
    public var nextIsAlone: Bool {
        var copy = self
        return copy.nextAlone()
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
        if frame <= FrameSplitChooser.skipped { return }
        if !wasAlone && !clean {
            // Not a split measurement. But a probe that was one must still schedule the next: a lost
            // probe left `nextProbe` behind the frame count, and the way in use never changed again.
            if settled && preferAlone { nextProbe = frame + probeInterval }
            return
        }
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
