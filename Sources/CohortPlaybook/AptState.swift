import Glibc

/// Debian version ordering (`dpkg --compare-versions`, apt's `version_compare`): epoch, then
/// the upstream part, then the revision, each compared as alternating non-digit and digit runs,
/// with `~` before everything, even the end.
public enum DebianVersion {
    public static func compare(_ a: String, _ b: String) -> Int {
        let (ea, ua, ra) = split(a), (eb, ub, rb) = split(b)
        if ea != eb { return ea < eb ? -1 : 1 }
        let upstream = part(ua, ub)
        return upstream != 0 ? upstream : part(ra, rb)
    }

    /// Epoch (a number before the first `:`), upstream version, revision (after the last `-`).
    static func split(_ version: String) -> (Int, Substring, Substring) {
        var rest = Substring(version)
        var epoch = 0
        if let colon = rest.firstIndex(of: ":"), let number = Int(rest[..<colon]) {
            epoch = number
            rest = rest[rest.index(after: colon)...]
        }
        guard let dash = rest.lastIndex(of: "-") else { return (epoch, rest, "") }
        return (epoch, rest[..<dash], rest[rest.index(after: dash)...])
    }

    /// dpkg's `order`: digits 0 (never compared here), letters themselves, `~` below the end
    /// (0), anything else after every letter.
    static func order(_ c: UInt8) -> Int {
        if c == 0 || (48...57).contains(c) { return 0 }
        if c == UInt8(ascii: "~") { return -1 }
        if (65...90).contains(c) || (97...122).contains(c) { return Int(c) }
        return Int(c) + 256
    }

    /// dpkg's `verrevcmp`.
    static func part(_ a: Substring, _ b: Substring) -> Int {
        let x = Array(a.utf8) + [0], y = Array(b.utf8) + [0]
        var i = 0, j = 0
        let digit = { (c: UInt8) in (48...57).contains(c) }
        while x[i] != 0 || y[j] != 0 {
            while (x[i] != 0 && !digit(x[i])) || (y[j] != 0 && !digit(y[j])) {
                let (ox, oy) = (order(x[i]), order(y[j]))
                if ox != oy { return ox < oy ? -1 : 1 }
                i += 1
                j += 1
            }
            while x[i] == 48 { i += 1 }
            while y[j] == 48 { j += 1 }
            var first = 0
            while digit(x[i]), digit(y[j]) {
                if first == 0 { first = Int(x[i]) - Int(y[j]) }
                i += 1
                j += 1
            }
            if digit(x[i]) { return 1 }
            if digit(y[j]) { return -1 }
            if first != 0 { return first < 0 ? -1 : 1 }
        }
        return 0
    }
}

/// What apt and dpkg say of one package: dpkg's state of it and apt's version table, read
/// from `dpkg-query` and `apt-cache policy` as python-apt's cache would give them to
/// ansible-core's `apt` module.
public struct AptPackage: Sendable, Equatable {
    /// dpkg's `db:Status-Status` (`installed`, `config-files`, `not-installed`…).
    public var status = "not-installed"
    public var installedVersion: String?
    public var candidate: String?
    /// Every version apt knows, highest first (the installed one included).
    public var versions: [String] = []
    /// apt knows the name (it has versions, or something provides it).
    public var known = false
    public var providedBy: [String] = []

    public init() {}

    public var installed: Bool { status == "installed" }
    /// dpkg still holds files of it (python-apt's `installed_files` not empty): what purge removes.
    public var hasFiles: Bool { status != "not-installed" }

    /// The four answers of ansible-core's `package_status`: installed at all, installed in a
    /// version the spec accepts, the version to install (nil: none; "" : let apt decide),
    /// files left.
    public func status(_ comparison: String?, _ version: String?) -> (installed: Bool, versionInstalled: Bool, installable: String?, hasFiles: Bool) {
        var best: String? = candidate
        if comparison == "=", let version {
            // A Version pin above every other: the highest version matching the glob.
            best = versions.first { fnmatch(version, $0, 0) == 0 }
        }
        guard installed, let current = installedVersion else { return (false, false, best, hasFiles) }
        var versionInstalled = true
        var installable: String?
        switch comparison {
        case "=":
            versionInstalled = fnmatch(version ?? "", current, 0) == 0
            if let best, best != current, fnmatch(version ?? "", best, 0) == 0 { installable = best }
        case ">=":
            versionInstalled = DebianVersion.compare(current, version ?? "") >= 0
            if let best, best != current, DebianVersion.compare(best, version ?? "") >= 0 { installable = best }
        default:
            if let best, best != current { installable = best }
        }
        return (true, versionInstalled, installable, hasFiles)
    }
}

public enum AptState {
    /// `NAME=VERSION` or `NAME>=VERSION` (ansible-core's `package_split`: the first `=` or `>=`).
    public static func split(_ spec: String) -> (name: String, comparison: String?, version: String?) {
        guard let eq = spec.firstIndex(of: "=") else { return (spec, nil, nil) }
        if eq > spec.startIndex, spec[spec.index(before: eq)] == ">" {
            return (String(spec[..<spec.index(before: eq)]), ">=", String(spec[spec.index(after: eq)...]))
        }
        return (String(spec[..<eq]), "=", String(spec[spec.index(after: eq)...]))
    }

    /// `dpkg-query -W -f '${Package}\t${db:Status-Status}\t${Version}\n'` lines and
    /// `apt-cache policy` blocks, merged per package name.
    public static func parse(dpkg: String, policy: String) -> [String: AptPackage] {
        var out: [String: AptPackage] = [:]
        for line in dpkg.split(separator: "\n") {
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
            guard fields.count >= 3 else { continue }
            var package = out[String(fields[0])] ?? AptPackage()
            package.status = String(fields[1])
            if package.status == "installed" { package.installedVersion = String(fields[2]) }
            out[String(fields[0])] = package
        }
        var current: String?
        var inTable = false
        for line in policy.split(separator: "\n") {
            if !line.hasPrefix(" "), line.hasSuffix(":") {
                var name = String(line.dropLast())
                if let colon = name.firstIndex(of: ":") { name = String(name[..<colon]) }
                current = name
                inTable = false
                continue
            }
            guard let name = current else { continue }
            var package = out[name] ?? AptPackage()
            let text = String(line.drop { $0 == " " })
            if text.hasPrefix("Candidate: ") {
                let value = String(text.dropFirst("Candidate: ".count))
                package.candidate = value == "(none)" ? nil : value
            } else if text == "Version table:" {
                inTable = true
            } else if inTable {
                // A version line is `[***] VERSION PRIORITY`, indented one or five places less
                // than the sources under it (which begin with a priority number).
                var words = text.split(separator: " ")
                if words.first == "***" { words.removeFirst() }
                let indent = line.prefix { $0 == " " }.count
                if indent <= 5, words.count == 2, Int(words[1]) != nil {
                    package.versions.append(String(words[0]))
                    package.known = true
                }
            }
            out[name] = package
        }
        return out
    }
}

extension AptState {
    /// `package_facts` from apt, as ansible-core reads python-apt's cache: each installed
    /// package's name, version, arch, category (section), origin (the Release `Origin` of the
    /// first package file its installed version comes from; "" for dpkg's status file alone)
    /// and source "apt". `dpkg` is `dpkg-query -W -f '${binary:Package}\t${Version}\t
    /// ${Architecture}\t${Section}\t${db:Status-Status}\n'`; `policy` is `apt-cache policy`
    /// (its package files and their release lines) followed by `apt-cache policy NAMES`.
    public static func packageFacts(dpkg: String, files: String, policy: String) -> [(name: String, details: KeyValuePairs<String, String>)] {
        // Package files: "500 URL DIST Packages" then "release o=ORIGIN,…".
        var origins: [String: String] = [:]
        var file: String?
        for line in files.split(separator: "\n") {
            let text = String(line.drop { $0 == " " })
            if text.hasPrefix("release ") {
                if let file {
                    let fields = text.dropFirst("release ".count).split(separator: ",")
                    origins[file] = fields.first { $0.hasPrefix("o=") }.map { String($0.dropFirst(2)) } ?? ""
                }
            } else if let space = text.firstIndex(of: " "), Int(text[..<space]) != nil {
                file = String(text[text.index(after: space)...])
            }
        }
        // Each installed version's first source line.
        var firstSource: [String: String] = [:]
        var current: String?, inInstalled = false
        for line in policy.split(separator: "\n") {
            if !line.hasPrefix(" "), line.hasSuffix(":") {
                current = String(line.dropLast())
                inInstalled = false
                continue
            }
            guard let name = current else { continue }
            let indent = line.prefix { $0 == " " }.count
            let text = String(line.drop { $0 == " " })
            if indent <= 5, text.split(separator: " ").count >= 2, let words = Optional(text.split(separator: " ")),
               words.count == 2 || (words.count == 3 && words[0] == "***") {
                inInstalled = words[0] == "***"
            } else if inInstalled, indent > 5, firstSource[name] == nil, let space = text.firstIndex(of: " ") {
                firstSource[name] = String(text[text.index(after: space)...])
            }
        }
        var out: [(name: String, details: KeyValuePairs<String, String>)] = []
        for line in dpkg.split(separator: "\n") {
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard fields.count >= 5, fields[4] == "installed" else { continue }
            // python-apt names a package of the native or `all` architecture without its suffix.
            var name = fields[0]
            if let colon = name.firstIndex(of: ":") { name = String(name[..<colon]) }
            let origin = firstSource[fields[0]].flatMap { origins[$0] } ?? firstSource[name].flatMap { origins[$0] } ?? ""
            out.append((name, ["name": name, "version": fields[1], "arch": fields[2], "category": fields[3], "origin": origin, "source": "apt"]))
        }
        return out
    }
}
