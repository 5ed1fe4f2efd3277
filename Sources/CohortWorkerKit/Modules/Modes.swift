import CohortWire

#if canImport(Glibc)
import Glibc
#endif

/// File modes as Ansible's `mode:` takes them: an integer (YAML's `0644` is already 420), an
/// octal string (`'0644'`, `'644'`), or symbolic (`u+rwx,g-w,o=r`, `a+X`).
enum Modes {
    static func octal(_ mode: mode_t) -> String {
        var digits = String(mode, radix: 8)
        while digits.count < 4 { digits = "0" + digits }
        return digits
    }

    /// The mode to set, from `current`; nil when none was asked for.
    static func resolve(_ mode: FsMode?, current: mode_t, isDirectory: Bool) throws(HostFiles.Failure) -> mode_t? {
        switch mode {
        case nil: return nil
        case .number(let n)?:
            guard (0...0o7777).contains(n) else { throw HostFiles.Failure(message: "mode \(n) is out of range") }
            return mode_t(n)
        case .text(let text)?:
            if let n = mode_t(text, radix: 8), text.allSatisfy({ ("0"..."7").contains($0) }) {
                guard n <= 0o7777 else { throw HostFiles.Failure(message: "mode \(text) is out of range") }
                return n
            }
            return try symbolic(text, current: current, isDirectory: isDirectory)
        case .unsupported(let typeName)?:
            throw HostFiles.Failure(message: "mode must be an octal number or a symbolic mode, not \(typeName)")
        }
    }

    /// `chmod`'s symbolic form, clause by clause.
    static func symbolic(_ text: String, current: mode_t, isDirectory: Bool) throws(HostFiles.Failure) -> mode_t {
        var mode = current
        for clause in text.split(separator: ",") {
            var chars = Array(clause)[...]
            var who: mode_t = 0
            while let c = chars.first, "ugoa".contains(c) {
                switch c {
                case "u": who |= 0o4700
                case "g": who |= 0o2070
                case "o": who |= 0o1007
                default: who |= 0o7777
                }
                chars.removeFirst()
            }
            if who == 0 { who = 0o7777 }
            guard !chars.isEmpty else { throw HostFiles.Failure(message: "bad symbolic mode '\(text)'") }
            while let op = chars.popFirst() {
                guard "+-=".contains(op) else { throw HostFiles.Failure(message: "bad symbolic mode '\(text)'") }
                var bits: mode_t = 0
                while let p = chars.first, !"+-=".contains(p) {
                    switch p {
                    case "r": bits |= 0o444
                    case "w": bits |= 0o222
                    case "x": bits |= 0o111
                    case "X": if isDirectory || current & 0o111 != 0 { bits |= 0o111 }
                    case "s": bits |= 0o6000
                    case "t": bits |= 0o1000
                    case "u": bits |= (current & 0o700) >> 0 | (current & 0o700) >> 3 | (current & 0o700) >> 6
                    case "g": bits |= (current & 0o070) << 3 | (current & 0o070) | (current & 0o070) >> 3
                    case "o": bits |= (current & 0o007) << 6 | (current & 0o007) << 3 | (current & 0o007)
                    default: throw HostFiles.Failure(message: "bad symbolic mode '\(text)'")
                    }
                    chars.removeFirst()
                }
                let affected = bits & who
                switch op {
                case "+": mode |= affected
                case "-": mode &= ~affected
                default: mode = (mode & ~who) | affected
                }
            }
        }
        return mode & 0o7777
    }
}
