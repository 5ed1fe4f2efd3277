/// Payloads of the file task kinds (`file.put`, `file.get`, `file.list`) and their answers, as
/// `cohort copy` and `cohort fetch` send them. Pure codecs over `WireWriter`/`WireReader`.
public enum FileKind: UInt8, Sendable {
    case file = 0, directory = 1, symlink = 2
}

/// One entry of a tree, relative to the path that was listed: `components` is empty for the
/// path itself. A component is never empty, `.`, `..`, nor holds `/` or NUL: the receiver
/// checks that again (`isSafe`) before it writes anything.
public struct FileEntry: Sendable, Equatable {
    public var components: [String]
    public var kind: FileKind
    public var mode: UInt32
    public var size: UInt64
    public var linkTarget: String

    public init(components: [String], kind: FileKind, mode: UInt32, size: UInt64 = 0, linkTarget: String = "") {
        self.components = components
        self.kind = kind
        self.mode = mode
        self.size = size
        self.linkTarget = linkTarget
    }

    public static func isSafe(_ component: String) -> Bool {
        !component.isEmpty && component != "." && component != ".." && !component.utf8.contains(UInt8(ascii: "/"))
            && !component.utf8.contains(0)
    }

    public var isSafe: Bool { components.allSatisfy(Self.isSafe) && !linkTarget.utf8.contains(0) }

    func write(to w: inout WireWriter) {
        w.u32(UInt32(components.count))
        for component in components { w.osName(component) }
        w.u8(kind.rawValue)
        w.u32(mode)
        w.u64(size)
        w.osName(linkTarget)
    }

    static func read(from r: inout WireReader) throws(WireError) -> FileEntry {
        let count = try r.u32()
        guard count <= 4096 else { throw WireError.truncated }
        var components: [String] = []
        for _ in 0..<count { components.append(try r.osName()) }
        guard let kind = FileKind(rawValue: try r.u8()) else { throw WireError.truncated }
        return FileEntry(components: components, kind: kind, mode: try r.u32(), size: try r.u64(), linkTarget: try r.osName())
    }

    public static func encode(_ entries: [FileEntry]) -> [UInt8] {
        var w = WireWriter()
        w.u32(UInt32(entries.count))
        for entry in entries { entry.write(to: &w) }
        return w.buffer
    }

    public static func decode(_ bytes: [UInt8]) throws(WireError) -> [FileEntry] {
        var r = WireReader(bytes[...])
        let count = try r.u32()
        var entries: [FileEntry] = []
        for _ in 0..<count { entries.append(try read(from: &r)) }
        return entries
    }
}

/// `file.put`: make `path` on the host what `entry` describes. A regular file's bytes come
/// inline (small files) or as a data stream the worker asks for with credit, unless the file
/// there already has `sha256` (then the answer is `unchanged` and no data is sent).
public struct PutRequest: Sendable, Equatable {
    public var path: String
    public var entry: FileEntry
    /// Hex SHA-256 of the content; empty for directories and links.
    public var sha256: String
    /// Names or numeric ids; empty keeps the worker's own.
    public var owner: String
    public var group: String
    /// The whole content, for small files that a `file.check` found different (so the worker
    /// writes them without comparing again); nil when it streams.
    public var inline: [UInt8]?

    public init(path: String, entry: FileEntry, sha256: String = "", owner: String = "", group: String = "", inline: [UInt8]? = nil) {
        self.path = path
        self.entry = entry
        self.sha256 = sha256
        self.owner = owner
        self.group = group
        self.inline = inline
    }

    public func encoded() -> [UInt8] {
        var w = WireWriter()
        w.osName(path)
        entry.write(to: &w)
        w.string(sha256)
        w.string(owner)
        w.string(group)
        w.u8(inline == nil ? 0 : 1)
        if let inline { w.bytes(inline) }
        return w.buffer
    }

    public init(decoding bytes: [UInt8]) throws(WireError) {
        var r = WireReader(bytes[...])
        path = try r.osName()
        entry = try FileEntry.read(from: &r)
        sha256 = try r.string()
        owner = try r.string()
        group = try r.string()
        inline = try r.u8() == 1 ? try r.bytes() : nil
    }
}

/// `file.get`: stream the regular file at `path`, sending up to `window` bytes before the
/// first credit; `unchanged` instead when its SHA-256 is `sha256` (the copy the coordinator
/// already has). `file.list` takes the same request (`window` unused).
public struct GetRequest: Sendable, Equatable {
    public var path: String
    public var sha256: String
    public var window: UInt32
    public var recursive: Bool
    public var followLinks: Bool
    /// `file.list`: entries of the walk to leave out, those earlier pages gave. A listing
    /// comes in pages that each fit a frame; a result with code 1 says more follow.
    public var skip: UInt64

    public init(path: String, sha256: String = "", window: UInt32 = 0, recursive: Bool = false, followLinks: Bool = false, skip: UInt64 = 0) {
        self.path = path
        self.sha256 = sha256
        self.window = window
        self.recursive = recursive
        self.followLinks = followLinks
        self.skip = skip
    }

    public func encoded() -> [UInt8] {
        var w = WireWriter()
        w.osName(path)
        w.string(sha256)
        w.u32(window)
        w.u8((recursive ? 1 : 0) | (followLinks ? 2 : 0))
        w.u64(skip)
        return w.buffer
    }

    public init(decoding bytes: [UInt8]) throws(WireError) {
        var r = WireReader(bytes[...])
        path = try r.osName()
        sha256 = try r.string()
        window = try r.u32()
        let flags = try r.u8()
        recursive = flags & 1 != 0
        followLinks = flags & 2 != 0
        skip = try r.u64()
    }
}

/// The words a file task's result payload holds when it succeeded.
public enum FileOutcome: String, Sendable {
    case changed, unchanged
    /// `file.check`'s answer when the content there differs: its bytes are to be sent.
    case differs
}

/// A file task's result payload when it succeeded: its outcome, and for a get the entry it
/// sent (mode, size). Both ends read and write it here, and nowhere else.
public struct FileAnswer: Sendable, Equatable {
    public var outcome: FileOutcome
    public var entry: FileEntry?

    public init(_ outcome: FileOutcome, entry: FileEntry? = nil) {
        self.outcome = outcome
        self.entry = entry
    }

    /// The outcome's word, then (for a get) a NUL and the entry.
    public func encoded() -> [UInt8] {
        var bytes = Array(outcome.rawValue.utf8)
        if let entry { bytes += [0] + FileEntry.encode([entry]) }
        return bytes
    }

    /// nil when the payload is not a file answer.
    public init?(decoding payload: [UInt8]) {
        let end = payload.firstIndex(of: 0) ?? payload.endIndex
        guard let outcome = FileOutcome(rawValue: String(decoding: payload[..<end], as: UTF8.self)) else { return nil }
        self.outcome = outcome
        entry = end < payload.endIndex ? (try? FileEntry.decode(Array(payload[(end + 1)...])))?.first : nil
    }
}
