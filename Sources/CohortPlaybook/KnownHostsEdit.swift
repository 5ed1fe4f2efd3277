import CohortTemplate
import Crypto
import Foundation

/// What ansible-core 2.19's `known_hosts` module decides from `ssh-keygen -F`'s answer and
/// the file's text: whether the host's key is there, different, or missing, on which line,
/// and the text it writes. Pure, so that its choices are tested on recorded answers.
public enum KnownHostsEdit {
    /// A key line as the module compares it: its marker (`@cert-authority`, `@revoke`), host
    /// field, type and key; any comment after them left out.
    public struct Entry: Equatable, Sendable {
        public var options: String?
        public var host: String
        public var type: String
        public var key: String
    }

    /// nil for a line with too few fields (Ansible's module fails on it).
    public static func normalize(_ line: String) -> Entry? {
        let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }).map(String.init)
        guard let first = fields.first else { return nil }
        if first.hasPrefix("@") {
            guard fields.count >= 4 else { return nil }
            return Entry(options: first, host: fields[1], type: fields[2], key: fields[3])
        }
        guard fields.count >= 3 else { return nil }
        return Entry(options: nil, host: fields[0], type: fields[1], key: fields[2])
    }

    public struct Search: Equatable, Sendable {
        /// The host is in the file.
        public var found: Bool
        /// The key given differs from the one there of its type, or there is none of its type.
        public var replaceOrAdd: Bool
        /// The line of the key of the same type (1-based).
        public var foundLine: Int?

        public init(found: Bool, replaceOrAdd: Bool, foundLine: Int?) {
            (self.found, self.replaceOrAdd, self.foundLine) = (found, replaceOrAdd, foundLine)
        }
    }

    public struct Failure: Error, Equatable {
        public let message: String
    }

    /// The module's `search_for_host_key` over `ssh-keygen -F HOST -f PATH`'s output, for a
    /// host that is there, given `key`.
    public static func search(keygenOutput: String, key: String) throws(Failure) -> Search {
        guard var wanted = normalize(key) else { throw Failure(message: "the key is not a known_hosts line: '\(key)'") }
        var foundLine: Int?
        for line in keygenOutput.split(separator: "\n", omittingEmptySubsequences: true).map(String.init) {
            if line.hasPrefix("#") {
                guard let range = line.range(of: #"found: line ([0-9]+)"#, options: .regularExpression),
                    let number = Int(line[range].split(separator: " ").last ?? "")
                else { throw Failure(message: "failed to parse output of ssh-keygen for line number: '\(line)'") }
                foundLine = number
                continue
            }
            guard let found = normalize(line) else { continue }
            if let options = found.options, options.hasPrefix("@cert-authority") || options.hasPrefix("@revoke") {
                if wanted == found { return Search(found: true, replaceOrAdd: false, foundLine: foundLine) }
                continue
            }
            // A hashed host field already there stays as it is.
            if wanted.host.hasPrefix("|1|"), found.host.hasPrefix("|1|") { wanted.host = found.host }
            if wanted == found { return Search(found: true, replaceOrAdd: false, foundLine: foundLine) }
            if wanted.type == found.type { return Search(found: true, replaceOrAdd: true, foundLine: foundLine) }
        }
        return Search(found: true, replaceOrAdd: true, foundLine: nil)
    }

    /// The file's text after the change (what `--diff` shows after, and what is written):
    /// the found line dropped when it is replaced or removed, the key appended when present.
    /// Lines keep their endings, so a last line without one runs into the key, as Ansible
    /// writes it.
    public static func after(_ before: String, _ search: Search, present: Bool, key: String?) -> String {
        var lines = before.split(separator: "\n", omittingEmptySubsequences: false).map { $0 + "\n" }
        if before.hasSuffix("\n") || before.isEmpty { lines.removeLast() } else { lines[lines.count - 1].removeLast() }
        if search.replaceOrAdd || !present, let line = search.foundLine, line >= 1, line <= lines.count { lines.remove(at: line - 1) }
        var text = lines.joined()
        if present, search.replaceOrAdd || search.foundLine == nil, let key { text += key }
        return text
    }

    /// `hash_host`: the key's host field as `|1|SALT|HMAC-SHA1(host)` (ssh's hashed form), the
    /// fields joined by one space.
    public static func hashed(host: String, key: String, salt: [UInt8]) -> String {
        var fields = key.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }).map(String.init)
        guard !fields.isEmpty else { return key }
        let index = fields[0].hasPrefix("@") ? 1 : 0
        guard index < fields.count else { return key }
        let mac = HMAC<Insecure.SHA1>.authenticationCode(for: Data(host.utf8), using: SymmetricKey(data: salt))
        fields[index] = "|1|\(Data(salt).base64EncodedString())|\(Data(mac).base64EncodedString())"
        return fields.joined(separator: " ")
    }

    /// Ansible's check that `name` is one host: `\S+(\s+)?,(\s+)?` found anywhere.
    public static func namesSeveralHosts(_ name: String) -> Bool {
        name.range(of: #"[^\s]+\s*,"#, options: .regularExpression) != nil
    }
}
