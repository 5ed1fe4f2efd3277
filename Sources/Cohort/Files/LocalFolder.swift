import CohortCore
import CohortWire
import Foundation

/// Where `cohort fetch` writes: `LOCALDIR/HOST/...`, walked one component at a time with
/// `openat` and `O_NOFOLLOW`, so that nothing a host sends (a `..`, an absolute path, a name
/// with `/`, a symlink it planted and then a file "inside" it) can write outside the folder.
struct LocalFolder {
    let fd: Int32
    let path: String

    init(fd: Int32, path: String) {
        self.fd = fd
        self.path = path
    }

    /// Opens `root`, making it if needed.
    static func open(_ root: String) throws(CohortError) -> LocalFolder {
        try? FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let fd = Glibc.open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw CohortError(.invalidInput, "cannot use as the local folder: \(String(cString: strerror(errno)))", file: root) }
        return LocalFolder(fd: fd, path: root)
    }

    func close() { Glibc.close(fd) }

    func unlink(_ name: String) {
        OSName.withPath(name) { _ = unlinkat(fd, $0, 0) }
    }

    func rename(_ from: String, to name: String) -> Int32 {
        OSName.withPath(from) { old in OSName.withPath(name) { renameat(fd, old, fd, $0) } }
    }

    /// The folder `components` below this one, made as needed; never through a symlink.
    func folder(_ components: [String]) throws(CohortError) -> LocalFolder {
        var current = LocalFolder(fd: dup(fd), path: path)
        for component in components {
            guard FileEntry.isSafe(component) else {
                current.close()
                throw CohortError(.invalidInput, "refused a name from the host: '\(Printable.escaped(component))'")
            }
            if OSName.withPath(component, { mkdirat(current.fd, $0, 0o755) }) != 0, errno != EEXIST {
                let reason = String(cString: strerror(errno))
                current.close()
                throw CohortError(.io, "cannot create \(Printable.escaped(current.path + "/" + component)): \(reason)")
            }
            let next = OSName.withPath(component) { openat(current.fd, $0, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) }
            let reason = String(cString: strerror(errno))
            current.close()
            guard next >= 0 else {
                throw CohortError(.io, "refused to write through \(current.path)/\(component): \(errno == ELOOP || errno == ENOTDIR ? "it is not a real directory (a symlink?)" : reason)")
            }
            current = LocalFolder(fd: next, path: current.path + "/" + component)
        }
        return current
    }

    /// Whether `components` below here already is a directory (for the report only: writing
    /// goes through `folder(_:)`).
    func hasDirectory(_ components: [String]) -> Bool {
        var info = stat()
        let found = OSName.withPath(components.joined(separator: "/")) { fstatat(fd, $0, &info, AT_SYMLINK_NOFOLLOW) }
        return found == 0 && info.st_mode & S_IFMT == S_IFDIR
    }

    /// The hex SHA-256 of `name` here when it is a regular file (not followed through a link).
    func sha256(of name: String) -> String? {
        let file = OSName.withPath(name) { openat(fd, $0, O_RDONLY | O_NOFOLLOW | O_CLOEXEC) }
        guard file >= 0 else { return nil }
        return FileDigest.sha256(reading: FileHandle(fileDescriptor: file, closeOnDealloc: true))
    }

    /// A file being written as `name` here, invisible under that name until it is whole.
    func landing(_ name: String) throws(CohortError) -> LocalLanding {
        guard FileEntry.isSafe(name) else { throw CohortError(.invalidInput, "refused a name from the host: '\(Printable.escaped(name))'") }
        for attempt in 0..<100 {
            let temporary = ".\(name).cohort-\(getpid())-\(attempt)"
            let (file, error) = PartialFiles.create(path + "/" + temporary) {
                OSName.withPath(temporary) { openat(fd, $0, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600) }
            }
            if file >= 0 {
                return LocalLanding(folder: self, name: name, temporary: temporary, fd: file)
            }
            guard error == EEXIST else { throw CohortError(.io, "cannot write in \(path): \(String(cString: strerror(error)))") }
        }
        throw CohortError(.io, "cannot make a temporary file in \(path)")
    }

    /// Makes `name` a link to `target`; false when it already was one.
    @discardableResult
    func symlink(_ name: String, to target: String) throws(CohortError) -> Bool {
        guard FileEntry.isSafe(name), !target.utf8.contains(0) else { throw CohortError(.invalidInput, "refused a link from the host: '\(Printable.escaped(name))'") }
        var buffer = [CChar](repeating: 0, count: 4097)
        let n = OSName.withPath(name) { readlinkat(fd, $0, &buffer, 4096) }
        if n >= 0, OSName.string(buffer[0..<n].map { UInt8(bitPattern: $0) }) == target { return false }
        let temporary = ".\(name).cohort-link-\(getpid())"
        unlink(temporary)
        guard OSName.withPath(target, { to in OSName.withPath(temporary) { symlinkat(to, fd, $0) } }) == 0, rename(temporary, to: name) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw CohortError(.io, "cannot create the link \(path)/\(name): \(reason)")
        }
        return true
    }
}

/// A local file being fetched: written under a temporary name, fsync'd, then renamed into
/// place; removed if the fetch fails.
struct LocalLanding {
    let folder: LocalFolder
    let name: String
    let temporary: String
    let fd: Int32

    func write(_ bytes: [UInt8]) throws(CohortError) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw CohortError(.io, "cannot write \(folder.path)/\(name): \(String(cString: strerror(errno)))")
            }
            offset += n
        }
    }

    /// The mode a fetched file gets here, as scp gives it: the host's permission bits less
    /// this process's umask; setuid, setgid and sticky never (a host's 6755 file must not
    /// become a root-owned 6755 file on the coordinator).
    static func fetchedMode(_ remote: UInt32) -> UInt32 {
        remote & 0o777 & ~UInt32(ProcessUmask.current)
    }

    func land(mode: UInt32) throws(CohortError) {
        fchmod(fd, mode_t(mode & 0o7777))
        guard fsync(fd) == 0 else {
            let reason = String(cString: strerror(errno))
            abandon()
            throw CohortError(.io, "cannot write \(folder.path)/\(name): \(reason)")
        }
        Glibc.close(fd)
        let failure = PartialFiles.finish(folder.path + "/" + temporary) { folder.rename(temporary, to: name) == 0 ? 0 : errno }
        guard failure == 0 else {
            let reason = String(cString: strerror(failure))
            folder.unlink(temporary)
            throw CohortError(.io, "cannot replace \(folder.path)/\(name): \(reason)")
        }
    }

    func abandon() {
        Glibc.close(fd)
        PartialFiles.finish(folder.path + "/" + temporary) { folder.unlink(temporary) }
    }
}
