// edgebone classify: top-K labels for image files, optionally their logits as .npy.
import ArgumentParser
import Edgebone
import EdgeboneModels
#if canImport(Glibc)
import Glibc
#endif

struct Classify: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Classify PNG/JPEG images and print the top-K classes.")

    @OptionGroup var model: ModelOptions

    @Option(name: .long, help: "How many classes to print per image.")
    var top: Int = 5

    @Flag(name: .long, help: "One JSON object per image on stdout.")
    var json = false

    @Option(name: .long, help: "Write the logits as an N×classes float32 .npy, rows in argument order.")
    var logits: String?

    @Argument(help: "Image files (PNG or JPEG).")
    var images: [String]

    func validate() throws {
        guard top >= 1 else { throw ValidationError("--top must be at least 1") }
        guard !images.isEmpty else { throw ValidationError("give at least one image") }
    }

    func run() throws {
        let classifier: ImageClassifier
        do { classifier = try model.load() } catch { throw fail(error) }
        var all: [Float] = []
        var failures = 0
        for path in images {
            let image: RGBImage
            do { image = try ImageDecoder.decode(path: path) } catch {
                _ = fail(error)
                failures += 1
                continue
            }
            let l = classifier.logits(image)
            all += l
            let best = TopK.select(l, k: top)
            if json {
                let items = best.map { "{\"class\":\($0.index),\"label\":\(jsonString(classifier.labels[$0.index])),\"score\":\(jsonNumber($0.score))}" }
                print("{\"image\":\(jsonString(path)),\"top\":[\(items.joined(separator: ","))]}")
            } else {
                print(path)
                for c in best {
                    print("  \(String(c.index).leftPad(4))  \(formatScore(c.score))  \(classifier.labels[c.index])")
                }
            }
        }
        if let out = logits {
            if failures > 0 { throw fail(ValidationError("\(failures) image(s) could not be read; \(out) not written")) }
            do {
                try OutputFile(out).write(NPY.encode(all, shape: [images.count, classifier.labels.count]))
            } catch { throw fail(error) }
        }
        if failures > 0 { throw ExitCode(1) }
    }
}

/// A score with four decimals; what is not a finite probability-sized number is printed as is
/// (a corrupt model's 3e38 or NaN used to trap the conversion to Int).
func formatScore(_ v: Float) -> String {
    guard v.isFinite, abs(v) < 1e9 else { return "\(v)" }
    if v < 0 { return "-" + formatScore(-v) }
    let scaled = Int((v * 10000).rounded())
    let s = String(scaled / 10000) + "." + String(scaled % 10000).leftPad(4, "0")
    return s
}

/// A JSON number, or null for NaN and infinities (JSON has neither; `-nan` made invalid JSON).
func jsonNumber(_ v: Float) -> String { v.isFinite ? "\(v)" : "null" }

func jsonString(_ s: String) -> String { JSONValue.string(s).serialized }

extension String {
    func leftPad(_ width: Int, _ pad: Character = " ") -> String {
        count >= width ? self : String(repeating: pad, count: width - count) + self
    }
}
