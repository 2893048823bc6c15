// The edgebone command: classify | bench (run, quantize and inspect arrive with their issues).
import ArgumentParser

@main
struct EdgeboneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "edgebone",
        abstract: "Int8 image backbones on small CPU boards: classify frames and measure every one.",
        subcommands: [Run.self, Classify.self, Bench.self, Quantize.self, Inspect.self]
    )
}
