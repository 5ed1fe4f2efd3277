import CohortWire

#if canImport(Glibc)
import Glibc
#endif

/// `file.get`: streams a regular file to the coordinator, never more than it granted.
struct GetFileKind: TaskKind {
    func start(_ task: TaskFrame) -> TaskStart {
        do {
            return .streaming(GetFileTask(task: task, request: try GetRequest(decoding: task.payload)))
        } catch {
            return .finished(FileResult.failedToStart(task, "bad file.get payload: \(error)"))
        }
    }
}

final class GetFileTask: StreamingTask {
    static let chunk = 256 << 10

    private let task: TaskFrame
    private let request: GetRequest
    private let path: String
    private let started = Clock.now()
    private var fd: Int32 = -1
    private var credit: UInt64
    private var sent: UInt64 = 0
    private var mode: UInt32 = 0

    init(task: TaskFrame, request: GetRequest) {
        self.task = task
        self.request = request
        path = HostFiles.expand(request.path)
        credit = UInt64(request.window)
    }

    func start() -> [WireMessage] {
        let flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK | (request.followLinks ? 0 : O_NOFOLLOW)
        fd = OSName.withPath(path) { open($0, flags) }
        // Non-blocking until it is known to be a regular file: a FIFO must not stop the worker.
        if fd >= 0 { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) }
        guard fd >= 0 else {
            let code = errno
            let why = code == ELOOP ? "\(path) is a symlink (give -L to follow it)" : "cannot read \(path): \(HostFiles.errorText(code))"
            return [FileResult.failed(task, why, started: started)]
        }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
            return finish(failure: "\(path) is not a regular file")
        }
        mode = UInt32(info.st_mode & 0o7777)
        if !request.sha256.isEmpty, HostFiles.sha256(of: path) == request.sha256 {
            return finish(outcome: .unchanged)
        }
        return produce()
    }

    func received(_ bytes: [UInt8]) -> [WireMessage] { [] }

    func granted(_ bytes: UInt32) -> [WireMessage] {
        credit += UInt64(bytes)
        return produce()
    }

    /// As much as the credit allows; the end of the file ends the stream and the task.
    private func produce() -> [WireMessage] {
        guard fd >= 0 else { return [] }
        var frames: [WireMessage] = []
        var buffer = [UInt8](repeating: 0, count: Self.chunk)
        while credit > 0 {
            let want = Int(min(UInt64(Self.chunk), credit))
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, want) }
            if n < 0, errno == EINTR { continue }
            guard n >= 0 else { return frames + finish(failure: "cannot read \(path): \(HostFiles.errorText())") }
            if n == 0 { return frames + [.data(taskID: task.id, bytes: [])] + finish(outcome: .changed) }
            frames.append(.data(taskID: task.id, bytes: Array(buffer[0..<n])))
            credit -= UInt64(n)
            sent += UInt64(n)
        }
        return frames
    }

    private func finish(outcome: FileOutcome) -> [WireMessage] {
        close(fd)
        fd = -1
        return [FileResult.done(task, outcome, started: started, entry: FileEntry(components: [], kind: .file, mode: mode, size: sent))]
    }

    private func finish(failure: String) -> [WireMessage] {
        if fd >= 0 { close(fd) }
        fd = -1
        return [FileResult.failed(task, failure, started: started)]
    }

    func cancel() -> [WireMessage] {
        guard fd >= 0 else { return [] }
        return finish(failure: "\(path): cancelled")
    }
}

/// `file.list`: what is at a path: itself, and with `recursive` everything below it, links
/// not followed (unless `followLinks`), as entries relative to the path.
struct ListFilesKind: TaskKind {
    /// Entries one listing may hold; a bigger tree is refused rather than held whole.
    static let limit = 1_000_000
    /// Bytes of encoded entries one page holds, well under a frame's 16 MiB.
    static let pageBytes = 8 << 20

    func start(_ task: TaskFrame) -> TaskStart {
        let started = Clock.now()
        let request: GetRequest
        do { request = try GetRequest(decoding: task.payload) } catch {
            return .finished(FileResult.failedToStart(task, "bad file.list payload: \(error)"))
        }
        let root = HostFiles.expand(request.path)
        var entries: [FileEntry] = []
        var failure: String?
        // The walk is sorted, so each page's walk meets the entries in the same order: it
        // leaves out the first `skip` and stops once a page is full.
        var seen: UInt64 = 0
        var pageSize = 0
        var more = false
        func visit(_ path: String, _ components: [String]) {
            guard failure == nil, !more else { return }
            guard seen < UInt64(Self.limit) else {
                failure = "more than \(Self.limit) entries under \(root)"
                return
            }
            WorkerPulse.beat()
            let found = request.followLinks ? HostFiles.info(path) : HostFiles.linkInfo(path)
            guard let info = found, let kind = HostFiles.kind(info) else {
                if components.isEmpty { failure = found == nil ? "cannot read \(path): \(HostFiles.errorText())" : "\(path) is not a file, directory or link" }
                return
            }
            seen += 1
            if seen > request.skip {
                let entry = FileEntry(
                    components: components, kind: kind, mode: UInt32(info.st_mode & 0o7777), size: kind == .file ? UInt64(info.st_size) : 0,
                    linkTarget: kind == .symlink ? HostFiles.readLink(path) ?? "" : "")
                pageSize += 64 + components.reduce(0) { $0 + $1.utf8.count + 8 } + entry.linkTarget.utf8.count
                if pageSize > Self.pageBytes, !entries.isEmpty {
                    more = true
                    return
                }
                entries.append(entry)
            }
            guard kind == .directory, request.recursive else { return }
            guard let dir = OSName.withPath(path, { opendir($0) }) else {
                failure = "cannot list \(path): \(HostFiles.errorText())"
                return
            }
            var names: [String] = []
            while let item = readdir(dir) {
                let name = withUnsafeBytes(of: item.pointee.d_name) { raw in OSName.string(raw.prefix { $0 != 0 }) }
                if name != ".", name != ".." { names.append(name) }
            }
            closedir(dir)
            for name in names.sorted() { visit(path + "/" + name, components + [name]) }
        }
        visit(root, [])
        if let failure { return .finished(FileResult.failedFrame(task, failure, started: started)) }
        return .finished(ResultFrame(
            taskID: task.id, attempt: task.attempt, outcome: .exited, code: more ? 1 : 0, payload: FileEntry.encode(entries),
            durationNanos: Clock.now() - started))
    }
}
