// NumPy .npy (version 1.0, little-endian float32, C order): written by `classify --logits`, read by
// tests to compare against reference logits.
#if canImport(Glibc)
import Glibc
#endif

public enum NPY {
    /// The bytes of a float32 .npy array of `shape`.
    public static func encode(_ values: [Float], shape: [Int]) -> [UInt8] {
        precondition(shape.reduce(1, *) == values.count)
        let dims = shape.count == 1 ? "\(shape[0])," : shape.map(String.init).joined(separator: ", ")
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (\(dims)), }"
        // magic(6) + version(2) + length(2) + header, padded with spaces to 64 bytes, ends in \n.
        while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        var out: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0]
        let n = UInt16(header.utf8.count)
        out += [UInt8(n & 0xFF), UInt8(n >> 8)]
        out += Array(header.utf8)
        values.withUnsafeBytes { out += $0 }
        return out
    }

    /// Parses a float32 little-endian C-order .npy; nil if it is anything else.
    public static func decode(_ bytes: [UInt8]) -> (values: [Float], shape: [Int])? {
        guard bytes.count >= 10, bytes[0] == 0x93, Array(bytes[1..<6]) == Array("NUMPY".utf8) else { return nil }
        let major = bytes[6]
        let (lengthBytes, start) = major == 1 ? (2, 10) : (4, 12)
        guard bytes.count >= start else { return nil }
        var length = 0
        for i in 0..<lengthBytes { length |= Int(bytes[8 + i]) << (8 * i) }
        guard bytes.count >= start + length else { return nil }
        let header = String(decoding: bytes[start..<(start + length)], as: UTF8.self)
        guard header.contains("'descr': '<f4'"), header.contains("'fortran_order': False") else { return nil }
        let parts = header.split(separator: "(", maxSplits: 1)
        guard parts.count == 2, let close = parts[1].firstIndex(of: ")") else { return nil }
        let shape = parts[1][..<close].split(separator: ",").compactMap { Int($0.trimmingCharacters()) }
        let count = shape.reduce(1, *)
        guard bytes.count == start + length + count * 4 else { return nil }
        let values = bytes[(start + length)...].withUnsafeBytes { raw in
            (0..<count).map { raw.loadUnaligned(fromByteOffset: $0 * 4, as: Float.self) }
        }
        return (values, shape)
    }
}

extension Substring {
    func trimmingCharacters() -> String {
        String(self.drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}
