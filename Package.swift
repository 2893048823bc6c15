// swift-tools-version: 6.0
// Edgebone: int8 image backbones on small CPU boards. Targets follow STYLE.md §1:
// CEdgeboneKernels ← Edgebone ← EdgeboneModels ← (EdgeboneQuantize) ← edgebone; EdgeboneMQTT ← edgebone.
import PackageDescription

let package = Package(
    name: "Edgebone",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "Edgebone", targets: ["Edgebone"]),
        .library(name: "EdgeboneModels", targets: ["EdgeboneModels"]),
        .library(name: "EdgeboneQuantize", targets: ["EdgeboneQuantize"]),
        .executable(name: "edgebone", targets: ["edgebone"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.1.0"),
    ],
    targets: [
        // SIMD micro-kernels and the CPU probe; no allocation, no I/O.
        .target(
            name: "CEdgeboneKernels",
            cSettings: [.unsafeFlags(["-O3", "-fno-math-errno"])]
        ),
        // OpenBLAS: cblas_sgemm for the float path (Debian: libopenblas-dev).
        .systemLibrary(
            name: "COpenBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]
        ),
        // Thin system shims: libjpeg-turbo / libpng decoding (setjmp error handling lives in C).
        .target(
            name: "CEdgeboneSystem",
            linkerSettings: [.linkedLibrary("jpeg"), .linkedLibrary("png16")]
        ),
        .target(
            name: "Edgebone",
            dependencies: ["CEdgeboneKernels", "COpenBLAS", "CEdgeboneSystem"]
        ),
        // libmosquitto, the reference MQTT client (Debian: libmosquitto-dev), for `run --mqtt`.
        .systemLibrary(
            name: "CMosquitto",
            pkgConfig: "libmosquitto",
            providers: [.apt(["libmosquitto-dev"])]
        ),
        // Publishing results to an MQTT broker from a thread of its own, through a bounded queue.
        .target(name: "EdgeboneMQTT", dependencies: ["CMosquitto"]),
        .target(
            name: "EdgeboneModels",
            dependencies: ["Edgebone"],
            path: "Models",
            exclude: ["tools", "generated", "efficientnet_lite0.int8.safetensors", "efficientnet_lite0.int8.report.json",
                      "NOTICE-efficientnet-lite0.txt", "sample.y4m"]
        ),
        .target(
            name: "EdgeboneQuantize",
            dependencies: ["Edgebone", "EdgeboneModels", "CEdgeboneKernels"],
            path: "Quantize"
        ),
        .executableTarget(
            name: "edgebone",
            dependencies: [
                "Edgebone", "EdgeboneModels", "EdgeboneQuantize", "EdgeboneMQTT", "CEdgeboneSystem",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ],
            exclude: ["systemd"]
        ),
        .testTarget(name: "CEdgeboneKernelsTests", dependencies: ["CEdgeboneKernels"]),
        .testTarget(name: "EdgeboneTests", dependencies: ["Edgebone", "EdgeboneTestSupport", "CEdgeboneTestSupport"]),
        .testTarget(name: "EdgeboneModelsTests", dependencies: ["EdgeboneModels", "Edgebone", "EdgeboneQuantize", "EdgeboneTestSupport"]),
        // Fixture paths and file editing shared by the test targets.
        .target(name: "EdgeboneTestSupport", dependencies: ["Edgebone"], path: "Tests/EdgeboneTestSupport"),
        // Allocation counting for the zero-allocation tests (interposes malloc in the test process).
        .target(name: "CEdgeboneTestSupport", path: "Tests/CEdgeboneTestSupport"),
        .testTarget(name: "EdgeboneQuantizeTests", dependencies: ["EdgeboneQuantize", "EdgeboneModels", "Edgebone", "CEdgeboneTestSupport", "EdgeboneTestSupport"]),
        .testTarget(name: "EdgeboneMQTTTests", dependencies: ["EdgeboneMQTT"]),
        // Runs the built `edgebone` binary as a user would.
        .testTarget(name: "edgeboneTests", dependencies: ["edgebone", "Edgebone", "EdgeboneTestSupport"]),
    ],
    swiftLanguageModes: [.v5]
)
