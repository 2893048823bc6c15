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
    private var workers: [pthread_t] = []
    private var mutex = pthread_mutex_t()
    private var start = pthread_cond_t()
    private var done = pthread_cond_t()
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

    /// `threads` − 1 workers; the caller is the last thread.
    public init(threads: Int) {
        precondition(threads >= 1)
        self.threads = threads
        words = .allocate(capacity: 24)
        words.initialize(repeating: 0, count: 24)
        pthread_mutex_init(&mutex, nil)
        pthread_cond_init(&start, nil)
        pthread_cond_init(&done, nil)
        for _ in 1..<threads {
            let box = Unmanaged.passRetained(WorkerStart(pool: self)).toOpaque()
            var tid = pthread_t()
            let rc = pthread_create(&tid, nil, { arg in
                let start = Unmanaged<WorkerStart>.fromOpaque(arg!).takeRetainedValue()
                // Unretained: the pool's owner alone keeps it alive, and its deinit stops and joins this thread
                // before the memory goes.
                start.pool._withUnsafeGuaranteedRef { $0.work() }
                return nil
            }, box)
            precondition(rc == 0, "pthread_create failed: \(rc)")
            workers.append(tid)
        }
    }

    deinit {
        pthread_mutex_lock(&mutex)
        stopping = true
        pthread_cond_broadcast(&start)
        pthread_mutex_unlock(&mutex)
        for t in workers { pthread_join(t, nil) }
        pthread_cond_destroy(&start)
        pthread_cond_destroy(&done)
        pthread_mutex_destroy(&mutex)
        words.deallocate()
    }

    /// Runs parts 0..<tiles of `task` on whichever threads claim them; returns when all are done.
    public func run(_ task: PoolTask, tiles: Int) {
        guard threads > 1, tiles > 1 else {
            for t in 0..<max(tiles, 1) { task.runPart(t, of: max(tiles, 1)) }
            return
        }
        pthread_mutex_lock(&mutex)
        self.task = task
        self.tiles = tiles
        let g = eb_atomic_load(generation) &+ 1
        eb_atomic_store(finished, 0)
        eb_atomic_store(claim, g << 32)
        eb_atomic_store(generation, g)  // publishes task and tiles
        pthread_cond_broadcast(&start)
        pthread_mutex_unlock(&mutex)
        participate(generation: g, task: task, tiles: tiles)
        var n = 0
        while eb_atomic_load(finished) < Int64(tiles) && n < spins { eb_cpu_relax(); n += 1 }
        if eb_atomic_load(finished) < Int64(tiles) {
            pthread_mutex_lock(&mutex)
            while eb_atomic_load(finished) < Int64(tiles) { pthread_cond_wait(&done, &mutex) }
            pthread_mutex_unlock(&mutex)
        }
        // A late worker reads `task` under the mutex (retaining it): never a task that may be gone.
        pthread_mutex_lock(&mutex)
        self.task = nil
        pthread_mutex_unlock(&mutex)
    }

    /// Claims and runs tiles of generation `g` until none are left (or a newer step has begun).
    private func participate(generation g: Int64, task: PoolTask, tiles: Int) {
        while true {
            let v = eb_atomic_load(claim)
            guard v >> 32 == g, Int(v & 0xFFFF_FFFF) < tiles else { return }
            guard eb_atomic_cas(claim, v, v + 1) != 0 else { continue }
            task.runPart(Int(v & 0xFFFF_FFFF), of: tiles)
            if eb_atomic_fetch_add(finished, 1) == Int64(tiles - 1) {
                pthread_mutex_lock(&mutex)
                pthread_cond_signal(&done)
                pthread_mutex_unlock(&mutex)
            }
        }
    }

    private func work() {
        var seen: Int64 = 0
        while true {
            var n = 0
            while eb_atomic_load(generation) == seen && n < spins { eb_cpu_relax(); n += 1 }
            pthread_mutex_lock(&mutex)
            while eb_atomic_load(generation) == seen && !stopping { pthread_cond_wait(&start, &mutex) }
            if stopping { pthread_mutex_unlock(&mutex); return }
            seen = eb_atomic_load(generation)
            let t = task, tiles = self.tiles
            pthread_mutex_unlock(&mutex)
            if let t { participate(generation: seen, task: t, tiles: tiles) }
        }
    }
}

private final class WorkerStart {
    let pool: Unmanaged<ThreadPool>
    init(pool: ThreadPool) { self.pool = Unmanaged.passUnretained(pool) }
}

/// Splits `count` items into `parts` contiguous ranges, each a multiple of `granule` (but the last).
@inline(__always)
public func partRange(_ part: Int, of parts: Int, count: Int, granule: Int = 1) -> Range<Int> {
    let units = (count + granule - 1) / granule
    let lo = units * part / parts * granule, hi = units * (part + 1) / parts * granule
    return min(lo, count)..<min(hi, count)
}
