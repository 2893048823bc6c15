// Paths to the committed fixtures (Tests/Fixtures) and scratch directories, shared by the test targets.
#if canImport(Glibc)
import Glibc
#endif

public enum Fixtures {
    public static let root: String = {
        var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(2)  // EdgeboneTestSupport/Fixtures.swift
        return parts.joined(separator: "/") + "/Fixtures"
    }()

    public static func path(_ relative: String) -> String { root + "/" + relative }

    public static func exists(_ relative: String) -> Bool { access(path(relative), F_OK) == 0 }

    /// A fresh directory under /tmp for one test.
    public static func scratchDirectory() -> String {
        var template = Array("/tmp/edgebone-test-XXXXXX".utf8CString)
        // The name is read inside the closure: the pointer mkdtemp returns is the array's own storage,
        // which an optimized build may free as soon as the closure returns (a release build for AArch64
        // then copied the name out of memory the new String already occupied).
        return template.withUnsafeMutableBufferPointer { buffer in
            guard let dir = mkdtemp(buffer.baseAddress!) else { fatalError("mkdtemp: \(String(cString: strerror(errno)))") }
            return String(cString: dir)
        }
    }

    public static func write(_ bytes: [UInt8], to path: String) {
        let f = fopen(path, "wb")!
        _ = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, f) }
        fclose(f)
    }
}
