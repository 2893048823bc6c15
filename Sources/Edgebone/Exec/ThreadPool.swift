// A fixed pool of worker threads created at load. `run(task:parts:)` has every thread (the caller
// included) execute one part of the task and returns when all are done. No allocation, no thread
// creation after init. Hand-offs spin briefly before sleeping on a condition variable: steps come
// every few tens of microseconds while a frame runs, and a futex wake-up costs about as much.
import CEdgeboneSystem
#if canImport(Glibc)
import Glibc
#endif

/// Work that can be split into parts.
public protocol PoolTask: AnyObject {
    /// Executes part `part` of `parts` (0-based); parts never overlap.
    func runPart(_ part: Int, of parts: Int)
}

public final class ThreadPool: @unchecked Sendable {
    public let threads: Int
    private var workers: [pthread_t] = []
    private var mutex = pthread_mutex_t()
    private var start = pthread_cond_t()
    private var done = pthread_cond_t()
    /// Shared counters, read without the mutex while spinning: [generation, remaining].
    private let counters: UnsafeMutablePointer<Int64>
    private var stopping = false
    /// Spin iterations before blocking (pause-loop iterations, roughly 10–50 ns each).
    private let spins = 20_000
    private unowned(unsafe) var task: PoolTask?
    private var parts = 0

    /// `threads` − 1 workers; the caller is the last thread.
    public init(threads: Int) {
        precondition(threads >= 1)
        self.threads = threads
        counters = .allocate(capacity: 2)
        counters.initialize(repeating: 0, count: 2)
        pthread_mutex_init(&mutex, nil)
        pthread_cond_init(&start, nil)
        pthread_cond_init(&done, nil)
        for index in 1..<threads {
            let box = Unmanaged.passRetained(WorkerStart(pool: self, index: index)).toOpaque()
            var tid = pthread_t()
            let rc = pthread_create(&tid, nil, { arg in
                let start = Unmanaged<WorkerStart>.fromOpaque(arg!).takeRetainedValue()
                start.pool.work(index: start.index)
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
        counters.deallocate()
    }

    /// Runs parts 0..<threads of `task`: part 0 on the caller, the others on the workers.
    public func run(_ task: PoolTask) {
        guard threads > 1 else { task.runPart(0, of: 1); return }
        pthread_mutex_lock(&mutex)
        self.task = task
        parts = threads
        eb_atomic_store(counters + 1, Int64(threads - 1))
        eb_atomic_store(counters, eb_atomic_load(counters) &+ 1)  // publishes task and parts
        pthread_cond_broadcast(&start)
        pthread_mutex_unlock(&mutex)
        task.runPart(0, of: threads)
        var n = 0
        while eb_atomic_load(counters + 1) > 0 && n < spins { eb_cpu_relax(); n += 1 }
        if eb_atomic_load(counters + 1) > 0 {
            pthread_mutex_lock(&mutex)
            while eb_atomic_load(counters + 1) > 0 { pthread_cond_wait(&done, &mutex) }
            pthread_mutex_unlock(&mutex)
        }
        self.task = nil
    }

    private func work(index: Int) {
        var seen: Int64 = 0
        while true {
            var n = 0
            while eb_atomic_load(counters) == seen && n < spins { eb_cpu_relax(); n += 1 }
            pthread_mutex_lock(&mutex)
            while eb_atomic_load(counters) == seen && !stopping { pthread_cond_wait(&start, &mutex) }
            if stopping { pthread_mutex_unlock(&mutex); return }
            seen = eb_atomic_load(counters)
            let t = task!, parts = self.parts
            pthread_mutex_unlock(&mutex)
            t.runPart(index, of: parts)
            if eb_atomic_fetch_add(counters + 1, -1) == 1 {
                pthread_mutex_lock(&mutex)
                pthread_cond_signal(&done)
                pthread_mutex_unlock(&mutex)
            }
        }
    }
}

private final class WorkerStart {
    let pool: ThreadPool
    let index: Int
    init(pool: ThreadPool, index: Int) { self.pool = pool; self.index = index }
}

/// Splits `count` items into `parts` contiguous ranges, each a multiple of `granule` (but the last).
@inline(__always)
public func partRange(_ part: Int, of parts: Int, count: Int, granule: Int = 1) -> Range<Int> {
    let units = (count + granule - 1) / granule
    let lo = units * part / parts * granule, hi = units * (part + 1) / parts * granule
    return min(lo, count)..<min(hi, count)
}
