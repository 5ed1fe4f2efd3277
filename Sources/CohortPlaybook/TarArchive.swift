import CohortCore
import CohortTemplate

/// What ansible-core 2.19's `unarchive` module decides for tar archives (its `TgzArchive`
/// family), without a host: the GNU tar command lines it runs, the names `tar --list`
/// gives, and whether `tar --diff` says the archive is already unpacked.
public enum TarArchive {
    /// The handlers in the order Ansible tries them after zip, with the flag each gives tar.
    public static let handlers: [(name: String, flag: String)] = [
        ("TgzArchive", "-z"), ("TarArchive", ""), ("TarBzipArchive", "-j"), ("TarXzArchive", "-J"),
        ("TarZstdArchive", "--use-compress-program=zstd"),
    ]

    public struct Options: Sendable {
        public var dest: String
        public var src: String
        public var flag: String
        public var extraOptions: [String] = []
        public var owner: String?
        public var group: String?
        public var keepNewer = false
        public var excludes: [String] = []
        public var includes: [String] = []

        public init(dest: String, src: String, flag: String) {
            self.dest = dest
            self.src = src
            self.flag = flag
        }
    }

    /// `tar --list|--diff|--extract …` word for word as the module builds it (`--owner`,
    /// `--group` and `--keep-newer-files` only for diff and extract).
    public static func command(_ action: String, _ options: Options, tar: String = "tar") -> [String] {
        var words = [tar, "--" + action, "-C", options.dest]
        if !options.flag.isEmpty { words.append(options.flag) }
        if !options.extraOptions.isEmpty { words += ["--show-transformed-names"] + options.extraOptions }
        if action != "list" {
            // shlex.quote (ShellQuote's rule), as the module writes it into one word of an
            // argument list.
            if let owner = options.owner { words.append("--owner=" + ShellQuote.quote(owner)) }
            if let group = options.group { words.append("--group=" + ShellQuote.quote(group)) }
            if options.keepNewer { words.append("--keep-newer-files") }
        }
        words += options.excludes.map { "--exclude=" + $0 }
        words += ["-f", options.src]
        words += options.includes
        return words
    }

    /// `tar --list`'s lines as the module keeps them: each line's escapes decoded (Python's
    /// `codecs.escape_decode`), a leading `/` dropped; `excluded` says which to leave out.
    public static func names(_ listing: [UInt8], excluded: (String) -> Bool) -> [String] {
        var out: [String] = []
        for line in Strings.lines(String(decoding: listing, as: UTF8.self)) {
            let decoded = EscapeDecode.bytes(Array(line.utf8)).map { String(decoding: $0, as: UTF8.self) } ?? line
            let name = decoded.hasPrefix("/") ? String(decoded.dropFirst()) : decoded
            if !excluded(name) { out.append(name) }
        }
        return out
    }

    /// `is_unarchived`: the lines of `tar --diff` (stdout, then stderr) that mean the archive
    /// differs from what `dest` holds. Uid and Gid differences count only when the module
    /// runs as root and sets no owner (group); a mode difference only when it sets no mode.
    public static func differences(out: String, err: String, runUID: Int, owner: Bool, group: Bool, mode: Bool) -> [String] {
        func ends(_ line: String, _ suffix: String) -> Bool { line.hasSuffix(suffix) }
        var found: [String] = []
        for line in Strings.lines(out) + Strings.lines(err) {
            if line.contains(": : Warning: Cannot stat: No such file or directory") && ends(line, ": : Warning: Cannot stat: No such file or directory") { continue }
            if runUID == 0, !owner, ends(line, ": Uid differs") { found.append(line) }
            if runUID == 0, !group, ends(line, ": Gid differs") { found.append(line) }
            if !mode, ends(line, ": Mode differs") { found.append(line) }
            if ends(line, ": Mod time differs") || ends(line, ": Warning: Cannot stat: No such file or directory") || line.contains(": Invalid owner")
                || line.contains(": Invalid group") || ends(line, ": Symlink differs") || ends(line, ": Contents differ") || ends(line, ": Size differs")
            {
                found.append(line)
            }
        }
        return found
    }

    /// The first path component of every name inside a folder, once each, in order: the
    /// module sets these folders' attributes too.
    public static func topFolders(_ names: [String]) -> [String] {
        var out: [String] = []
        for name in names where name.contains("/") {
            let top = String(name.split(separator: "/", omittingEmptySubsequences: false)[0])
            if !out.contains(top) { out.append(top) }
        }
        return out
    }
}
