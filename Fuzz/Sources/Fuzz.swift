// One libFuzzer entry point for every parser that reads outside input; EDGEBONE_FUZZ_TARGET picks it:
//   model       a model file or float checkpoint: safetensors header, metadata, graph validation, the
//               planner and binder, then one run of the network
//   y4m         a Y4M stream, every frame converted
//   mjpeg       an MJPEG stream split and decoded frame by frame
//   image       a PNG or JPEG through the libpng / libjpeg-turbo wrappers
// Inputs go through a file in /dev/shm because the loaders read paths, as the commands do. A thrown
// error is a correct answer; a crash, a sanitizer report or a timeout is a finding.
import Edgebone
import EdgeboneModels
#if canImport(Glibc)
import Glibc
#endif

enum Target: String { case model, y4m, mjpeg, image }

let target: Target = {
    guard let name = getenv("EDGEBONE_FUZZ_TARGET").map({ String(cString: $0) }), let t = Target(rawValue: name) else {
        fputs("set EDGEBONE_FUZZ_TARGET to model, y4m, mjpeg or image\n", stderr)
        exit(2)
    }
    // Small budgets: a finding should be a crash, not a slow allocation.
    MemoryBudget.set(mebibytes: 64)
    return t
}()

let scratch = "/dev/shm/edgebone-fuzz-\(getpid())"
let image = RGBImage(width: 1, height: 1)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let path = scratch + (target == .y4m ? ".y4m" : target == .mjpeg ? ".mjpeg" : target == .image ? ".img" : ".safetensors")
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    guard fd >= 0 else { return 0 }
    _ = write(fd, data, size)
    close(fd)
    defer { unlink(path) }
    switch target {
    case .model:
        if let classifier = try? loadClassifier(path: path, isa: .scalar) {
            _ = classifier.runCropped()
        }
    case .y4m, .mjpeg:
        guard let source = try? openFrameSource(path, loop: false) else { return 0 }
        for _ in 0..<64 {
            guard let r = try? source.next(into: image), r != .end else { break }
        }
    case .image:
        let bytes = UnsafeRawBufferPointer(start: data, count: size)
        _ = try? ImageDecoder.decode(bytes, name: "fuzz", into: image)
    }
    return 0
}

// SwiftPM links an executable's entry point as `<module>_main`; this one hands control to libFuzzer's
// driver (its own `main` is then not linked in).
@_silgen_name("LLVMFuzzerRunDriver")
func runDriver(_ argc: UnsafeMutablePointer<Int32>,
               _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
               _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> Int32) -> Int32

@_cdecl("edgebone_fuzz_main")
public func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    var count = argc
    var vector = argv
    return runDriver(&count, &vector, fuzzOne)
}
