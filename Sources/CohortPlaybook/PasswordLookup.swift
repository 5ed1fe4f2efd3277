import CohortCore
import CohortTemplate
import Foundation

/// `lookup('password', 'PATH length=N chars=… seed=… encrypt=…')`, as ansible-core 2.19's:
/// the password kept in PATH on the coordinator (beside the playbook when relative), made
/// when the file is missing (folders 0700, the file 0600) and read when it is there, so every
/// host and every run gets the same one; `/dev/null` makes a new one each time, kept nowhere.
/// `seed=` draws as Python's `random.Random(seed)` draws, so a seeded password is the one
/// ansible-playbook makes.
public enum PasswordLookup {
    /// One lookup at a time reads, makes and writes a file: hosts evaluated at once share it.
    private static let lock = NSLock()
    static let parameters: Set<String> = ["length", "encrypt", "chars", "ident", "seed"]
    /// The longest password made: Python makes any length, slowly; this one refuses.
    static let maxLength = 1 << 20
    /// Python's `string` module, which `chars=` names are looked up in.
    static let named: [String: String] = [
        "ascii_letters": "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", "ascii_lowercase": "abcdefghijklmnopqrstuvwxyz",
        "ascii_uppercase": "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "digits": "0123456789", "hexdigits": "0123456789abcdefABCDEF",
        "octdigits": "01234567", "punctuation": "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~", "whitespace": " \t\n\r\u{0B}\u{0C}",
        "printable": "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~ \t\n\r\u{0B}\u{0C}",
    ]

    public static func run(_ terms: [Value], _ kwargs: [String: Value], playbookDirectory: String) throws(TemplateError) -> Value {
        var out: [Value] = []
        for term in terms { out.append(.string(try password(term.pythonString, kwargs, playbookDirectory))) }
        return .list(out)
    }

    static func password(_ term: String, _ kwargs: [String: Value], _ base: String) throws(TemplateError) -> String {
        var relpath = term
        var options = kwargs.filter { parameters.contains($0.key) }
        if let space = term.firstIndex(of: " ") {
            relpath = String(term[..<space])
            let pairs: [(String, Value)]
            do {
                pairs = try KeyValueArguments.parse(
                    String(term[term.index(after: space)...]), freeForm: false, known: [], at: Location(file: "lookup('password')", line: 0, column: 0))
            } catch { throw TemplateError(error.message) }
            for (key, value) in pairs {
                if key == "_raw_params" {
                    // Spaces in the path.
                    relpath += " " + value.pythonString
                    guard term.hasPrefix(relpath) else { throw TemplateError("Unrecognized value after key=value parameters given to password lookup") }
                } else {
                    options[key] = value
                }
            }
            let invalid = Set(pairs.map(\.0)).subtracting(parameters).subtracting(["_raw_params"])
            if !invalid.isEmpty { throw TemplateError("Unrecognized parameter(s) given to password lookup: \(invalid.sorted().joined(separator: ", "))") }
        }
        if let ident = options["ident"], ident != .none { throw TemplateError("ident= of lookup('password') is not supported by cohort play yet") }
        let length = try Self.length(options["length"])
        let chars = try candidates(options["chars"])
        let encrypt = options["encrypt"].flatMap { $0 == .none ? nil : $0.pythonString }
        if let encrypt, !["sha512_crypt", "sha256_crypt"].contains(encrypt) {
            throw TemplateError("encrypt=\(encrypt) of lookup('password') is not supported by cohort play yet (sha512_crypt, sha256_crypt)")
        }
        var seeded: PythonRandom?
        if let seed = options["seed"], seed != .none { seeded = try PythonRandom(value: seed) }
        let path = relpath.hasPrefix("/") ? relpath : base + "/" + relpath
        let discard = path == "/dev/null"

        lock.lock()
        defer { lock.unlock() }
        var plaintext: String
        var salt: String?
        var changed = false
        if !discard, let data = FileManager.default.contents(atPath: path) {
            var bytes = Array(data)
            while let last = bytes.last, [9, 10, 11, 12, 13, 32].contains(last) { bytes.removeLast() }
            (plaintext, salt) = parse(String(decoding: bytes, as: UTF8.self))
        } else {
            var generator = SystemRandomNumberGenerator()
            plaintext = String((0..<length).map { _ in
                let n = UInt64(chars.count)
                return chars[Int(seeded != nil ? seeded!.below(n) : generator.next(upperBound: n))]
            })
            changed = true
        }
        if encrypt != nil, salt == nil {
            changed = true
            let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789./")
            var generator = SystemRandomNumberGenerator()
            salt = String((0..<16).map { _ in alphabet[Int(generator.next(upperBound: UInt64(alphabet.count)))] })
        }
        if changed, !discard {
            let content = salt.map { "\(plaintext) salt=\($0)" } ?? plaintext
            try write(content + "\n", to: path)
        }
        guard let encrypt else { return plaintext }
        return try PasswordHash.filter(.string(plaintext), [.string(encrypt)], ["salt": .string(salt ?? "")]).pythonString
    }

    static func length(_ value: Value?) throws(TemplateError) -> Int {
        guard let value, value != .none else { return 20 }
        let number: Int? = switch value {
            case .int(let n): n
            case .string(let text): Int(text.trimmingCharacters(in: .whitespaces))
            default: nil
            }
        guard let number else { throw TemplateError("length of lookup('password') must be an integer, not '\(value.pythonString)'") }
        guard number >= 0, number <= maxLength else { throw TemplateError("length of lookup('password') must be from 0 to \(maxLength), not \(number)") }
        return number
    }

    /// `chars=`: names from Python's `string` module or literal characters, comma-separated
    /// (`,,` is a comma); quotes are never used.
    static func candidates(_ value: Value?) throws(TemplateError) -> [Character] {
        var specs: [String]
        switch value {
        case nil, .none?: specs = ["ascii_letters", "digits", ".,:-_"]
        case .list(let items)?: specs = items.map(\.pythonString)
        case .string(let text)?:
            specs = text.contains(",,") ? [","] : []
            specs += text.replacing(",,", with: ",").split(separator: ",").map(String.init)
        case let other?: specs = [other.pythonString]
        }
        let chars = Array(specs.map { named[$0] ?? $0 }.joined().filter { $0 != "\"" && $0 != "'" })
        guard !chars.isEmpty else { throw TemplateError("chars of lookup('password') leaves no character to choose from") }
        return chars
    }

    /// `PASSWORD salt=SALT` (an `ident=` after it is not supported, refused above).
    static func parse(_ content: String) -> (String, String?) {
        guard let range = content.range(of: " salt=", options: .backwards) else { return (content, nil) }
        let rest = String(content[range.upperBound...])
        return (String(content[..<range.lowerBound]), rest.isEmpty ? nil : rest)
    }

    static func write(_ content: String, to path: String) throws(TemplateError) {
        let folder = (path as NSString).deletingLastPathComponent
        do {
            if !folder.isEmpty { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700]) }
        } catch { throw TemplateError("lookup('password'): cannot make \(folder): \(error.localizedDescription)") }
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw TemplateError("lookup('password'): cannot write \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        fchmod(fd, 0o600)
        let bytes = Array(content.utf8)
        guard bytes.withUnsafeBytes({ Glibc.write(fd, $0.baseAddress, $0.count) }) == bytes.count else {
            throw TemplateError("lookup('password'): cannot write \(path): \(String(cString: strerror(errno)))")
        }
    }
}
