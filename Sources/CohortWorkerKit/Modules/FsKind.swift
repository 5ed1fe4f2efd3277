import CohortValue
import CohortWire

#if canImport(Glibc)
import Glibc
#endif

/// `fs`: the host-side half of the playbook file modules. The payload is an `FsRequest`; each
/// op is done in order (or, in check mode, only judged) and answers a JSON object with
/// `changed` and what it found, or `failed` and `msg`. The module logic (what a `lineinfile`
/// makes of a file) lives on the coordinator; these are its quick local primitives, run on
/// the worker's loop.
struct FsKind: TaskKind {
    func start(_ task: TaskFrame) -> TaskStart {
        let started = Clock.now()
        let request: FsRequest
        do { request = try FsRequest(decoding: task.payload) } catch {
            return .finished(FileResult.failedToStart(task, "bad fs payload: \(error)"))
        }
        let ops = FsOps(check: request.check)
        let answers = request.ops.map(ops.run)
        let payload = Array(((try? Value.list(answers).json()) ?? "[]").utf8)
        return .finished(ResultFrame(
            taskID: task.id, attempt: task.attempt, outcome: .exited, code: 0, payload: payload, durationNanos: Clock.now() - started))
    }
}

struct FsOps {
    let check: Bool

    static func failure(_ message: String) -> Value { ["failed": true, "msg": .string(message)] }

    func run(_ op: FsOp) -> Value {
        do {
            switch op {
            case .stat(let path, let follow, let checksum): return Self.stat(HostFiles.expand(path), follow: follow, checksum: checksum)
            case .read(let path, let offset, let length): return try Self.read(HostFiles.expand(path), offset: offset, length: length)
            case .write(let path, let content, let follow, let backup, let attributes):
                return try write(HostFiles.expand(path), content, follow: follow, backup: backup, attributes)
            case .mkdir(let path, let attributes): return try mkdir(HostFiles.expand(path), attributes)
            case .attributes(let path, let follow, let recurse, let attributes, let atime, let mtime):
                let path = HostFiles.expand(path)
                var changed = try self.attributes(path, follow: follow, recurse: recurse, attributes).dict?["changed"]?.truthy ?? false
                if atime != nil || mtime != nil, try setTimes(path, atime ?? .preserve, mtime ?? .preserve) { changed = true }
                return ["changed": .bool(changed)]
            case .link(let path, let source, let hard, let force, let attributes):
                return try link(HostFiles.expand(path), to: source, hard: hard, force: force, attributes)
            case .remove(let path): return try remove(HostFiles.expand(path))
            case .touch(let path, let attributes, let atime, let mtime): return try touch(HostFiles.expand(path), attributes, atime: atime, mtime: mtime)
            case .facts: return HostFacts.gather()
            case .find(let find): return try self.find(find)
            case .connect(let host, let port): return try connect(host, port: port)
            case .http(let request): return try http(request)
            }
        } catch {
            return Self.failure(error.message)
        }
    }

    /// Ansible's `stat` result, for `stat` and as the state the coordinator's modules read.
    static func stat(_ path: String, follow: Bool, checksum: Bool) -> Value {
        guard let info = follow ? HostFiles.info(path) : HostFiles.linkInfo(path) else { return ["exists": false, "path": .string(path)] }
        var out = Dict()
        out["exists"] = true
        out["path"] = .string(path)
        let type = info.st_mode & S_IFMT
        out["isreg"] = .bool(type == S_IFREG)
        out["isdir"] = .bool(type == S_IFDIR)
        out["islnk"] = .bool(type == S_IFLNK)
        out["mode"] = .string(Modes.octal(info.st_mode & 0o7777))
        out["uid"] = .int(Int(info.st_uid))
        out["gid"] = .int(Int(info.st_gid))
        out["pw_name"] = .string(getpwuid(info.st_uid).map { String(cString: $0.pointee.pw_name) } ?? "")
        out["gr_name"] = .string(getgrgid(info.st_gid).map { String(cString: $0.pointee.gr_name) } ?? "")
        out["size"] = .int(Int(info.st_size))
        out["mtime"] = .float(Double(info.st_mtim.tv_sec) + Double(info.st_mtim.tv_nsec) / 1e9)
        out["atime"] = .float(Double(info.st_atim.tv_sec) + Double(info.st_atim.tv_nsec) / 1e9)
        out["nlink"] = .int(Int(info.st_nlink))
        out["inode"] = .int(Int(info.st_ino))
        out["dev"] = .int(Int(info.st_dev))
        if type == S_IFLNK, let target = HostFiles.readLink(path) {
            out["lnk_target"] = .string(target)
            out["lnk_source"] = .string(realPath(path) ?? target)
        }
        if type == S_IFREG, checksum, let sum = SHA1.file(path) { out["checksum"] = .string(sum) }
        out["executable"] = .bool(OSName.withPath(path) { access($0, X_OK) } == 0)
        out["readable"] = .bool(OSName.withPath(path) { access($0, R_OK) } == 0)
        out["writeable"] = .bool(OSName.withPath(path) { access($0, W_OK) } == 0)
        return .dict(out)
    }

    static func realPath(_ path: String) -> String? {
        guard let resolved = OSName.withPath(path, { realpath($0, nil) }) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// A file's bytes (base64), at most 64 MiB of them; with `offset` and `length`, that piece
    /// of it only (a big file is read in pieces that each fit a frame).
    static func read(_ path: String, offset: UInt64, length: UInt64?) throws(HostFiles.Failure) -> Value {
        let limit = 64 << 20
        guard let offset = Int(exactly: offset) else { throw HostFiles.Failure(message: "read: an offset past any file") }
        let length = length.map { Int(clamping: $0) } ?? Int.max
        guard length > 0 else { throw HostFiles.Failure(message: "read: an empty length") }
        let fd = try HostFiles.openRegular(path)
        defer { close(fd) }
        // The size first: a 10 GB file is refused before a byte of it is read.
        var info = Glibc.stat()
        if fstat(fd, &info) == 0, Int(info.st_size) > limit { throw HostFiles.Failure(message: "\(path) is larger than \(limit) bytes") }
        if offset > 0, lseek(fd, off_t(offset), SEEK_SET) < 0 { throw HostFiles.fail("cannot read", path) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while bytes.count < length {
            let want = min(buffer.count, length - bytes.count)
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, want) }
            if n < 0, errno == EINTR { continue }
            guard n >= 0 else { throw HostFiles.fail("cannot read", path) }
            if n == 0 { break }
            bytes += buffer[0..<n]
            WorkerPulse.beat()
            guard bytes.count <= limit else { throw HostFiles.Failure(message: "\(path) is larger than \(limit) bytes") }
        }
        return ["content": .string(Base64.encode(bytes)), "size": .int(bytes.count)]
    }

    /// Makes `path` a regular file holding `content` (base64), atomically; then mode and owner.
    /// A file it replaces keeps its mode, owner and group unless others are asked for (as
    /// Ansible's atomic_move); with `follow`, a link's target is written, the link kept.
    func write(_ path: String, _ bytes: [UInt8], follow: Bool, backup: Bool, _ attributes: FsAttributes) throws(HostFiles.Failure) -> Value {
        var path = path
        if follow, let link = HostFiles.linkInfo(path), link.st_mode & S_IFMT == S_IFLNK, let target = Self.realPath(path) {
            path = target
        }
        let existing = HostFiles.info(path)
        if let existing, existing.st_mode & S_IFMT == S_IFDIR { throw HostFiles.Failure(message: "\(path) is a directory") }
        let same = existing != nil && SHA1.file(path) == SHA1.hex(bytes)
        var out = Dict()
        out["checksum"] = .string(SHA1.hex(bytes))
        if same {
            let settled = try self.attributes(path, follow: true, attributes)
            out["changed"] = settled.dict?["changed"] ?? false
            return .dict(out)
        }
        out["changed"] = true
        if check { return .dict(out) }
        if backup, existing != nil {
            let backup = path + ".\(getpid()).\(time(nil))~"
            if OSName.withPath(path, { from in OSName.withPath(backup) { Glibc.link(from, $0) } }) == 0 { out["backup_file"] = .string(backup) }
        }
        let current = existing.map { $0.st_mode & 0o7777 } ?? (0o666 & ~Self.umask)
        let mode = try Modes.resolve(attributes.mode, current: current, isDirectory: false) ?? current
        let landing = try LandingFile(destination: path, mode: mode)
        let written = bytes.withUnsafeBytes { HostFiles.writeAll(landing.fd, $0) }
        guard written else {
            landing.abandon()
            throw HostFiles.fail("cannot write", path)
        }
        var owner = try Self.owner(attributes)
        if let existing {
            let (uid, gid) = owner ?? (uid_t.max, gid_t.max)
            owner = (uid == uid_t.max ? existing.st_uid : uid, gid == gid_t.max ? existing.st_gid : gid)
        }
        try landing.land(owner: owner, mode: mode)
        return .dict(out)
    }

    static let umask: mode_t = {
        let mask = Glibc.umask(0o022)
        _ = Glibc.umask(mask)
        return mask
    }()

    static func owner(_ attributes: FsAttributes) throws(HostFiles.Failure) -> (uid_t, gid_t)? {
        try HostFiles.owner(attributes.owner ?? "", attributes.group ?? "")
    }

    /// `mkdir -p`; every level it creates gets the mode and owner asked for, as Ansible's
    /// `file` does.
    func mkdir(_ path: String, _ attributes: FsAttributes) throws(HostFiles.Failure) -> Value {
        if let info = HostFiles.info(path) {
            guard info.st_mode & S_IFMT == S_IFDIR else { throw HostFiles.Failure(message: "\(path) exists and is not a directory") }
            return try self.attributes(path, follow: true, attributes)
        }
        if check { return ["changed": true] }
        var missing: [String] = []
        var level = path
        while HostFiles.info(level) == nil, level != "/", !level.isEmpty {
            missing.append(level)
            let parent = HostFiles.split(level).directory
            if parent == level { break }
            level = parent
        }
        for directory in missing.reversed() {
            if OSName.withPath(directory, { Glibc.mkdir($0, 0o777) }) != 0, errno != EEXIST { throw HostFiles.fail("cannot create directory", directory) }
            _ = try self.attributes(directory, follow: true, attributes)
        }
        return ["changed": true]
    }

    /// Mode and owner where they differ (with `recurse`, on everything below a directory
    /// too, links not followed); `changed` says whether any did.
    func attributes(_ path: String, follow: Bool, recurse: Bool, _ attributes: FsAttributes) throws(HostFiles.Failure) -> Value {
        var changed = try self.attributes(path, follow: follow, attributes).dict?["changed"]?.truthy ?? false
        guard recurse, let info = HostFiles.info(path), info.st_mode & S_IFMT == S_IFDIR else { return ["changed": .bool(changed)] }
        var pending = [path]
        while let directory = pending.popLast() {
            guard let dir = OSName.withPath(directory, { opendir($0) }) else { throw HostFiles.fail("cannot open", directory) }
            var names: [String] = []
            while let entry = readdir(dir) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in OSName.string(raw.prefix { $0 != 0 }) }
                if name != ".", name != ".." { names.append(name) }
            }
            closedir(dir)
            for name in names {
                let child = directory + "/" + name
                if try self.attributes(child, follow: false, attributes).dict?["changed"]?.truthy == true { changed = true }
                if let entry = HostFiles.linkInfo(child), entry.st_mode & S_IFMT == S_IFDIR { pending.append(child) }
            }
        }
        return ["changed": .bool(changed)]
    }

    func attributes(_ path: String, follow: Bool, _ attributes: FsAttributes) throws(HostFiles.Failure) -> Value {
        guard let info = follow ? HostFiles.info(path) : HostFiles.linkInfo(path) else { throw HostFiles.fail("cannot stat", path) }
        var changed = false
        let isLink = info.st_mode & S_IFMT == S_IFLNK
        if !isLink, let mode = try Modes.resolve(attributes.mode, current: info.st_mode & 0o7777, isDirectory: info.st_mode & S_IFMT == S_IFDIR),
            mode != info.st_mode & 0o7777
        {
            changed = true
            if !check, OSName.withPath(path, { chmod($0, mode) }) != 0 { throw HostFiles.fail("cannot chmod", path) }
        }
        if let (uid, gid) = try Self.owner(attributes) {
            let wantUID = uid == uid_t.max ? info.st_uid : uid, wantGID = gid == gid_t.max ? info.st_gid : gid
            if wantUID != info.st_uid || wantGID != info.st_gid {
                changed = true
                let done = OSName.withPath(path) { follow ? chown($0, wantUID, wantGID) : lchown($0, wantUID, wantGID) }
                if !check, done != 0 { throw HostFiles.fail("cannot chown", path) }
            }
        }
        return ["changed": .bool(changed)]
    }

    func link(_ path: String, to source: String, hard: Bool, force: Bool, _ attributes: FsAttributes) throws(HostFiles.Failure) -> Value {
        if let existing = HostFiles.linkInfo(path) {
            let type = existing.st_mode & S_IFMT
            if !hard, type == S_IFLNK, HostFiles.readLink(path) == source { return try self.attributes(path, follow: false, attributes) }
            if hard, let target = HostFiles.info(source), existing.st_ino == target.st_ino, existing.st_dev == target.st_dev {
                return ["changed": false]
            }
            guard type == S_IFLNK || force || hard && type == S_IFREG else {
                throw HostFiles.Failure(message: "refusing to convert from \(type == S_IFDIR ? "directory" : "file") to \(hard ? "hard" : "sym")link for \(path)")
            }
            if check { return ["changed": true] }
            guard type != S_IFDIR else { throw HostFiles.Failure(message: "\(path) is a directory") }
            HostFiles.unlink(path)
        } else if check {
            return ["changed": true]
        }
        let done = OSName.withPath(source) { from in OSName.withPath(path) { hard ? Glibc.link(from, $0) : Glibc.symlink(from, $0) } }
        guard done == 0 else { throw HostFiles.fail("cannot link", path) }
        return ["changed": true]
    }

    func remove(_ path: String) throws(HostFiles.Failure) -> Value {
        guard HostFiles.linkInfo(path) != nil else { return ["changed": false] }
        if !check { try Self.removeTree(path) }
        return ["changed": true]
    }

    static func removeTree(_ path: String) throws(HostFiles.Failure) {
        guard let info = HostFiles.linkInfo(path) else { return }
        if info.st_mode & S_IFMT == S_IFDIR {
            guard let dir = OSName.withPath(path, { opendir($0) }) else { throw HostFiles.fail("cannot open", path) }
            var names: [String] = []
            while let entry = readdir(dir) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                    OSName.string(raw.prefix { $0 != 0 })
                }
                if name != ".", name != ".." { names.append(name) }
            }
            closedir(dir)
            for name in names { try removeTree(path + "/" + name) }
            guard OSName.withPath(path, { rmdir($0) }) == 0 else { throw HostFiles.fail("cannot remove", path) }
        } else {
            guard OSName.withPath(path, { unlink($0) }) == 0 else { throw HostFiles.fail("cannot remove", path) }
        }
    }

    /// Creates the file if missing, then sets its times (`atime`, `mtime`: "now", the
    /// default, "preserve", or seconds since the epoch); a change unless both are preserved on
    /// a file that was there, as in Ansible.
    func touch(_ path: String, _ attributes: FsAttributes, atime: FsTime?, mtime: FsTime?) throws(HostFiles.Failure) -> Value {
        let existed = HostFiles.linkInfo(path) != nil
        let preserve = atime == .preserve && mtime == .preserve
        if check { return ["changed": .bool(!(existed && preserve))] }
        if !existed {
            let mode = try Modes.resolve(attributes.mode, current: 0o666 & ~Self.umask, isDirectory: false) ?? (0o666 & ~Self.umask)
            let fd = OSName.withPath(path) { open($0, O_WRONLY | O_CREAT | O_CLOEXEC, mode) }
            guard fd >= 0 else { throw HostFiles.fail("cannot create", path) }
            close(fd)
        }
        let timesChanged = try setTimes(path, atime ?? .now, mtime ?? .now)
        let settled = try self.attributes(path, follow: true, attributes).dict?["changed"]?.truthy ?? false
        return ["changed": .bool(!existed || timesChanged || settled || !preserve)]
    }

    /// `atime`/`mtime` as asked; whether either changed.
    func setTimes(_ path: String, _ atime: FsTime, _ mtime: FsTime) throws(HostFiles.Failure) -> Bool {
        guard let info = HostFiles.info(path) else { throw HostFiles.fail("cannot stat", path) }
        func spec(_ time: FsTime, _ current: timespec) -> (timespec, Bool) {
            switch time {
            case .preserve: return (current, false)
            case .now:
                var now = timespec()
                clock_gettime(CLOCK_REALTIME, &now)
                return (now, true)
            case .at(let seconds, let nanoseconds):
                let wanted = timespec(tv_sec: Int(seconds), tv_nsec: Int(nanoseconds))
                return (wanted, wanted.tv_sec != current.tv_sec || wanted.tv_nsec != current.tv_nsec)
            }
        }
        let (atime, aChanged) = spec(atime, info.st_atim)
        let (mtime, mChanged) = spec(mtime, info.st_mtim)
        guard aChanged || mChanged else { return false }
        if check { return true }
        var times = [atime, mtime]
        guard OSName.withPath(path, { utimensat(AT_FDCWD, $0, &times, 0) }) == 0 else { throw HostFiles.fail("cannot set the times of", path) }
        return true
    }

}
