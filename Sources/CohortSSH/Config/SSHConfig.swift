import CohortCore
import Foundation

/// An OpenSSH client config (`~/.ssh/config`, or `-F FILE`), resolved per host the way
/// `ssh -G` does: the first value obtained for an option wins, `IdentityFile` accumulates.
///
/// Options that change where Cohort connects or what it trusts and that it cannot honour
/// (ProxyCommand, Ciphers, ...) are an error for the hosts they apply to, never
/// silently ignored. Options with no bearing on a non-interactive exec (ForwardX11,
/// ControlMaster, ServerAliveInterval, ...) are accepted and have no effect.
public struct SSHConfig: Sendable {
    struct Block: Sendable {
        /// nil for options before the first Host line (they apply to every host).
        var patterns: [String]?
        var options: [(key: String, value: [String], line: Int)]
        var file: String
    }

    var blocks: [Block]

    public static let empty = SSHConfig(blocks: [])

    init(blocks: [Block]) { self.blocks = blocks }

    /// OpenSSH's limit on nested `Include`s (READCONF_MAX_DEPTH): a file that includes itself
    /// is an error, not an endless recursion.
    static let maxIncludeDepth = 16

    public init(parsing text: String, file: String, includeLoader: ((String) throws -> [(String, String)])? = nil) throws {
        var ignoreUnknown: [String] = []
        try self.init(parsing: text, file: file, includeLoader: includeLoader, depth: 0, ignoreUnknown: &ignoreUnknown)
    }

    /// `ignoreUnknown` carries `IgnoreUnknown` patterns into included files and on to the lines
    /// after them: as in ssh, an unknown option is ignored only if a pattern seen before it matches.
    init(
        parsing text: String, file: String, includeLoader: ((String) throws -> [(String, String)])?, depth: Int,
        ignoreUnknown: inout [String]
    ) throws {
        var blocks = [Block(patterns: nil, options: [], file: file)]
        for (index, raw) in TextLines.split(text).enumerated() {
            let lineNumber = index + 1
            let words = try Self.split(String(raw), file: file, line: lineNumber)
            guard let keyword = words.first?.lowercased() else { continue }
            let args = Array(words.dropFirst())
            switch keyword {
            case "host":
                guard !args.isEmpty else {
                    throw CohortError(.invalidInput, "Host needs at least one pattern", file: file, line: lineNumber)
                }
                blocks.append(Block(patterns: args, options: [], file: file))
            case "match":
                // `Match all` is the one form evaluated without running anything; others are refused.
                guard args.map({ $0.lowercased() }) == ["all"] else {
                    throw CohortError(
                        .invalidInput, "Match \(args.joined(separator: " ")): only 'Match all' is supported",
                        file: file, line: lineNumber)
                }
                blocks.append(Block(patterns: ["*"], options: [], file: file))
            case "ignoreunknown":
                guard !args.isEmpty else {
                    throw CohortError(.invalidInput, "IgnoreUnknown needs a pattern list", file: file, line: lineNumber)
                }
                if ignoreUnknown.isEmpty { ignoreUnknown = args.joined(separator: ",").split(separator: ",").map(String.init) }
            case "include":
                guard let includeLoader else { continue }
                guard depth < Self.maxIncludeDepth else {
                    throw CohortError(
                        .invalidInput, "Include nested more than \(Self.maxIncludeDepth) deep (does a file include itself?)",
                        file: file, line: lineNumber)
                }
                for pattern in args {
                    for (includedFile, includedText) in try includeLoader(pattern) {
                        let included = try SSHConfig(
                            parsing: includedText, file: includedFile, includeLoader: includeLoader, depth: depth + 1,
                            ignoreUnknown: &ignoreUnknown)
                        // Included options belong to the enclosing Host block, as in ssh.
                        for block in included.blocks {
                            if block.patterns == nil {
                                blocks[blocks.count - 1].options += block.options
                            } else {
                                blocks.append(block)
                            }
                        }
                    }
                }
            default:
                guard !args.isEmpty else {
                    throw CohortError(.invalidInput, "\(words[0]) needs a value", file: file, line: lineNumber)
                }
                guard Self.honoured.contains(keyword) || Self.noEffect.contains(keyword) || Self.refused.contains(keyword)
                else {
                    if SSHConfig.hostMatches(ignoreUnknown, keyword) { continue }
                    throw CohortError(.invalidInput, "unknown ssh_config option '\(words[0])'", file: file, line: lineNumber)
                }
                blocks[blocks.count - 1].options.append((keyword, args, lineNumber))
            }
        }
        self.blocks = blocks
    }

    /// `first`'s options ahead of this config's: they win, as ssh's `-o` flags win over its files.
    public func prepending(_ first: SSHConfig) -> SSHConfig {
        SSHConfig(blocks: first.blocks + blocks)
    }

    /// Loads `path`, resolving `Include` relative to `~/.ssh`. A missing default file is empty.
    public static func load(_ path: String) throws -> SSHConfig {
        guard FileManager.default.fileExists(atPath: path) else { return .empty }
        let sshDir = (NSHomeDirectory() as NSString).appendingPathComponent(".ssh")
        func read(_ path: String) throws -> String {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
                throw CohortError(.invalidInput, "ssh config is a directory, not a file", file: path)
            }
            guard let data = FileManager.default.contents(atPath: path) else {
                throw CohortError(.invalidInput, "cannot read ssh config (\(String(cString: strerror(errno))))", file: path)
            }
            guard !data.contains(0), let text = String(data: data, encoding: .utf8) else {
                throw CohortError(.invalidInput, "ssh config is not a text file", file: path)
            }
            return text
        }
        let text = try read(path)
        return try SSHConfig(parsing: text, file: path) { pattern in
            var full = (pattern as NSString).expandingTildeInPath
            if !full.hasPrefix("/") { full = (sshDir as NSString).appendingPathComponent(full) }
            let dir = (full as NSString).deletingLastPathComponent
            let name = (full as NSString).lastPathComponent
            let files = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [])
                .filter { Glob.matches(name, $0) }.sorted()
            return try files.map { file in
                let filePath = (dir as NSString).appendingPathComponent(file)
                return (filePath, try read(filePath))
            }
        }
    }

    public struct Resolved: Sendable, Equatable {
        public var hostName: String?
        public var user: String?
        public var port: Int?
        public var identityFiles: [String] = []
        public var identitiesOnly: Bool?
        public var userKnownHostsFile: String?
        public var strictHostKeyChecking: String?
        public var connectTimeout: Int?
        /// `IdentityAgent`: `none`, `SSH_AUTH_SOCK`, `$VARIABLE` or a socket path (expanded).
        public var identityAgent: String?
        /// `ProxyJump`: the bastions, first hop first; `[]` for `none`, nil when not set.
        public var proxyJump: [JumpHost]?
    }

    /// Resolves options for `host` (the name given on the command line, as ssh matches it).
    public func resolve(host: String) throws(CohortError) -> Resolved {
        var seen: [String: (value: [String], line: Int, file: String)] = [:]
        var identityFiles: [String] = []
        for block in blocks where block.patterns.map({ Self.hostMatches($0, host) }) ?? true {
            for option in block.options {
                if option.key == "proxycommand" {
                    throw CohortError(
                        .invalidInput,
                        "ssh_config option 'ProxyCommand' applies to host '\(host)', and Cohort runs no commands to connect; for a bastion use ProxyJump (Cohort connects through it itself), or -J",
                        file: block.file, line: option.line)
                }
                if Self.refused.contains(option.key) {
                    throw CohortError(
                        .invalidInput,
                        "ssh_config option '\(option.key)' applies to host '\(host)' but Cohort cannot honour it; remove it for this host or use -F to give another config",
                        file: block.file, line: option.line)
                }
                if option.key == "identityfile" {
                    identityFiles.append(option.value.joined(separator: " "))
                } else if seen[option.key] == nil {
                    seen[option.key] = (option.value, option.line, block.file)
                }
            }
        }
        var resolved = Resolved()
        func value(_ key: String) -> String? { seen[key].map { $0.value.joined(separator: " ") } }
        func bool(_ key: String) throws(CohortError) -> Bool? {
            guard let v = value(key)?.lowercased(), let entry = seen[key] else { return nil }
            guard v == "yes" || v == "no" else {
                throw CohortError(.invalidInput, "\(key) must be yes or no, not '\(v)'", file: entry.file, line: entry.line)
            }
            return v == "yes"
        }
        func int(_ key: String) throws(CohortError) -> Int? {
            guard let v = value(key), let entry = seen[key] else { return nil }
            guard let n = Int(v), n > 0 else {
                throw CohortError(.invalidInput, "\(key) must be a positive number, not '\(v)'", file: entry.file, line: entry.line)
            }
            return n
        }
        resolved.hostName = value("hostname").map { $0.replacingOccurrences(of: "%h", with: host) }
        resolved.user = value("user")
        resolved.port = try int("port")
        resolved.identitiesOnly = try bool("identitiesonly")
        resolved.connectTimeout = try int("connecttimeout")
        resolved.strictHostKeyChecking = value("stricthostkeychecking")?.lowercased()
        if let s = resolved.strictHostKeyChecking, let entry = seen["stricthostkeychecking"],
            !["yes", "no", "accept-new", "ask", "off"].contains(s)
        {
            throw CohortError(.invalidInput, "StrictHostKeyChecking '\(s)' is not one of yes, no, accept-new, ask", file: entry.file, line: entry.line)
        }
        let expand = { (path: String) -> String in
            let withHost = path.replacingOccurrences(of: "%h", with: resolved.hostName ?? host)
                .replacingOccurrences(of: "%d", with: NSHomeDirectory())
                .replacingOccurrences(of: "%u", with: NSUserName())
            return (withHost as NSString).expandingTildeInPath
        }
        resolved.identityFiles = identityFiles.map(expand)
        resolved.userKnownHostsFile = seen["userknownhostsfile"]?.value.first.map(expand)
        if let entry = seen["proxyjump"] {
            do throws(CohortError) {
                resolved.proxyJump = try JumpHost.chain(entry.value.joined(separator: " "))
            } catch {
                throw CohortError(error.code, error.message, file: entry.file, line: entry.line)
            }
        }
        resolved.identityAgent = seen["identityagent"]?.value.first.map { $0 == "none" || $0 == "SSH_AUTH_SOCK" || $0.hasPrefix("$") ? $0 : expand($0) }
        return resolved
    }

    static func hostMatches(_ patterns: [String], _ host: String) -> Bool {
        var matched = false
        for pattern in patterns {
            if pattern.hasPrefix("!") {
                if Glob.matches(pattern.dropFirst().lowercased(), host.lowercased()) { return false }
            } else if Glob.matches(pattern.lowercased(), host.lowercased()) {
                matched = true
            }
        }
        return matched
    }

    /// Splits `Keyword value`, `Keyword=value` and double-quoted arguments; drops comments.
    static func split(_ line: String, file: String, line lineNumber: Int) throws -> [String] {
        var words: [String] = []
        var current = ""
        var inQuotes = false
        var hasWord = false
        for ch in line {
            if inQuotes {
                if ch == "\"" { inQuotes = false } else { current.append(ch) }
                continue
            }
            switch ch {
            case "\"":
                inQuotes = true
                hasWord = true
            case "#" where !hasWord:
                return words
            case " ", "\t":
                if hasWord { words.append(current) }
                current = ""
                hasWord = false
            case "=" where words.isEmpty:
                // `Keyword=value`: the first `=` separates like a space.
                if hasWord { words.append(current) }
                current = ""
                hasWord = false
            default:
                current.append(ch)
                hasWord = true
            }
        }
        if inQuotes {
            throw CohortError(.invalidInput, "unterminated quote", file: file, line: lineNumber)
        }
        if hasWord { words.append(current) }
        // `Keyword = value` and `Keyword =value`: the `=` belongs to neither side.
        if words.count >= 2, words[1].hasPrefix("=") {
            words[1].removeFirst()
            if words[1].isEmpty { words.remove(at: 1) }
        }
        return words
    }

    static let honoured: Set<String> = [
        "hostname", "user", "port", "identityfile", "identitiesonly", "userknownhostsfile",
        "stricthostkeychecking", "connecttimeout", "identityagent", "proxyjump",
    ]

    /// Accepted, with no effect on a non-interactive exec over libssh2.
    static let noEffect: Set<String> = [
        "addkeystoagent", "forwardagent", "forwardx11", "forwardx11trusted", "forwardx11timeout",
        "serveraliveinterval", "serveralivecountmax", "tcpkeepalive", "compression", "loglevel",
        "controlmaster", "controlpath", "controlpersist", "hashknownhosts", "visualhostkey",
        "updatehostkeys", "sendenv", "preferredauthentications", "pubkeyauthentication",
        "passwordauthentication", "kbdinteractiveauthentication", "challengeresponseauthentication",
        "gssapiauthentication", "gssapidelegatecredentials", "batchmode", "checkhostip",
        "requesttty", "escapechar", "usekeychain", "globalknownhostsfile",
        "numberofpasswordprompts", "connectionattempts", "exitonforwardfailure", "permitlocalcommand",
        "verifyhostkeydns", "ipqos", "requiredrsasize", "logverbose", "syslogfacility",
    ]

    /// Options that would change where Cohort connects or what it trusts; it cannot honour them.
    static let refused: Set<String> = [
        "proxycommand", "proxyusefdpass", "hostkeyalias", "certificatefile",
        "localcommand", "remotecommand", "localforward", "remoteforward", "dynamicforward",
        "canonicalizehostname", "canonicaldomains", "bindaddress", "bindinterface", "addressfamily",
        "ciphers", "macs", "kexalgorithms", "hostkeyalgorithms", "pubkeyacceptedalgorithms",
        "pubkeyacceptedkeytypes", "hostbasedauthentication", "setenv", "tunnel", "tunneldevice",
        "stdinnull", "sessiontype", "forkafterauthentication", "securitykeyprovider", "pkcs11provider",
        "revokedhostkeys", "fingerprinthash", "rekeylimit", "streamlocalbindmask", "streamlocalbindunlink",
        "clearallforwardings", "gatewayports", "knownhostscommand", "casignaturealgorithms", "enableescapecommandline",
        "obscurekeystroketiming", "channeltimeout", "tag",
    ]
}
