/// The `fs` kind's request: the file and host primitives the playbook modules are built on,
/// done by the worker in order (with `check`, only judged). Typed here so that the coordinator
/// cannot send an argument the worker does not read, and a file's bytes travel as bytes, not
/// base64 inside JSON. Each op's answer is a JSON object (Ansible's result fields), in order.
public struct FsRequest: Sendable, Equatable {
    public var ops: [FsOp]
    public var check: Bool

    public init(_ ops: [FsOp], check: Bool) {
        self.ops = ops
        self.check = check
    }

    public func encoded() -> [UInt8] {
        var w = WireWriter()
        w.u8(check ? 1 : 0)
        w.u32(UInt32(ops.count))
        for op in ops { op.write(to: &w) }
        return w.buffer
    }

    public init(decoding bytes: [UInt8]) throws(WireError) {
        var r = WireReader(bytes[...])
        check = try r.flag()
        let count = try r.u32()
        ops = []
        for _ in 0..<count { ops.append(try FsOp.read(from: &r)) }
        guard r.isAtEnd else { throw WireError.malformed("bytes after the last fs op") }
    }
}

/// `mode:` as the task gave it: a number (YAML's `0644` is already 420), text (octal digits or
/// symbolic `u+rwx,g-w`), or a value of another type, which the worker refuses by its type's
/// name as it refuses a bad mode, in the op's own turn.
public enum FsMode: Sendable, Equatable {
    case number(Int64)
    case text(String)
    case unsupported(typeName: String)
}

/// Mode, owner and group to give a path; nil leaves each as it is (a new file gets the umask's
/// mode and the login's owner).
public struct FsAttributes: Sendable, Equatable {
    public var mode: FsMode?
    /// A name or a numeric id, as the task gave it.
    public var owner: String?
    public var group: String?

    public init(mode: FsMode? = nil, owner: String? = nil, group: String? = nil) {
        self.mode = mode
        self.owner = owner
        self.group = group
    }

    public static let unchanged = FsAttributes()
}

/// A path's access or modification time as the `file` module sets it.
public enum FsTime: Sendable, Equatable {
    case now
    case preserve
    /// Since the epoch; `nanoseconds` below 10^9.
    case at(seconds: Int64, nanoseconds: UInt32)
}

/// `find`'s walk: the module's arguments once the coordinator has read them.
public struct FsFind: Sendable, Equatable {
    public var paths: [String]
    /// Shell globs, or Python regular expressions with `useRegex`, matched on the whole name.
    public var patterns: [String] = []
    public var excludes: [String] = []
    public var useRegex = false
    public var recurse = false
    public var hidden = false
    /// `file`, `directory`, `link` or `any`.
    public var fileType = "file"
    /// Levels below each path; nil: 1, or no bound with `recurse`.
    public var depth: Int64?
    /// A regular expression some line of a regular file must hold.
    public var contains: String?
    /// Seconds: at least that old, or (negative) at most.
    public var ageSeconds: Int64?
    /// `mtime`, `atime` or `ctime`.
    public var ageStamp = "mtime"
    /// Bytes: at least that size, or (negative) at most.
    public var sizeBytes: Int64?
    /// Matches earlier pages gave, left out of this one.
    public var skip: UInt64 = 0

    public init(paths: [String]) { self.paths = paths }
}

/// One HTTP exchange made by the host (`get_url`, `uri`).
public struct FsHTTP: Sendable, Equatable {
    public var url: String
    public var method = "GET"
    public var body: [UInt8]?
    public var headers: [(name: String, value: String)] = []
    /// uri's `follow_redirects`: `all` (get_url's), `safe`, `none`, `urllib2`, `yes`, `no`.
    public var follow = "all"
    /// uri: the body of any answer comes back (at most `maxBody` bytes); else a 200's body
    /// streams into a new file in `directory`.
    public var capture = false
    public var maxBody: Int64?
    public var directory: String?
    public var timeoutSeconds: Int64 = 10
    public var forceBasicAuth = false
    public var username: String?
    public var password: String?
    public var agent: String?
    /// `If-Modified-Since`, in seconds since the epoch.
    public var ifModifiedSince: Int64?

    public init(url: String) { self.url = url }

    public static func == (a: FsHTTP, b: FsHTTP) -> Bool {
        a.url == b.url && a.method == b.method && a.body == b.body && a.headers.elementsEqual(b.headers, by: { $0 == $1 })
            && a.follow == b.follow && a.capture == b.capture && a.maxBody == b.maxBody && a.directory == b.directory
            && a.timeoutSeconds == b.timeoutSeconds && a.forceBasicAuth == b.forceBasicAuth && a.username == b.username
            && a.password == b.password && a.agent == b.agent && a.ifModifiedSince == b.ifModifiedSince
    }
}

/// One primitive. Paths are the host's (a leading `~` is the login's home).
public enum FsOp: Sendable, Equatable {
    /// Ansible's `stat` result; `checksum` adds the SHA-1 of a regular file.
    case stat(path: String, follow: Bool = false, checksum: Bool = true)
    /// A regular file's bytes (base64 in the answer), from `offset`, at most `length` of
    /// them; a file over 64 MiB is refused unless a piece is asked for.
    case read(path: String, offset: UInt64 = 0, length: UInt64? = nil)
    /// `path` made a regular file holding `content`, atomically; with `follow`, a link's
    /// target is written and the link kept; `backup` keeps the file replaced beside it.
    case write(path: String, content: [UInt8], follow: Bool = false, backup: Bool = false, attributes: FsAttributes = .unchanged)
    /// `mkdir -p`, every level it makes given the attributes.
    case mkdir(path: String, attributes: FsAttributes = .unchanged)
    /// Attributes (and times, when either is given) set where they differ; `recurse` walks
    /// below a directory too, links not followed.
    case attributes(path: String, follow: Bool = true, recurse: Bool = false, attributes: FsAttributes, atime: FsTime? = nil, mtime: FsTime? = nil)
    /// `path` made a symbolic (or hard) link to `source`.
    case link(path: String, source: String, hard: Bool, force: Bool = false, attributes: FsAttributes = .unchanged)
    /// `rm -rf path`.
    case remove(path: String)
    /// Made if missing, then its times set (absent: now).
    case touch(path: String, attributes: FsAttributes = .unchanged, atime: FsTime? = nil, mtime: FsTime? = nil)
    /// The host's facts (`setup`).
    case facts
    case find(FsFind)
    /// Whether a TCP connection to a numeric IPv4 address opens within a second.
    case connect(host: String, port: UInt16)
    case http(FsHTTP)

    /// The op's name in failures ("no fs op named …") and logs.
    public var name: String {
        switch self {
        case .stat: "stat"
        case .read: "read"
        case .write: "write"
        case .mkdir: "mkdir"
        case .attributes: "attrs"
        case .link(_, _, let hard, _, _): hard ? "hardlink" : "symlink"
        case .remove: "remove"
        case .touch: "touch"
        case .facts: "facts"
        case .find: "find"
        case .connect: "connect"
        case .http: "http"
        }
    }

    enum Tag: UInt8 {
        case stat = 1, read, write, mkdir, attributes, link, remove, touch, facts, find, connect, http
    }

    func write(to w: inout WireWriter) {
        switch self {
        case .stat(let path, let follow, let checksum):
            w.u8(Tag.stat.rawValue)
            w.osName(path)
            w.u8((follow ? 1 : 0) | (checksum ? 2 : 0))
        case .read(let path, let offset, let length):
            w.u8(Tag.read.rawValue)
            w.osName(path)
            w.u64(offset)
            w.optional(length) { $0.u64($1) }
        case .write(let path, let content, let follow, let backup, let attributes):
            w.u8(Tag.write.rawValue)
            w.osName(path)
            w.bytes(content)
            w.u8((follow ? 1 : 0) | (backup ? 2 : 0))
            attributes.write(to: &w)
        case .mkdir(let path, let attributes):
            w.u8(Tag.mkdir.rawValue)
            w.osName(path)
            attributes.write(to: &w)
        case .attributes(let path, let follow, let recurse, let attributes, let atime, let mtime):
            w.u8(Tag.attributes.rawValue)
            w.osName(path)
            w.u8((follow ? 1 : 0) | (recurse ? 2 : 0))
            attributes.write(to: &w)
            w.optional(atime) { $1.write(to: &$0) }
            w.optional(mtime) { $1.write(to: &$0) }
        case .link(let path, let source, let hard, let force, let attributes):
            w.u8(Tag.link.rawValue)
            w.osName(path)
            w.osName(source)
            w.u8((hard ? 1 : 0) | (force ? 2 : 0))
            attributes.write(to: &w)
        case .remove(let path):
            w.u8(Tag.remove.rawValue)
            w.osName(path)
        case .touch(let path, let attributes, let atime, let mtime):
            w.u8(Tag.touch.rawValue)
            w.osName(path)
            attributes.write(to: &w)
            w.optional(atime) { $1.write(to: &$0) }
            w.optional(mtime) { $1.write(to: &$0) }
        case .facts:
            w.u8(Tag.facts.rawValue)
        case .find(let find):
            w.u8(Tag.find.rawValue)
            find.write(to: &w)
        case .connect(let host, let port):
            w.u8(Tag.connect.rawValue)
            w.string(host)
            w.u16(port)
        case .http(let http):
            w.u8(Tag.http.rawValue)
            http.write(to: &w)
        }
    }

    static func read(from r: inout WireReader) throws(WireError) -> FsOp {
        let byte = try r.u8()
        guard let tag = Tag(rawValue: byte) else { throw WireError.malformed("no fs op numbered \(byte)") }
        switch tag {
        case .stat:
            let path = try r.osName()
            let flags = try r.u8()
            return .stat(path: path, follow: flags & 1 != 0, checksum: flags & 2 != 0)
        case .read:
            return .read(path: try r.osName(), offset: try r.u64(), length: try r.optional { r throws(WireError) in try r.u64() })
        case .write:
            let path = try r.osName()
            let content = try r.bytes()
            let flags = try r.u8()
            return .write(path: path, content: content, follow: flags & 1 != 0, backup: flags & 2 != 0, attributes: try FsAttributes.read(from: &r))
        case .mkdir:
            return .mkdir(path: try r.osName(), attributes: try FsAttributes.read(from: &r))
        case .attributes:
            let path = try r.osName()
            let flags = try r.u8()
            let attributes = try FsAttributes.read(from: &r)
            let atime = try r.optional { r throws(WireError) in try FsTime.read(from: &r) }
            let mtime = try r.optional { r throws(WireError) in try FsTime.read(from: &r) }
            return .attributes(path: path, follow: flags & 1 != 0, recurse: flags & 2 != 0, attributes: attributes, atime: atime, mtime: mtime)
        case .link:
            let path = try r.osName()
            let source = try r.osName()
            let flags = try r.u8()
            return .link(path: path, source: source, hard: flags & 1 != 0, force: flags & 2 != 0, attributes: try FsAttributes.read(from: &r))
        case .remove:
            return .remove(path: try r.osName())
        case .touch:
            let path = try r.osName()
            let attributes = try FsAttributes.read(from: &r)
            let atime = try r.optional { r throws(WireError) in try FsTime.read(from: &r) }
            let mtime = try r.optional { r throws(WireError) in try FsTime.read(from: &r) }
            return .touch(path: path, attributes: attributes, atime: atime, mtime: mtime)
        case .facts:
            return .facts
        case .find:
            return .find(try FsFind.read(from: &r))
        case .connect:
            return .connect(host: try r.string(), port: try r.u16())
        case .http:
            return .http(try FsHTTP.read(from: &r))
        }
    }
}

extension FsAttributes {
    func write(to w: inout WireWriter) {
        w.optional(mode) { w, mode in
            switch mode {
            case .number(let n):
                w.u8(0)
                w.u64(UInt64(bitPattern: n))
            case .text(let text):
                w.u8(1)
                w.string(text)
            case .unsupported(let typeName):
                w.u8(2)
                w.string(typeName)
            }
        }
        w.optional(owner) { $0.string($1) }
        w.optional(group) { $0.string($1) }
    }

    static func read(from r: inout WireReader) throws(WireError) -> FsAttributes {
        let mode = try r.optional { r throws(WireError) -> FsMode in
            switch try r.u8() {
            case 0: return .number(Int64(bitPattern: try r.u64()))
            case 1: return .text(try r.string())
            case 2: return .unsupported(typeName: try r.string())
            case let other: throw WireError.malformed("no mode form numbered \(other)")
            }
        }
        return FsAttributes(
            mode: mode, owner: try r.optional { r throws(WireError) in try r.string() }, group: try r.optional { r throws(WireError) in try r.string() })
    }
}

extension FsTime {
    func write(to w: inout WireWriter) {
        switch self {
        case .now: w.u8(0)
        case .preserve: w.u8(1)
        case .at(let seconds, let nanoseconds):
            w.u8(2)
            w.u64(UInt64(bitPattern: seconds))
            w.u32(nanoseconds)
        }
    }

    static func read(from r: inout WireReader) throws(WireError) -> FsTime {
        switch try r.u8() {
        case 0: return .now
        case 1: return .preserve
        case 2:
            let seconds = Int64(bitPattern: try r.u64())
            let nanoseconds = try r.u32()
            guard nanoseconds < 1_000_000_000 else { throw WireError.malformed("\(nanoseconds) nanoseconds") }
            return .at(seconds: seconds, nanoseconds: nanoseconds)
        case let other: throw WireError.malformed("no time form numbered \(other)")
        }
    }
}

extension FsFind {
    func write(to w: inout WireWriter) {
        w.strings(paths, os: true)
        w.strings(patterns, os: false)
        w.strings(excludes, os: false)
        w.u8((useRegex ? 1 : 0) | (recurse ? 2 : 0) | (hidden ? 4 : 0))
        w.string(fileType)
        w.optional(depth) { $0.u64(UInt64(bitPattern: $1)) }
        w.optional(contains) { $0.string($1) }
        w.optional(ageSeconds) { $0.u64(UInt64(bitPattern: $1)) }
        w.string(ageStamp)
        w.optional(sizeBytes) { $0.u64(UInt64(bitPattern: $1)) }
        w.u64(skip)
    }

    static func read(from r: inout WireReader) throws(WireError) -> FsFind {
        var find = FsFind(paths: try r.strings(os: true))
        find.patterns = try r.strings(os: false)
        find.excludes = try r.strings(os: false)
        let flags = try r.u8()
        find.useRegex = flags & 1 != 0
        find.recurse = flags & 2 != 0
        find.hidden = flags & 4 != 0
        find.fileType = try r.string()
        find.depth = try r.optional { r throws(WireError) in Int64(bitPattern: try r.u64()) }
        find.contains = try r.optional { r throws(WireError) in try r.string() }
        find.ageSeconds = try r.optional { r throws(WireError) in Int64(bitPattern: try r.u64()) }
        find.ageStamp = try r.string()
        find.sizeBytes = try r.optional { r throws(WireError) in Int64(bitPattern: try r.u64()) }
        find.skip = try r.u64()
        return find
    }
}

extension FsHTTP {
    func write(to w: inout WireWriter) {
        w.string(url)
        w.string(method)
        w.optional(body) { $0.bytes($1) }
        w.u32(UInt32(headers.count))
        for header in headers {
            w.string(header.name)
            w.string(header.value)
        }
        w.string(follow)
        w.u8((capture ? 1 : 0) | (forceBasicAuth ? 2 : 0))
        w.optional(maxBody) { $0.u64(UInt64(bitPattern: $1)) }
        w.optional(directory) { $0.osName($1) }
        w.u64(UInt64(bitPattern: timeoutSeconds))
        w.optional(username) { $0.string($1) }
        w.optional(password) { $0.string($1) }
        w.optional(agent) { $0.string($1) }
        w.optional(ifModifiedSince) { $0.u64(UInt64(bitPattern: $1)) }
    }

    static func read(from r: inout WireReader) throws(WireError) -> FsHTTP {
        var http = FsHTTP(url: try r.string())
        http.method = try r.string()
        http.body = try r.optional { r throws(WireError) in try r.bytes() }
        let count = try r.u32()
        for _ in 0..<count { http.headers.append((try r.string(), try r.string())) }
        http.follow = try r.string()
        let flags = try r.u8()
        http.capture = flags & 1 != 0
        http.forceBasicAuth = flags & 2 != 0
        http.maxBody = try r.optional { r throws(WireError) in Int64(bitPattern: try r.u64()) }
        http.directory = try r.optional { r throws(WireError) in try r.osName() }
        http.timeoutSeconds = Int64(bitPattern: try r.u64())
        http.username = try r.optional { r throws(WireError) in try r.string() }
        http.password = try r.optional { r throws(WireError) in try r.string() }
        http.agent = try r.optional { r throws(WireError) in try r.string() }
        http.ifModifiedSince = try r.optional { r throws(WireError) in Int64(bitPattern: try r.u64()) }
        return http
    }
}

extension WireWriter {
    /// A presence byte (0 or 1), then the value when there is one.
    mutating func optional<T>(_ value: T?, _ write: (inout WireWriter, T) -> Void) {
        guard let value else { return u8(0) }
        u8(1)
        write(&self, value)
    }

    mutating func strings(_ items: [String], os: Bool) {
        u32(UInt32(items.count))
        for item in items { os ? osName(item) : string(item) }
    }
}

extension WireReader {
    mutating func optional<T>(_ read: (inout WireReader) throws(WireError) -> T) throws(WireError) -> T? {
        switch try u8() {
        case 0: return nil
        case 1: return try read(&self)
        case let other: throw WireError.malformed("a presence byte of \(other)")
        }
    }

    /// A flag byte: 0 or 1, anything else a corrupt request.
    mutating func flag() throws(WireError) -> Bool {
        switch try u8() {
        case 0: return false
        case 1: return true
        case let other: throw WireError.malformed("a flag byte of \(other)")
        }
    }

    /// A count, then that many strings; the count is not trusted for an allocation (each
    /// string read fails at the end of the bytes).
    mutating func strings(os: Bool) throws(WireError) -> [String] {
        let count = try u32()
        var items: [String] = []
        for _ in 0..<count { items.append(os ? try osName() : try string()) }
        return items
    }
}
