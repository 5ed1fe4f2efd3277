/// Text from inventories and hosts (host names, users, inputs) shown on a terminal or written
/// into a line-based file: control characters are escaped (`\n`, `\t`, `\r`, `\x1b`, ...), so
/// that a name cannot forge an output line, move the cursor or split a joblog column.
public enum Printable {
    public static func escaped(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: isControl) else { return text }
        var out = ""
        for scalar in text.unicodeScalars {
            guard isControl(scalar) else {
                out.unicodeScalars.append(scalar)
                continue
            }
            if (0x10FF80...0x10FFFF).contains(scalar.value) {
                // A byte of a file name that is not UTF-8 (CohortWire's `OSName`): shown as that byte.
                out += "\\x" + String(scalar.value - 0x10FF00, radix: 16)
                continue
            }
            switch scalar {
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                let hex = String(scalar.value, radix: 16)
                out += scalar.value < 0x100 ? "\\x" + (hex.count < 2 ? "0" + hex : hex) : "\\u{" + hex + "}"
            }
        }
        return out
    }

    /// For JSON, which carries any text but no bytes: only the bytes of a file name that are
    /// not UTF-8 are written as `\xNN`.
    public static func nameBytesEscaped(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { $0.value >= 0x10FF80 }) else { return text }
        var out = ""
        for scalar in text.unicodeScalars {
            if scalar.value >= 0x10FF80 { out += "\\x" + String(scalar.value - 0x10FF00, radix: 16) } else { out.unicodeScalars.append(scalar) }
        }
        return out
    }

    /// C0 and C1 controls, DEL, the Unicode line and paragraph separators, and the scalars
    /// that stand for bytes of a name that is not UTF-8.
    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7f...0x9f).contains(scalar.value) || scalar.value == 0x2028 || scalar.value == 0x2029
            || scalar.value >= 0x10FF80
    }
}
