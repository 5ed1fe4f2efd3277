import CohortRegex
import CohortValue
import CohortWire

#if canImport(Glibc)
import Glibc
#endif

/// The `find` and `connect` primitives of the `fs` kind (for the `find` and `wait_for`
/// modules).
extension FsOps {
    /// Walks `paths` (at most `depth` levels, `recurse` or not), keeping entries whose name
    /// matches a pattern (shell globs, or regexps with `use_regex`), is not excluded, has the
    /// type asked for, and holds `contains` (a regexp, files only). Results are Ansible's.
    /// Bytes of results one `find` answer holds (estimated), well under a frame's 16 MiB: a
    /// bigger result comes in pages (`skip`, `more`).
    static let pageLimit = 6 << 20

    func find(_ request: FsFind) throws(HostFiles.Failure) -> Value {
        let paths = request.paths
        let patterns = request.patterns
        let excludes = request.excludes
        let useRegex = request.useRegex
        let hidden = request.hidden
        let type = request.fileType
        let maxDepth = request.depth.map { Int(clamping: $0) } ?? (request.recurse ? Int.max : 1)
        let contains = try request.contains.map { p throws(HostFiles.Failure) in try regex(p) }
        // `age` and `size` as the coordinator read them (seconds, bytes; negative: at most).
        let age = request.ageSeconds.map { Int(clamping: $0) }
        let size = request.sizeBytes.map { Int(clamping: $0) }
        let stamp = request.ageStamp
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let nowSeconds = Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
        func oldEnough(_ info: stat) -> Bool {
            guard let age else { return true }
            let time = stamp == "atime" ? info.st_atim : stamp == "ctime" ? info.st_ctim : info.st_mtim
            let elapsed = nowSeconds - (Double(time.tv_sec) + Double(time.tv_nsec) / 1e9)
            return age >= 0 ? elapsed >= Double(age) : elapsed <= Double(age.magnitude)
        }
        func sizeFits(_ info: stat) -> Bool {
            guard let size else { return true }
            return size >= 0 ? Int(info.st_size) >= size : UInt(clamping: Int(info.st_size)) <= size.magnitude
        }
        let patternRegexes = try useRegex ? patterns.map { p throws(HostFiles.Failure) in try regex(p) } : []
        let excludeRegexes = try useRegex ? excludes.map { p throws(HostFiles.Failure) in try regex(p) } : []
        func matches(_ name: String, _ globs: [String], _ regexes: [PythonRegex]) throws(HostFiles.Failure) -> Bool {
            if useRegex {
                for regex in regexes {
                    let found: PythonRegex.Match?
                    do { found = try regex.firstMatch(name) } catch { throw HostFiles.Failure(message: error.message) }
                    if let found, found.range == name.startIndex..<name.endIndex { return true }
                }
                return false
            }
            return globs.contains { pattern in fnmatch(pattern, name, 0) == 0 }
        }
        var files: [Value] = []
        let skip = Int(clamping: request.skip)
        var matched = 0
        var pageBytes = 0
        var more = false
        var examined = 0
        var skipped = Dict()
        walk: for root in paths.map(HostFiles.expand) {
            guard let info = HostFiles.info(root), info.st_mode & S_IFMT == S_IFDIR else {
                skipped[root] = .string("\(root) was skipped as it does not seem to be a valid directory or it cannot be accessed")
                continue
            }
            var pending: [(String, Int)] = [(root, 1)]
            while let (directory, depth) = pending.popLast() {
                guard let dir = OSName.withPath(directory, { opendir($0) }) else { continue }
                var names: [String] = []
                while let entry = readdir(dir) {
                    let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in OSName.string(raw.prefix { $0 != 0 }) }
                    if name != ".", name != ".." { names.append(name) }
                }
                closedir(dir)
                for name in names.sorted() {
                    WorkerPulse.beat()
                    let path = directory + "/" + name
                    guard let info = HostFiles.linkInfo(path) else { continue }
                    examined += 1
                    let kind = info.st_mode & S_IFMT
                    if kind == S_IFDIR, depth < maxDepth, hidden || !name.hasPrefix(".") { pending.append((path, depth + 1)) }
                    if !hidden, name.hasPrefix(".") { continue }
                    let typeOK = type == "any" || (type == "file" && kind == S_IFREG) || (type == "directory" && kind == S_IFDIR) || (type == "link" && kind == S_IFLNK)
                    guard typeOK else { continue }
                    if !patterns.isEmpty, try !matches(name, patterns, patternRegexes) { continue }
                    if !excludes.isEmpty, try matches(name, excludes, excludeRegexes) { continue }
                    // Ansible's order: age for every type, size for regular files only.
                    if !oldEnough(info) { continue }
                    if kind == S_IFREG, !sizeFits(info) { continue }
                    if let contains {
                        guard kind == S_IFREG, let text = try? Self.read(path, offset: 0, length: nil).dict?["content"]?.string,
                            let bytes = Base64.decode(text)
                        else { continue }
                        var hit = false
                        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false) {
                            do { hit = try contains.firstMatch(String(line)) != nil } catch { throw HostFiles.Failure(message: error.message) }
                            if hit { break }
                        }
                        guard hit else { continue }
                    }
                    // Pages: the walk is sorted, so the matches before `skip` are those earlier
                    // pages gave; past a page's bytes the rest is for the next page.
                    matched += 1
                    guard matched > skip else { continue }
                    pageBytes += 600 + path.utf8.count
                    if pageBytes > Self.pageLimit, !files.isEmpty {
                        more = true
                        break walk
                    }
                    var entry = Self.stat(path, follow: false, checksum: false).dict ?? Dict()
                    entry["exists"] = nil
                    files.append(.dict(entry))
                }
            }
        }
        return ["files": .list(files), "matched": .int(files.count), "examined": .int(examined), "skipped_paths": .dict(skipped), "more": .bool(more)]
    }

    func regex(_ pattern: String) throws(HostFiles.Failure) -> PythonRegex {
        do { return try PythonRegex(pattern) } catch { throw HostFiles.Failure(message: error.message) }
    }

    /// Whether a TCP connection to `host:port` opens within a second (numeric IPv4 only: no
    /// name is resolved).
    func connect(_ host: String, port: UInt16) throws(HostFiles.Failure) -> Value {
        guard port > 0 else { throw HostFiles.Failure(message: "connect: a port is needed") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(port.bigEndian)
        guard inet_pton(AF_INET, host == "localhost" ? "127.0.0.1" : host, &address.sin_addr) == 1 else {
            throw HostFiles.Failure(message: "connect: '\(host)' is not a numeric IPv4 address")
        }
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw HostFiles.fail("cannot open a socket for", host) }
        defer { close(fd) }
        let started = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        if started == 0 { return ["open": true] }
        guard errno == EINPROGRESS else { return ["open": false] }
        var poller = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
        guard poll(&poller, 1, 1000) == 1 else { return ["open": false] }
        var error: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
        return ["open": .bool(error == 0)]
    }
}
