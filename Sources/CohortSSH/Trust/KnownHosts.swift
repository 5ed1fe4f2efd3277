import CohortCore
import Crypto
import Foundation

/// OpenSSH `known_hosts` contents, parsed and matched the way `ssh` does it.
///
/// Pure: no file or network access, so every matching rule is unit-tested. Plain and
/// hashed (`|1|salt|hash`) host fields, `[host]:port` for non-22 ports, wildcards,
/// negated patterns and `@revoked` lines are understood; `@cert-authority` lines are
/// kept but never match (Cohort does not verify host certificates).
public struct KnownHosts: Sendable {
    public enum Marker: Sendable, Equatable { case revoked, certAuthority }

    public struct Entry: Sendable {
        public var marker: Marker?
        public var hostField: String
        public var key: HostKey
        public var line: Int
    }

    public enum Verdict: Sendable, Equatable {
        /// The key is recorded for this host.
        case known(line: Int)
        /// A different key of the same type is recorded: refuse, always.
        case changed(line: Int, recorded: String)
        /// The key is marked `@revoked`.
        case revoked(line: Int)
        /// Nothing of this type is recorded; `otherTypes` lists types that are.
        case unknown(otherTypes: [String])
    }

    public var entries: [Entry]
    public let file: String

    public init(parsing text: String, file: String) {
        self.file = file
        var entries: [Entry] = []
        for (index, raw) in TextLines.split(text).enumerated() {
            var fields = raw.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard let first = fields.first, !first.hasPrefix("#") else { continue }
            var marker: Marker?
            if first == "@revoked" || first == "@cert-authority" {
                marker = first == "@revoked" ? .revoked : .certAuthority
                fields.removeFirst()
            }
            // A malformed line is skipped, as ssh does, rather than failing every connection.
            guard fields.count >= 3, let data = Data(base64Encoded: fields[2]),
                let key = HostKey(blob: Array(data)), key.type == fields[1]
            else { continue }
            entries.append(Entry(marker: marker, hostField: fields[0], key: key, line: index + 1))
        }
        self.entries = entries
    }

    /// The name ssh records: `host` on port 22, `[host]:port` otherwise.
    public static func hostName(_ host: String, port: Int) -> String {
        port == 22 ? host : "[\(host)]:\(port)"
    }

    public func verdict(for key: HostKey, host: String, port: Int) -> Verdict {
        let name = Self.hostName(host, port: port)
        let matching = entries.filter { Self.matches($0.hostField, name: name) }
        if let revoked = matching.first(where: { $0.marker == .revoked && $0.key == key }) {
            return .revoked(line: revoked.line)
        }
        let plain = matching.filter { $0.marker == nil }
        if let hit = plain.first(where: { $0.key == key }) { return .known(line: hit.line) }
        if let other = plain.first(where: { $0.key.type == key.type }) {
            return .changed(line: other.line, recorded: other.key.sha256Fingerprint)
        }
        var types: [String] = []
        for entry in plain where !types.contains(entry.key.type) { types.append(entry.key.type) }
        return .unknown(otherTypes: types)
    }

    /// Key types already recorded for the host, in file order, to prefer in key exchange.
    public func knownTypes(host: String, port: Int) -> [String] {
        let name = Self.hostName(host, port: port)
        var types: [String] = []
        for entry in entries where entry.marker == nil && Self.matches(entry.hostField, name: name) {
            if !types.contains(entry.key.type) { types.append(entry.key.type) }
        }
        return types
    }

    /// The line `--accept-new-host-keys` appends.
    public static func line(host: String, port: Int, key: HostKey) -> String {
        "\(hostName(host, port: port)) \(key.type) \(key.base64)"
    }

    static func matches(_ field: String, name: String) -> Bool {
        if field.hasPrefix("|1|") { return hashedMatch(field, name: name) }
        var matched = false
        for pattern in field.split(separator: ",") {
            if pattern.hasPrefix("!") {
                if Glob.matches(String(pattern.dropFirst()), name.lowercased()) { return false }
            } else if Glob.matches(pattern.lowercased(), name.lowercased()) {
                matched = true
            }
        }
        return matched
    }

    private static func hashedMatch(_ field: String, name: String) -> Bool {
        let parts = field.split(separator: "|", omittingEmptySubsequences: false)
        guard parts.count == 4, let salt = Data(base64Encoded: String(parts[2])),
            let expected = Data(base64Encoded: String(parts[3]))
        else { return false }
        let mac = HMAC<Insecure.SHA1>.authenticationCode(for: Data(name.utf8), using: SymmetricKey(data: salt))
        return Data(mac) == expected
    }
}

/// `*` and `?` wildcards as ssh uses them in known_hosts and ssh_config.
public enum Glob {
    public static func matches(_ pattern: some StringProtocol, _ text: some StringProtocol) -> Bool {
        let p = Array(pattern.utf8)
        let t = Array(text.utf8)
        var pi = 0, ti = 0, star = -1, mark = 0
        while ti < t.count {
            if pi < p.count, p[pi] == UInt8(ascii: "?") || p[pi] == t[ti] {
                pi += 1
                ti += 1
            } else if pi < p.count, p[pi] == UInt8(ascii: "*") {
                star = pi
                mark = ti
                pi += 1
            } else if star >= 0 {
                pi = star + 1
                mark += 1
                ti = mark
            } else {
                return false
            }
        }
        while pi < p.count, p[pi] == UInt8(ascii: "*") { pi += 1 }
        return pi == p.count
    }
}
