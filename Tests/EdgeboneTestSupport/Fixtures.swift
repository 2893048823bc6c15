// Paths to the committed fixtures (Tests/Fixtures) and scratch directories, shared by the test targets.
#if canImport(Glibc)
import Glibc
#endif
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

public enum Fixtures {
    public static let root: String = {
        var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(2)  // EdgeboneTestSupport/Fixtures.swift
        return parts.joined(separator: "/") + "/Fixtures"
    }()

    public static func path(_ relative: String) -> String { root + "/" + relative }

    public static func exists(_ relative: String) -> Bool { access(path(relative), F_OK) == 0 }

    /// A fresh directory under /tmp for one test, removed with its contents when the test process exits
    /// (a failing test's too).
    public static func scratchDirectory() -> String {
        var template = Array("/tmp/edgebone-test-XXXXXX".utf8CString)
        // The name is read inside the closure: the pointer mkdtemp returns is the array's own storage,
        // which an optimized build may free as soon as the closure returns (a release build for AArch64
        // then copied the name out of memory the new String already occupied).
        let dir = template.withUnsafeMutableBufferPointer { buffer in
            guard let dir = mkdtemp(buffer.baseAddress!) else { fatalError("mkdtemp: \(String(cString: strerror(errno)))") }
            return String(cString: dir)
        }
        ScratchDirectories.shared.add(dir)
        return dir
    }

    public static func write(_ bytes: [UInt8], to path: String) {
        let f = fopen(path, "wb")!
        _ = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, f) }
        fclose(f)
    }
}

/// The scratch directories of this process, removed at exit (tests run concurrently: a lock guards the list).
final class ScratchDirectories: @unchecked Sendable {
    static let shared = ScratchDirectories()
    private let lock = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private var paths: [String] = []

    private init() {
        pthread_mutex_init(lock, nil)
        atexit { ScratchDirectories.shared.removeAll() }
    }

    func add(_ path: String) {
        pthread_mutex_lock(lock)
        paths.append(path)
        pthread_mutex_unlock(lock)
    }

    private func removeAll() {
        pthread_mutex_lock(lock)
        defer { pthread_mutex_unlock(lock) }
        for path in paths { try? FileManager.default.removeItem(atPath: path) }
        paths.removeAll()
    }
}
