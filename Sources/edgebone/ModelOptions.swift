// Options shared by the subcommands that load a model.
import ArgumentParser
import CEdgeboneSystem
import Edgebone
import EdgeboneModels

struct ModelOptions: ParsableArguments {
    @Option(name: .long, help: "Model: an Edgebone int8 model file, or a timm-named float32 checkpoint (default: the bundled int8 EfficientNet-Lite0).")
    var model: String?

    @OptionGroup var architecture: ArchOptions

    @Option(name: .long, help: "Worker threads (fixed pool created at load).")
    var threads: Int = 1

    @Option(name: .long, help: ArgumentHelp("Memory this process may plan for: half for the model (arena and weights), half for frames (about 16 bytes per pixel); what would exceed it is refused.", valueName: "MiB"))
    var memoryBudget: Int = MemoryBudget.defaultMiB

    func validate() throws {
        guard threads >= 1 && threads <= 256 else { throw ValidationError("--threads must be between 1 and 256, got \(threads)") }
        guard (64...1_048_576).contains(memoryBudget) else { throw ValidationError("--memory-budget must be 64 to 1048576 MiB, got \(memoryBudget)") }
    }

    /// The model path: --model, or the bundled model.
    func resolvedPath() throws -> String {
        if let model { return model }
        guard let bundled = BundledModel.path else {
            throw ValidationError("no --model given and the bundled model \(BundledModel.fileName) was not found (set EDGEBONE_MODEL)")
        }
        return bundled
    }

    func load() throws -> ImageClassifier {
        MemoryBudget.set(mebibytes: memoryBudget)
        let cores = Int(eb_available_cpus())
        if threads > cores {
            var err = StandardError()
            print("edgebone: warning: --threads \(threads) exceeds the \(cores) core(s) this process may run on; " +
                  "the extra threads only wait for a core", to: &err)
        }
        let classifier = try loadClassifier(path: try resolvedPath(), arch: architecture.arch, options: try architecture.options(),
                                            isa: try ISA.fromEnvironment(), threads: threads)
        let total = classifier.arenaBytes + classifier.weightsBytes
        guard total <= MemoryBudget.modelBytes else {
            throw BudgetError("\(try resolvedPath()): the model needs \(total >> 20) MiB (arena and weights), more than the " +
                                  "\(MemoryBudget.modelBytes >> 20) MiB of the \(memoryBudget) MiB memory budget (--memory-budget) for the model")
        }
        return classifier
    }
}

/// What does not fit the memory budget.
struct BudgetError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// How to read a float checkpoint that does not describe itself: the architecture registry's names
/// and each family's own parameters.
struct ArchOptions: ParsableArguments {
    @Option(name: .long, help: "Architecture of a float checkpoint: \(Architectures.archNames.joined(separator: ", ")) (default: the file's metadata).")
    var arch: String?

    @Option(name: .customLong("arch-option"), help: ArgumentHelp(
        "A parameter of the architecture, overriding the checkpoint's metadata (repeatable), e.g. channel_multiplier=0.5, depth_multiplier=0.5, num_classes=10.",
        valueName: "key=value"))
    var archOptions: [String] = []

    func options() throws -> [String: String] {
        var out: [String: String] = [:]
        for item in archOptions {
            let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty else { throw ValidationError("--arch-option \(item): expected key=value") }
            out[parts[0]] = parts[1]
        }
        return out
    }

    func validate() throws { _ = try options() }
}

/// Prints an error the way every subcommand does and exits non-zero.
func fail(_ error: Error) -> ExitCode {
    var stderr = StandardError()
    print("edgebone: error: \(error)", to: &stderr)
    return ExitCode(1)
}

struct StandardError: TextOutputStream {
    mutating func write(_ string: String) {
        var s = string
        s.withUTF8 { buf in _ = fwrite(buf.baseAddress, 1, buf.count, stderr) }
    }
}
#if canImport(Glibc)
import Glibc
#endif
