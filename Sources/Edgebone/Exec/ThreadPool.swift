// A fixed pool of worker threads created at load. `run(task:parts:)` has every thread (the caller
// included) execute one part of the task and returns when all are done. No allocation, no thread
// creation after init.
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
    private var generation: UInt64 = 0
    private var remaining = 0
    private var stopping = false
    private unowned(unsafe) var task: PoolTask?
    private var parts = 0

    /// `threads` − 1 workers; the caller is the last thread.
    public init(threads: Int) {
        precondition(threads >= 1)
        self.threads = threads
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
    }

    /// Runs parts 0..<threads of `task`: part 0 on the caller, the others on the workers.
    public func run(_ task: PoolTask) {
        guard threads > 1 else { task.runPart(0, of: 1); return }
        pthread_mutex_lock(&mutex)
        self.task = task
        parts = threads
        remaining = threads - 1
        generation &+= 1
        pthread_cond_broadcast(&start)
        pthread_mutex_unlock(&mutex)
        task.runPart(0, of: threads)
        pthread_mutex_lock(&mutex)
        while remaining > 0 { pthread_cond_wait(&done, &mutex) }
        self.task = nil
        pthread_mutex_unlock(&mutex)
    }

    private func work(index: Int) {
        var seen: UInt64 = 0
        while true {
            pthread_mutex_lock(&mutex)
            while generation == seen && !stopping { pthread_cond_wait(&start, &mutex) }
            if stopping { pthread_mutex_unlock(&mutex); return }
            seen = generation
            let t = task!, n = parts
            pthread_mutex_unlock(&mutex)
            t.runPart(index, of: n)
            pthread_mutex_lock(&mutex)
            remaining -= 1
            if remaining == 0 { pthread_cond_signal(&done) }
            pthread_mutex_unlock(&mutex)
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
