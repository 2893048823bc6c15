// A fixed pool of worker threads created at load. `run(task, tiles:)` splits one step into `tiles`
// parts that the threads — the caller included — claim one at a time from an atomic counter, so a
// thread the system has descheduled holds up at most the tile it is running: the others take the
// rest. No allocation, no thread creation after init. Waiters spin briefly (steps come every few tens
// of microseconds while a frame runs), then sleep on a condition variable.
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

    /// `threads` − 1 workers; the caller is the last thread.
    public init(threads: Int) {
        precondition(threads >= 1)
        self.threads = threads
        shared = PoolShared()
        for _ in 1..<threads {
            // Each worker owns a strong reference to the shared state, never to the pool: the pool's
            // owner alone decides when it goes, and its deinit stops and joins the workers.
            let box = Unmanaged.passRetained(shared).toOpaque()
            var tid = pthread_t()
            let rc = pthread_create(&tid, nil, { arg in
                Unmanaged<PoolShared>.fromOpaque(arg!).takeRetainedValue().work()
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
    public func run(_ task: PoolTask, tiles: Int) {
        guard threads > 1, tiles > 1 else {
            for t in 0..<max(tiles, 1) { task.runPart(t, of: max(tiles, 1)) }
            return
        }
        shared.run(task, tiles: tiles)
    }
}

/// What the caller and the workers share. Workers reach it, never the `ThreadPool`: a worker that
/// briefly retained the pool could otherwise end up releasing its last reference and run the pool's
/// deinit — joining itself — on its own thread.
private final class PoolShared {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let start = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private let done = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    /// Shared words, each on its own cache line: [generation], [claim = generation << 32 | next tile],
    /// [tiles finished in this generation].
    private let words: UnsafeMutablePointer<Int64>
    private var generation: UnsafeMutablePointer<Int64> { words }
    private var claim: UnsafeMutablePointer<Int64> { words + 8 }
    private var finished: UnsafeMutablePointer<Int64> { words + 16 }
    private var stopping = false
    /// Pause-loop iterations before blocking (roughly 10–50 ns each).
    private let spins = 4_000
    private unowned(unsafe) var task: PoolTask?
    private var tiles = 0

    init() {
        words = .allocate(capacity: 24)
        words.initialize(repeating: 0, count: 24)
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

    func run(_ task: PoolTask, tiles: Int) {
        pthread_mutex_lock(mutex)
        self.task = task
        self.tiles = tiles
        let g = eb_atomic_load(generation) &+ 1
        eb_atomic_store(finished, 0)
        eb_atomic_store(claim, g << 32)
        eb_atomic_store(generation, g)  // publishes task and tiles
        pthread_cond_broadcast(start)
        pthread_mutex_unlock(mutex)
        participate(generation: g, tiles: tiles)
        var n = 0
        while eb_atomic_load(finished) < Int64(tiles) && n < spins { eb_cpu_relax(); n += 1 }
        if eb_atomic_load(finished) < Int64(tiles) {
            pthread_mutex_lock(mutex)
            while eb_atomic_load(finished) < Int64(tiles) { pthread_cond_wait(done, mutex) }
            pthread_mutex_unlock(mutex)
        }
        self.task = nil
    }

    /// Claims and runs tiles of generation `g` until none are left (or a newer step has begun).
    ///
    /// The task is read afresh for each claimed tile and never held past it. A tile of generation `g`
    /// that is claimed but not yet counted as finished keeps `run` waiting, so the task is alive (its
    /// caller holds it) and still published while the tile runs. A worker that kept a reference
    /// beyond its last tile could end up releasing the task's last reference on its own thread.
    private func participate(generation g: Int64, tiles: Int) {
        while true {
            let v = eb_atomic_load(claim)
            guard v >> 32 == g, Int(v & 0xFFFF_FFFF) < tiles else { return }
            guard eb_atomic_cas(claim, v, v + 1) != 0 else { continue }
            runClaimed(Int(v & 0xFFFF_FFFF), of: tiles)
            if eb_atomic_fetch_add(finished, 1) == Int64(tiles - 1) {
                pthread_mutex_lock(mutex)
                pthread_cond_signal(done)
                pthread_mutex_unlock(mutex)
            }
        }
    }

    @inline(never)
    private func runClaimed(_ part: Int, of parts: Int) {
        task!.runPart(part, of: parts)
    }

    func work() {
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
            participate(generation: seen, tiles: tiles)
        }
    }
}

/// Splits `count` items into `parts` contiguous ranges, each a multiple of `granule` (but the last).
@inline(__always)
public func partRange(_ part: Int, of parts: Int, count: Int, granule: Int = 1) -> Range<Int> {
    let units = (count + granule - 1) / granule
    let lo = units * part / parts * granule, hi = units * (part + 1) / parts * granule
    return min(lo, count)..<min(hi, count)
}
