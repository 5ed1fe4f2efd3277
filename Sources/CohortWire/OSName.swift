#if canImport(Glibc)
import Glibc
#endif

/// File names as Linux has them: any bytes but `/` and NUL, not necessarily UTF-8. Swift's
/// `String` would repair invalid UTF-8 (and so rename the file), so a name read from the OS
/// is decoded losslessly instead: each byte that is not part of valid UTF-8 becomes one
/// scalar of U+10FF80…U+10FFFF (private use), as Python's `surrogateescape` does with lone
/// surrogates, which Swift strings cannot hold. Valid UTF-8 for a scalar of that range is
/// escaped byte by byte too, so that `bytes(string(b)) == b` for every `b`.
public enum OSName {
    static let escapes: ClosedRange<UInt32> = 0x10FF80...0x10FFFF

    /// The name of these bytes, lossless.
    public static func string<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        if let valid = String(validating: bytes, as: UTF8.self), !valid.unicodeScalars.contains(where: { escapes.contains($0.value) }) {
            return valid
        }
        let raw = Array(bytes)
        var out = String.UnicodeScalarView()
        var i = 0
        while i < raw.count {
            let length = sequenceLength(raw, at: i)
            if length > 0, let scalar = decode(raw[i..<i + length]), !escapes.contains(scalar.value) {
                out.append(scalar)
                i += length
            } else {
                out.append(Unicode.Scalar(0x10FF00 + UInt32(raw[i]))!)
                i += 1
            }
        }
        return String(out)
    }

    /// The bytes a name stands for: the inverse of `string(_:)`.
    public static func bytes(_ name: String) -> [UInt8] {
        guard name.unicodeScalars.contains(where: { escapes.contains($0.value) }) else { return Array(name.utf8) }
        var out: [UInt8] = []
        out.reserveCapacity(name.utf8.count)
        for scalar in name.unicodeScalars {
            if escapes.contains(scalar.value) {
                out.append(UInt8(scalar.value - 0x10FF00))
            } else {
                out.append(contentsOf: String(scalar).utf8)
            }
        }
        return out
    }

    /// Calls `body` with the NUL-terminated bytes of `name`, for a system call.
    public static func withPath<R>(_ name: String, _ body: (UnsafePointer<CChar>) throws -> R) rethrows -> R {
        var raw = bytes(name)
        raw.append(0)
        return try raw.withUnsafeBufferPointer { buffer in
            try buffer.withMemoryRebound(to: CChar.self) { try body($0.baseAddress!) }
        }
    }

    /// The length of the well-formed UTF-8 sequence starting at `i`, or 0.
    private static func sequenceLength(_ raw: [UInt8], at i: Int) -> Int {
        let lead = raw[i]
        let length: Int
        switch lead {
        case 0x00...0x7F: return 1
        case 0xC2...0xDF: length = 2
        case 0xE0...0xEF: length = 3
        case 0xF0...0xF4: length = 4
        default: return 0
        }
        guard i + length <= raw.count else { return 0 }
        return raw[(i + 1)..<(i + length)].allSatisfy { $0 & 0xC0 == 0x80 } ? length : 0
    }

    /// The scalar of one sequence, or nil for overlong forms, surrogates and values past U+10FFFF.
    private static func decode(_ sequence: ArraySlice<UInt8>) -> Unicode.Scalar? {
        String(validating: sequence, as: UTF8.self)?.unicodeScalars.first
    }
}
