// swift-tools-version: 6.0
// Coverage-guided fuzzing of Edgebone's input parsers with libFuzzer (Swift's -sanitize=fuzzer), kept
// apart from the main package because libFuzzer supplies `main`. Build and run: Fuzz/run.sh.
import PackageDescription

let package = Package(
    name: "EdgeboneFuzz",
    dependencies: [.package(path: "Edgebone")],  // a link to the repository root
    targets: [
        .executableTarget(
            name: "edgebone-fuzz",
            dependencies: [.product(name: "Edgebone", package: "Edgebone"), .product(name: "EdgeboneModels", package: "Edgebone")],
            path: "Sources"
        ),
    ],
    swiftLanguageModes: [.v5]
)
