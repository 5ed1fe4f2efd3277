import CohortCore
import Foundation

/// One hop of a `ProxyJump` chain as written: `[user@]host[:port]` or
/// `ssh://[user@]host[:port]`, an IPv6 address in brackets.
public struct JumpHost: Sendable, Equatable, CustomStringConvertible {
    public var user: String?
    public var host: String
    public var port: Int?

    public init(user: String? = nil, host: String, port: Int? = nil) {
        self.user = user
        self.host = host
        self.port = port
    }

    public var description: String {
        let address = host.contains(":") ? "[\(host)]" : host
        return (user.map { "\($0)@" } ?? "") + address + (port.map { ":\($0)" } ?? "")
    }

    /// A comma-separated chain, first hop first; `none` is the empty chain (no bastion, which
    /// overrides a `ProxyJump` further down the config, as in ssh).
    public static func chain(_ text: String) throws(CohortError) -> [JumpHost] {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.lowercased() == "none" { return [] }
        var hops: [JumpHost] = []
        for part in trimmed.split(separator: ",", omittingEmptySubsequences: false) {
            hops.append(try hop(String(part).trimmingCharacters(in: .whitespaces), in: text))
        }
        return hops
    }

    private static func hop(_ raw: String, in whole: String) throws(CohortError) -> JumpHost {
        func bad(_ why: String) -> CohortError {
            CohortError(.invalidInput, "ProxyJump '\(Printable.escaped(whole))': \(why)")
        }
        var text = Substring(raw)
        if text.hasPrefix("ssh://") { text = text.dropFirst(6) }
        guard !text.isEmpty else { throw bad("an empty hop") }
        var user: String?
        if let at = text.lastIndex(of: "@") {
            user = String(text[..<at])
            text = text[text.index(after: at)...]
            guard !user!.isEmpty else { throw bad("an empty user name") }
        }
        var host: Substring
        var port: Int?
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw bad("an unclosed '['") }
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            if !rest.isEmpty {
                guard rest.hasPrefix(":") else { throw bad("'\(rest)' after the address") }
                port = try number(rest.dropFirst(), bad)
            }
        } else if let colon = text.firstIndex(of: ":") {
            host = text[..<colon]
            port = try number(text[text.index(after: colon)...], bad)
        } else {
            host = text
        }
        guard !host.isEmpty else { throw bad("no host name") }
        // A name that ssh would read as an option, or one with spaces or control characters,
        // is never a host: refused rather than passed on.
        guard !host.hasPrefix("-"), !(user?.hasPrefix("-") ?? false),
            (host.unicodeScalars + (user ?? "").unicodeScalars).allSatisfy({ $0.value > 32 && $0.value != 127 })
        else { throw bad("'\(Printable.escaped(raw))' is not a host name") }
        return JumpHost(user: user, host: String(host), port: port)
    }

    private static func number(_ text: Substring, _ bad: (String) -> CohortError) throws(CohortError) -> Int {
        guard let port = Int(text), (1...65535).contains(port) else { throw bad("'\(text)' is not a port number") }
        return port
    }
}
