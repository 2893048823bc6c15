// The edgebone command: run | classify | bench | quantize | inspect.
import ArgumentParser
import Edgebone
#if canImport(Glibc)
import Glibc
#endif

@main
struct EdgeboneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "edgebone",
        abstract: "Int8 image backbones on small CPU boards: classify frames and measure every one.",
        version: EdgeboneVersion.string,
        subcommands: [Run.self, Classify.self, Bench.self, Quantize.self, Inspect.self]
    )

    /// ArgumentParser's main, then one check every command shares: what went to stdout got there. A
    /// closed pipe or a full disk is an error (exit 1, named), never a silent success.
    static func main() {
        var command: ParsableCommand
        do {
            command = try parseAsRoot()
            try command.run()
        } catch {
            exit(withError: error)
        }
        flushStandardOutput()
    }

    private static func flushStandardOutput() {
        if fflush(stdout) != 0 || ferror(stdout) != 0 {
            let why = errno != 0 ? String(cString: strerror(errno)) : "write error"
            var err = StandardError()
            print("edgebone: error: writing to stdout failed: \(why)", to: &err)
            Glibc.exit(1)
        }
    }
}
