// Files the commands write: claimed at start so that a bad path fails before the work, written whole
// or not at all. A regular file is replaced atomically (a temporary beside it, renamed into place), so
// a full disk leaves the previous content, never half of it. A path that names a device (`/dev/null`,
// `/dev/stdout` on a terminal or pipe) is written in place: renaming over it would replace the device
// node itself.
#if canImport(Glibc)
import Glibc
#endif
import Edgebone

/// How a path is written.
enum OutputTarget {
    case replace(temp: String)
    case inPlace

    /// Checks `path` and says how to write it; throws naming the problem.
    static func check(_ path: String, allowPipes: Bool) throws -> OutputTarget {
        func refuse(_ why: String) -> ModelFileError { .writeFailed(path: path.isEmpty ? "\"\"" : path, reason: why) }
        if path.isEmpty || path.hasSuffix("/") { throw refuse("not a file path") }
        var st = stat()
        if stat(path, &st) == 0 {
            switch st.st_mode & S_IFMT {
            case S_IFREG: break
            case S_IFDIR: throw refuse("is a folder")
            case S_IFCHR:
                guard access(path, W_OK) == 0 else { throw refuse(String(cString: strerror(errno))) }
                return .inPlace
            case S_IFIFO where allowPipes:
                return .inPlace
            default:
                throw refuse("not a regular file or a character device")
            }
        }
        return .replace(temp: path + ".partial-\(getpid())")
    }
}

/// Writes `bytes` to `fd` whole; false with errno set otherwise.
private func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Bool {
    var done = 0
    while done < bytes.count {
        let n = write(fd, bytes.baseAddress! + done, bytes.count - done)
        if n < 0 { if errno == EINTR { continue }; return false }
        if n == 0 { errno = ENOSPC; return false }
        done += n
    }
    return true
}

/// Writes `bytes` to `path` as `target` says; throws naming the path and the reason.
func write(_ bytes: UnsafeRawBufferPointer, to path: String, as target: OutputTarget, claimed: Int32? = nil) throws {
    switch target {
    case .inPlace:
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ModelFileError.writeFailed(path: path, reason: String(cString: strerror(errno))) }
        let ok = writeAll(fd, bytes)
        let why = String(cString: strerror(errno))
        close(fd)
        if !ok { throw ModelFileError.writeFailed(path: path, reason: why) }
    case let .replace(temp):
        let fd = claimed ?? open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw ModelFileError.writeFailed(path: path, reason: String(cString: strerror(errno))) }
        var ok = writeAll(fd, bytes) && fsync(fd) == 0
        var why = ok ? "" : String(cString: strerror(errno))
        if close(fd) != 0 && ok { ok = false; why = String(cString: strerror(errno)) }
        if ok && rename(temp, path) != 0 { ok = false; why = String(cString: strerror(errno)) }
        if !ok {
            unlink(temp)
            throw ModelFileError.writeFailed(path: path, reason: why)
        }
    }
}

/// A one-shot output (`--logits`, `--report`, `--svg`), claimed when the command starts: a temporary
/// file beside it is created at once (or the device checked), and the content goes in at the end. If
/// the command fails first, the temporary file is removed and `path` is left as it was.
final class OutputFile {
    let path: String
    private let target: OutputTarget
    private var claimed: Int32 = -1
    private var written = false

    init(_ path: String) throws {
        self.path = path
        target = try OutputTarget.check(path, allowPipes: true)
        if case let .replace(temp) = target {
            claimed = open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            guard claimed >= 0 else { throw ModelFileError.writeFailed(path: path, reason: String(cString: strerror(errno))) }
        }
    }

    deinit {
        if !written, case let .replace(temp) = target {
            close(claimed)
            unlink(temp)
        }
    }

    func write(_ bytes: [UInt8]) throws {
        guard !written else { throw ModelFileError.writeFailed(path: path, reason: "already written") }
        written = true
        try bytes.withUnsafeBytes { try edgebone.write($0, to: path, as: target, claimed: claimed >= 0 ? claimed : nil) }
    }
}

/// The daemon's Prometheus file, rewritten with every summary. Checked at start (a missing or
/// read-only folder is an error then, not silence for months); a write that fails later keeps the
/// previous file and is reported once, and again when writing works again.
final class MetricsFile {
    let path: String
    private let target: OutputTarget
    private var failing: String?

    init(_ path: String) throws {
        self.path = path
        // A FIFO would block the frame loop until someone reads it.
        target = try OutputTarget.check(path, allowPipes: false)
        if case let .replace(temp) = target {
            let fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            guard fd >= 0 else { throw ModelFileError.writeFailed(path: path, reason: String(cString: strerror(errno))) }
            close(fd)
            unlink(temp)
        }
    }

    /// Writes `text`; logs a failure (and the recovery) through `log`.
    func write(_ text: String, log: (String) -> Void) {
        var copy = text
        do {
            try copy.withUTF8 { try edgebone.write(UnsafeRawBufferPointer($0), to: path, as: target) }
            if failing != nil { log("metrics file \(path) written again") }
            failing = nil
        } catch {
            let why = "\(error)"
            if failing != why { log("\(why); the previous metrics stay in place") }
            failing = why
        }
    }
}

/// A Prometheus label value: backslash, double quote and newline escaped, so that text from a model
/// file cannot add lines of its own.
func prometheusLabel(_ s: String) -> String {
    var out = ""
    for c in s.unicodeScalars {
        switch c {
        case "\\": out += "\\\\"
        case "\"": out += "\\\""
        case "\n": out += "\\n"
        default: out.unicodeScalars.append(c)
        }
    }
    return out
}

/// Whether two paths name the same file: the same inode when both exist (hard and symbolic links
/// included), else the same absolute path once the folder is resolved.
func samePath(_ a: String, _ b: String) -> Bool {
    var sa = stat(), sb = stat()
    if stat(a, &sa) == 0 && stat(b, &sb) == 0 { return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino }
    return resolved(a) == resolved(b)
}

/// `path` made absolute through the real path of its folder (the file itself may not exist yet).
private func resolved(_ path: String) -> String {
    let slash = path.lastIndex(of: "/")
    let folder = slash.map { String(path[..<$0]) } ?? "."
    let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
    guard let real = realpath(folder.isEmpty ? "/" : folder, nil) else { return path }
    defer { free(real) }
    return String(cString: real) + "/" + name
}
