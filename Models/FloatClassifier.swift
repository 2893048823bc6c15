// A float32 image classifier from a timm checkpoint: preprocessing + network + labels.
import Edgebone

/// Float32 EfficientNet ready to classify RGB images. One per thread of use.
public final class FloatClassifier {
    public let config: EfficientNetConfig
    public let network: FloatNetwork
    public let preprocessor: Preprocessor
    public let labels: [String]

    /// Loads `weights` (timm-named safetensors) as `config`.
    public convenience init(weights path: String, config: EfficientNetConfig, isa: ISA = .best, threads: Int = 1) throws {
        try self.init(checkpoint: try SafeTensorsFile(path: path), config: config, isa: isa, threads: threads)
    }

    /// Builds from an opened checkpoint (its mapping is released once the weights are copied).
    public init(checkpoint file: SafeTensorsFile, config: EfficientNetConfig, isa: ISA = .best, threads: Int = 1) throws {
        self.config = config
        network = FloatNetwork(graph: try config.floatGraph(checkpoint: file), isa: isa, threads: threads)
        preprocessor = Preprocessor(preset: config.preprocessing, isa: isa)
        labels = config.numClasses == imageNetLabels.count ? imageNetLabels : (0..<config.numClasses).map { "class \($0)" }
    }

}
