/// Python's `codecs.escape_decode`: backslash escapes of a bytes literal (`\n`, `\t`, `\\`,
/// `\x41`, octal `\101`); an unknown escape stays as written; nil where Python raises (a
/// trailing backslash, `\x` without two hex digits).
public enum EscapeDecode {
    public static func bytes(_ input: [UInt8]) -> [UInt8]? {
        var out: [UInt8] = []
        var index = 0
        func hex(_ byte: UInt8) -> UInt8? {
            switch byte {
            case 48...57: byte - 48
            case 97...102: byte - 87
            case 65...70: byte - 55
            default: nil
            }
        }
        while index < input.count {
            let byte = input[index]
            guard byte == 92 else {
                out.append(byte)
                index += 1
                continue
            }
            guard index + 1 < input.count else { return nil }
            let next = input[index + 1]
            index += 2
            switch next {
            case 110: out.append(10)
            case 116: out.append(9)
            case 114: out.append(13)
            case 92: out.append(92)
            case 39: out.append(39)
            case 34: out.append(34)
            case 97: out.append(7)
            case 98: out.append(8)
            case 102: out.append(12)
            case 118: out.append(11)
            case 10: break
            case 120:
                if index + 1 < input.count, let high = hex(input[index]), let low = hex(input[index + 1]) {
                    out.append(high << 4 | low)
                    index += 2
                } else {
                    return nil
                }
            case 48...55:
                var value = Int(next - 48)
                var digits = 1
                while digits < 3, index < input.count, (48...55).contains(input[index]) {
                    value = value * 8 + Int(input[index] - 48)
                    index += 1
                    digits += 1
                }
                out.append(UInt8(truncatingIfNeeded: value))
            default: out += [92, next]
            }
        }
        return out
    }
}
