// The edgebone command: run | classify | bench | quantize | inspect.
import ArgumentParser
import Edgebone

@main
struct EdgeboneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "edgebone",
        abstract: "Int8 image backbones on small CPU boards: classify frames and measure every one.",
        version: EdgeboneVersion.string,
        subcommands: [Run.self, Classify.self, Bench.self, Quantize.self, Inspect.self]
    )
}
