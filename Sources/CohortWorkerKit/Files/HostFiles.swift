import CohortWire

#if canImport(Glibc)
import Glibc
#endif

/// POSIX file work on the host for the file kinds: paths, errors in words, hashing, owners.
enum HostFiles {
    struct Failure: Error {
        var message: String
    }

    static func errorText(_ code: Int32 = errno) -> String { String(cString: strerror(code)) }

    /// Opens a regular file for reading, or fails saying what it is instead: opened with
    /// O_NONBLOCK first, so that a FIFO with no writer (or a device) cannot block the worker,
    /// which must go on answering heartbeats; blocking again once it is known to be a file.
    static func openRegular(_ path: String, follow: Bool = true) throws(Failure) -> Int32 {
        let fd = OSName.withPath(path) { open($0, O_RDONLY | O_CLOEXEC | O_NONBLOCK | (follow ? 0 : O_NOFOLLOW)) }
        guard fd >= 0 else { throw fail("cannot read", path) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let code = errno
            close(fd)
            throw fail("cannot read", path, code)
        }
        guard info.st_mode & S_IFMT == S_IFREG else {
            close(fd)
            throw Failure(message: "\(path) is not a regular file (\(kindName(info.st_mode)))")
        }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
        return fd
    }

    /// The directories of `path` that lie inside DEST, `inside` being how many of its last
    /// names do (the entry's own name among them; it counts as a directory only when
    /// `isDirectory`): a symlink there is removed and a directory made in its place, so
    /// nothing is written through it. A file's or link's own name is replaced by its rename.
    static func replaceLinks(in path: String, inside: Int, isDirectory: Bool) throws(Failure) {
        guard inside > 0 else { return }
        let parts = path.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        let first = max(1, parts.count - inside), last = isDirectory ? parts.count : parts.count - 1
        guard first < last else { return }
        for end in first..<last {
            let prefix = parts[0...end].joined(separator: "/")
            guard let info = linkInfo(prefix), info.st_mode & S_IFMT == S_IFLNK else { continue }
            guard OSName.withPath(prefix, { Glibc.unlink($0) }) == 0 else { throw fail("cannot replace the link", prefix) }
            guard OSName.withPath(prefix, { mkdir($0, 0o755) }) == 0 else { throw fail("cannot create", prefix) }
        }
    }

    static func kindName(_ mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFDIR: "a directory"
        case S_IFIFO: "a FIFO"
        case S_IFCHR: "a character device"
        case S_IFBLK: "a block device"
        case S_IFSOCK: "a socket"
        case S_IFLNK: "a symlink"
        default: "not a file"
        }
    }

    static func fail(_ what: String, _ path: String, _ code: Int32 = errno) -> Failure {
        Failure(message: "\(what) \(path): \(errorText(code))")
    }

    /// `~/x` and relative paths are the remote user's, as with scp.
    static func expand(_ path: String) -> String {
        let home = getenv("HOME").map { String(cString: $0) } ?? "."
        if path == "~" { return home }
        if path.hasPrefix("~/") { return home + path.dropFirst(1) }
        return path
    }

    static func split(_ path: String) -> (directory: String, name: String) {
        guard let slash = path.lastIndex(of: "/") else { return (".", path) }
        let directory = String(path[..<slash])
        return (directory.isEmpty ? "/" : directory, String(path[path.index(after: slash)...]))
    }

    /// Linux's `O_TMPFILE` (`__O_TMPFILE | O_DIRECTORY`), which Glibc's module does not import.
    static let openTemporary: Int32 = 0o20_000_000 | O_DIRECTORY

    /// `lstat`: the entry itself, a link not followed.
    static func linkInfo(_ path: String) -> Glibc.stat? {
        var info = Glibc.stat()
        return OSName.withPath(path) { lstat($0, &info) } == 0 ? info : nil
    }

    /// `stat`: what the path leads to.
    static func info(_ path: String) -> Glibc.stat? {
        var info = Glibc.stat()
        return OSName.withPath(path) { stat($0, &info) } == 0 ? info : nil
    }

    static func kind(_ info: Glibc.stat) -> FileKind? {
        switch info.st_mode & S_IFMT {
        case S_IFREG: .file
        case S_IFDIR: .directory
        case S_IFLNK: .symlink
        default: nil
        }
    }

    static func readLink(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: 4097)
        let n = OSName.withPath(path) { readlink($0, &buffer, 4096) }
        guard n >= 0 else { return nil }
        return OSName.string(buffer[0..<n].map { UInt8(bitPattern: $0) })
    }

    /// The hex SHA-256 of a regular file's content; nil if it cannot be read.
    static func sha256(of path: String) -> String? {
        guard let fd = try? openRegular(path) else { return nil }
        defer { close(fd) }
        var hasher = SHA256()
        var buffer = [UInt8](repeating: 0, count: 1 << 18)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0, errno == EINTR { continue }
            guard n >= 0 else { return nil }
            if n == 0 { return hasher.finalize() }
            WorkerPulse.beat()
            buffer.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
        }
    }

    /// A user or group given as a name or a number; nil for "keep as it is".
    static func owner(_ owner: String, _ group: String) throws(Failure) -> (uid_t, gid_t)? {
        guard !owner.isEmpty || !group.isEmpty else { return nil }
        var uid = uid_t.max
        var gid = gid_t.max
        if !owner.isEmpty {
            if let number = uid_t(owner) {
                uid = number
            } else if let entry = getpwnam(owner) {
                uid = entry.pointee.pw_uid
            } else {
                throw Failure(message: "no user '\(owner)' on this host")
            }
        }
        if !group.isEmpty {
            if let number = gid_t(group) {
                gid = number
            } else if let entry = getgrnam(group) {
                gid = entry.pointee.gr_gid
            } else {
                throw Failure(message: "no group '\(group)' on this host")
            }
        }
        return (uid, gid)
    }

    static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                return false
            }
            offset += n
        }
        return true
    }

    static func rename(_ from: String, _ to: String) -> Int32 {
        OSName.withPath(from) { old in OSName.withPath(to) { Glibc.rename(old, $0) } }
    }

    static func unlink(_ path: String) {
        OSName.withPath(path) { _ = Glibc.unlink($0) }
    }

    /// `mkdir -p`, each new level with `mode`.
    static func makeDirectories(_ path: String, mode: mode_t = 0o755) throws(Failure) {
        if let info = info(path) {
            guard info.st_mode & S_IFMT == S_IFDIR else { throw Failure(message: "\(path) exists and is not a directory") }
            return
        }
        let (parent, _) = split(path)
        if parent != path, parent != "." { try makeDirectories(parent, mode: mode) }
        if OSName.withPath(path, { mkdir($0, mode) }) != 0, errno != EEXIST { throw fail("cannot create directory", path) }
    }
}

/// A file being written where it will land, in its destination directory, invisible until
/// it is whole: an unnamed `O_TMPFILE` (nothing is left if the worker dies) linked in at the
/// end, or, where the filesystem has no `O_TMPFILE`, a hidden temporary name.
struct LandingFile {
    let fd: Int32
    let destination: String
    private let temporaryName: String?

    init(destination: String, mode: mode_t) throws(HostFiles.Failure) {
        let (directory, name) = HostFiles.split(destination)
        if let info = HostFiles.info(directory) {
            guard info.st_mode & S_IFMT == S_IFDIR else { throw HostFiles.Failure(message: "\(directory) is not a directory") }
        } else {
            throw HostFiles.fail("cannot write into", directory)
        }
        self.destination = destination
        let unnamed = OSName.withPath(directory) { open($0, HostFiles.openTemporary | O_WRONLY | O_CLOEXEC, mode) }
        if unnamed >= 0 {
            fd = unnamed
            temporaryName = nil
        } else {
            var template = (OSName.bytes(directory + "/." + name + ".cohort-XXXXXX") + [0]).map { CChar(bitPattern: $0) }
            let made = mkstemp(&template)
            guard made >= 0 else { throw HostFiles.fail("cannot create a file in", directory) }
            fd = made
            temporaryName = OSName.string(template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) })
        }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        fchmod(fd, mode)
    }

    /// fsync, owner, then into place with one rename: a reader sees the old file or the new.
    func land(owner: (uid_t, gid_t)?, mode: mode_t) throws(HostFiles.Failure) {
        defer { close(fd) }
        if let (uid, gid) = owner, fchown(fd, uid, gid) != 0 {
            abandon()
            throw HostFiles.fail("cannot set the owner of", destination)
        }
        fchmod(fd, mode)
        guard fsync(fd) == 0 else {
            let code = errno
            abandon()
            throw HostFiles.fail("cannot write", destination, code)
        }
        let (directory, name) = HostFiles.split(destination)
        let staged: String
        if let temporaryName {
            staged = temporaryName
        } else {
            staged = directory + "/." + name + ".cohort-\(getpid())"
            HostFiles.unlink(staged)
            guard OSName.withPath(staged, { linkat(AT_FDCWD, "/proc/self/fd/\(fd)", AT_FDCWD, $0, AT_SYMLINK_FOLLOW) }) == 0 else {
                throw HostFiles.fail("cannot create", destination)
            }
        }
        guard HostFiles.rename(staged, destination) == 0 else {
            let code = errno
            HostFiles.unlink(staged)
            throw HostFiles.fail("cannot replace", destination, code)
        }
        let dirFD = OSName.withPath(directory) { open($0, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
        if dirFD >= 0 {
            fsync(dirFD)
            close(dirFD)
        }
    }

    /// Leaves nothing behind: the unnamed file goes with its descriptor; a named one is removed.
    func abandon() {
        if let temporaryName { HostFiles.unlink(temporaryName) }
    }

    func discard() {
        abandon()
        close(fd)
    }
}
