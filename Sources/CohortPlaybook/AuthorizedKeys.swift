/// An authorized_keys file as ansible.posix's `authorized_key` module reads, edits and writes
/// it (its `parsekey`, `parseoptions`, `parsekeys`, `serialize` and `enforce_state`): keys
/// by their base64 body, each with its rank (line), type, options (an ordered multimap) and
/// comment; lines that hold no key kept as they are, identical ones collapsed as the module's
/// dictionary collapses them.
public enum AuthorizedKeys {
    public static let keyTypes: Set<String> = [
        "sk-ecdsa-sha2-nistp256@openssh.com", "sk-ecdsa-sha2-nistp256-cert-v01@openssh.com", "webauthn-sk-ecdsa-sha2-nistp256@openssh.com",
        "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp256-cert-v01@openssh.com", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp384-cert-v01@openssh.com",
        "ecdsa-sha2-nistp521", "ecdsa-sha2-nistp521-cert-v01@openssh.com", "sk-ssh-ed25519@openssh.com", "sk-ssh-ed25519-cert-v01@openssh.com",
        "ssh-ed25519", "ssh-ed25519-cert-v01@openssh.com", "ssh-dss", "ssh-rsa", "ssh-xmss@openssh.com", "ssh-xmss-cert-v01@openssh.com",
        "rsa-sha2-256", "rsa-sha2-512", "ssh-rsa-cert-v01@openssh.com", "rsa-sha2-256-cert-v01@openssh.com", "rsa-sha2-512-cert-v01@openssh.com",
        "ssh-dss-cert-v01@openssh.com",
    ]

    /// Options in the order written, a name possibly more than once (nil: a flag).
    public struct Options: Sendable, Equatable {
        public var items: [(String, String?)] = []
        /// Python's dict equality of the module's keydict: per name, its values in order.
        public static func == (a: Options, b: Options) -> Bool { a.grouped == b.grouped }
        var grouped: [String: [String?]] { Dictionary(grouping: items, by: \.0).mapValues { $0.map(\.1) } }
        public var text: String { items.map { $0.1 == nil ? $0.0 : "\($0.0)=\($0.1!)" }.joined(separator: ",") }
    }

    public struct Key: Sendable, Equatable {
        /// The key's body, or the whole line for one that holds no key.
        public var body: String
        /// The key's type, or nil for a line kept as it is.
        public var type: String?
        public var options: Options
        public var comment: String
        public var rank: Int
        var sameKey: [String] { [body, type ?? "", options.text, comment] }
    }

    /// `parseoptions`: `re.split(r'((?:[^,"']|"[^"]*"|'[^']*')+)', text)[1:-1]`, each run a
    /// `name=value` or a flag, and any separator but a lone comma a flag too.
    public static func options(_ text: String?) -> Options {
        guard let text, !text.isEmpty else { return Options() }
        let chars = Array(text)
        var pieces: [String] = [], i = 0, separator = ""
        var first = true
        while i < chars.count {
            var j = i
            while j < chars.count {
                let c = chars[j]
                if c != ",", c != "\"", c != "'" {
                    j += 1
                } else if c != ",", let close = chars[(j + 1)...].firstIndex(of: c) {
                    j = close + 1
                } else {
                    break
                }
            }
            if j == i {
                separator.append(chars[i])
                i += 1
                continue
            }
            if !first { pieces.append(separator) }
            first = false
            separator = ""
            pieces.append(String(chars[i..<j]))
            i = j
        }
        var out = Options()
        for piece in pieces {
            if let eq = piece.firstIndex(of: "=") {
                out.items.append((String(piece[..<eq]), String(piece[piece.index(after: eq)...])))
            } else if piece != "," {
                out.items.append((piece, nil))
            }
        }
        return out
    }

    /// `parsekey`: nil when no word is a key type.
    public static func parse(_ raw: String, rank: Int) -> Key? {
        let line = raw.replacing("\\#", with: "#")
        let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\n" }).map(String.init)
        if words.first == "#" { return Key(body: line, type: nil, options: Options(), comment: "", rank: rank) }
        guard let index = words.firstIndex(where: keyTypes.contains) else { return nil }
        let options = index > 0 ? words[..<index].joined(separator: " ") : nil
        guard index + 1 < words.count else { return nil }
        return Key(body: words[index + 1], type: words[index], options: Self.options(options), comment: words.dropFirst(index + 2).joined(separator: " "), rank: rank)
    }

    /// `parsekeys`: every line (with its end) by its key, or by itself when it holds none.
    public static func keys(_ text: String) -> [(String, Key)] {
        var order: [String] = [], table: [String: Key] = [:]
        for (rank, line) in linesKeepingEnds(text).enumerated() {
            let key = parse(line, rank: rank) ?? Key(body: line, type: nil, options: Options(), comment: "", rank: rank)
            if table[key.body] == nil { order.append(key.body) }
            table[key.body] = key
        }
        return order.map { ($0, table[$0]!) }
    }

    /// Python's `splitlines(True)` for the line ends a key file has.
    static func linesKeepingEnds(_ text: String) -> [String] {
        var out: [String] = [], current = ""
        for scalar in text.unicodeScalars {
            current.unicodeScalars.append(scalar)
            if scalar == "\n" || scalar == "\r" { out.append(current); current = "" }
        }
        if !current.isEmpty { out.append(current) }
        // "\r\n" is one end.
        var merged: [String] = []
        for piece in out {
            if piece == "\n", let last = merged.last, last.hasSuffix("\r") { merged[merged.count - 1] += "\n" } else { merged.append(piece) }
        }
        return merged
    }

    /// `serialize`: by rank; a key as `OPTIONS TYPE BODY COMMENT` (a space before an empty
    /// comment too, as the module writes it), a kept line as it was.
    public static func serialize(_ keys: [(String, Key)]) -> String {
        keys.map(\.1).sorted { $0.rank < $1.rank }.map { key in
            guard let type = key.type else { return key.body }
            let options = key.options.items.isEmpty ? "" : key.options.text + " "
            return "\(options)\(type) \(key.body) \(key.comment)\n"
        }.joined()
    }

    public enum EditError: Error, Equatable { case invalidKey(String) }

    /// `enforce_state`'s edit: the file's new text, or nil when nothing changes.
    public static func edit(existing: String, key: String, present: Bool, keyOptions: String?, comment: String?, exclusive: Bool) throws(EditError) -> String? {
        let wanted = key.split(omittingEmptySubsequences: true, whereSeparator: { $0 == "\n" || $0 == "\r" }).map(String.init).filter { !$0.hasPrefix("#") }
        var keys = Self.keys(existing)
        let maxRank = keys.count
        var keep: [String] = []
        var write = false
        for (rank, line) in wanted.enumerated() {
            guard var new = parse(line, rank: rank), new.type != nil else { throw .invalidKey(line) }
            if let keyOptions { new.options = options(keyOptions) }
            if let comment { new.comment = comment }
            var matched = false
            var replaced = false
            if let old = keys.first(where: { $0.0 == new.body })?.1 {
                if (old.body, old.type, old.options, old.comment) != (new.body, new.type, new.options, new.comment), present {
                    replaced = true
                } else {
                    matched = true
                }
            }
            if present {
                keep.append(new.body)
                if replaced {
                    keys.removeAll { $0.0 == new.body }
                    write = true
                }
                if !matched {
                    new.rank = maxRank + new.rank
                    keys.append((new.body, new))
                    write = true
                }
            } else if matched {
                keys.removeAll { $0.0 == new.body }
                write = true
            }
        }
        if present, exclusive {
            let before = keys.count
            keys.removeAll { !keep.contains($0.0) }
            if keys.count != before { write = true }
        }
        return write ? serialize(keys) : nil
    }
}
