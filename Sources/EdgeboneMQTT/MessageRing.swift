// A bounded queue of messages in memory allocated once: the inference thread pushes, the publisher
// thread pops. When it is full the oldest message is overwritten and counted, so a slow or missing
// broker costs results, never memory and never a wait on the frame path.
#if canImport(Glibc)
import Glibc
#endif

public final class MessageRing: @unchecked Sendable {
    public let slots: Int
    public let slotBytes: Int
    private let storage: UnsafeMutablePointer<UInt8>
    private let lengths: UnsafeMutablePointer<Int>
    private let kinds: UnsafeMutablePointer<UInt8>
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private var head = 0, count = 0
    private var droppedOldest = 0, tooLarge = 0, abandoned = 0

    public init(slots: Int, slotBytes: Int) {
        precondition(slots >= 1 && slotBytes >= 1)
        self.slots = slots
        self.slotBytes = slotBytes
        storage = .allocate(capacity: slots * slotBytes)
        // Touch every page now: a board should not find out about the memory on the first busy minute.
        storage.initialize(repeating: 0, count: slots * slotBytes)
        lengths = .allocate(capacity: slots)
        lengths.initialize(repeating: 0, count: slots)
        kinds = .allocate(capacity: slots)
        kinds.initialize(repeating: 0, count: slots)
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
        storage.deallocate(); lengths.deallocate(); kinds.deallocate()
    }

    /// Appends a copy of `bytes` tagged `kind`; overwrites the oldest message when full. Returns false
    /// (and counts it) when the message is larger than a slot.
    @discardableResult
    public func push(kind: UInt8, _ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        guard bytes.count <= slotBytes else { tooLarge += 1; return false }
        if count == slots {
            head = (head + 1) % slots
            count -= 1
            droppedOldest += 1
        }
        let slot = (head + count) % slots
        if let base = bytes.baseAddress { (storage + slot * slotBytes).update(from: base, count: bytes.count) }
        lengths[slot] = bytes.count
        kinds[slot] = kind
        count += 1
        return true
    }

    /// The kind of the oldest message, or nil when empty.
    public func peekKind() -> UInt8? {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return count == 0 ? nil : kinds[head]
    }

    /// Moves the oldest message into `buffer` (at least `slotBytes` long); returns its kind and length.
    public func pop(into buffer: UnsafeMutablePointer<UInt8>) -> (kind: UInt8, count: Int)? {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        guard count > 0 else { return nil }
        let n = lengths[head], k = kinds[head]
        buffer.update(from: storage + head * slotBytes, count: n)
        head = (head + 1) % slots
        count -= 1
        return (k, n)
    }

    /// Messages waiting.
    public var waiting: Int {
        pthread_mutex_lock(mutex); defer { pthread_mutex_unlock(mutex) }
        return count
    }

    /// Messages lost: overwritten while waiting, too large for a slot, or still waiting at the end.
    public var dropped: Int {
        pthread_mutex_lock(mutex); defer { pthread_mutex_unlock(mutex) }
        return droppedOldest + tooLarge + abandoned
    }

    /// Empties the queue at the end (nothing will send it), counting what it held as dropped.
    public func abandon() {
        pthread_mutex_lock(mutex); defer { pthread_mutex_unlock(mutex) }
        abandoned += count
        count = 0
    }

    public var oversized: Int {
        pthread_mutex_lock(mutex); defer { pthread_mutex_unlock(mutex) }
        return tooLarge
    }
}
