import Edgebone

extension Fixtures {
    /// A copy of the safetensors file at `source` with its tensors and metadata edited, written to a
    /// scratch folder as NAME.safetensors: how tests make corrupt and crafted files.
    public static func rewritten(_ source: String, as name: String,
                                 _ edit: (inout [String: (DType, [Int], [UInt8])], inout [String: String]) -> Void) throws -> String {
        let f = try SafeTensorsFile(path: source)
        var tensors: [String: (DType, [Int], [UInt8])] = [:]
        for n in f.names { let t = f.tensors[n]!; tensors[n] = (t.dtype, t.shape, Array(f.bytes(t))) }
        var meta = f.metadata
        edit(&tensors, &meta)
        var w = SafeTensorsWriter()
        for (n, t) in tensors { w.add(n, dtype: t.0, shape: t.1, bytes: t.2) }
        w.metadata = meta
        let p = scratchDirectory() + "/\(name).safetensors"
        try w.write(to: p)
        return p
    }
}
