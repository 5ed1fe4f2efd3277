import CohortWire

#if canImport(Glibc)
import Glibc
#endif

/// `file.put`: makes a path on the host what the coordinator describes (a file, a directory,
/// a symlink), atomically, and skips the data of a file whose content is already right.
/// `file.check` (`checkOnly`): only that comparison, settling mode and owner of a file whose
/// content matches, and answering `differs` otherwise, so that a batch of small files needs
/// one round of checks, then their bytes inline, with no round trip per file.
struct PutFileKind: TaskKind {
    var checkOnly = false

    func start(_ task: TaskFrame) -> TaskStart {
        do {
            return .streaming(PutFileTask(task: task, request: try PutRequest(decoding: task.payload), checkOnly: checkOnly))
        } catch {
            return .finished(FileResult.failedToStart(task, "bad file.put payload: \(error)"))
        }
    }
}

/// Results of the file kinds: `exited 0` with the outcome's word as payload, or `failed` with
/// the reason in words.
enum FileResult {
    static func done(_ task: TaskFrame, _ outcome: FileOutcome, started: UInt64, entry: FileEntry? = nil) -> WireMessage {
        .result(ResultFrame(
            taskID: task.id, attempt: task.attempt, outcome: .exited, code: 0, payload: FileAnswer(outcome, entry: entry).encoded(),
            durationNanos: Clock.now() - started))
    }

    static func failed(_ task: TaskFrame, _ message: String, started: UInt64) -> WireMessage {
        .result(failedFrame(task, message, started: started))
    }

    static func failedFrame(_ task: TaskFrame, _ message: String, started: UInt64) -> ResultFrame {
        ResultFrame(taskID: task.id, attempt: task.attempt, outcome: .failed, code: 1, message: message, durationNanos: Clock.now() - started)
    }

    static func failedToStart(_ task: TaskFrame, _ message: String) -> ResultFrame {
        ResultFrame(taskID: task.id, attempt: task.attempt, outcome: .failedToStart, code: 0, message: message, durationNanos: 0)
    }
}

final class PutFileTask: StreamingTask {
    /// Bytes the coordinator may have in flight to this task: the worker's memory bound.
    static let window: UInt32 = 1 << 20

    private let task: TaskFrame
    private let request: PutRequest
    private let path: String
    private let started = Clock.now()
    private var landing: LandingFile?
    private var owner: (uid_t, gid_t)?
    private var written: UInt64 = 0
    private var credit: UInt64 = 0
    private let checkOnly: Bool

    init(task: TaskFrame, request: PutRequest, checkOnly: Bool = false) {
        self.task = task
        self.request = request
        self.checkOnly = checkOnly
        path = HostFiles.expand(request.path)
    }

    private var mode: mode_t { mode_t(request.entry.mode & 0o7777) }

    func start() -> [WireMessage] {
        do {
            owner = try HostFiles.owner(request.owner, request.group)
            // Inside DEST every level must be a real directory: a link planted there is replaced
            // (as rsync does), never written through. A file's or link's own name is replaced by
            // its rename; a directory's own name is checked too.
            try HostFiles.replaceLinks(in: path, inside: request.entry.components.count, isDirectory: request.entry.kind == .directory)
            switch request.entry.kind {
            case .directory: return [try directory()]
            case .symlink: return [try symlink()]
            case .file: break
            }
            if let existing = HostFiles.linkInfo(path), existing.st_mode & S_IFMT == S_IFDIR {
                return [FileResult.failed(task, "\(path) is a directory", started: started)]
            }
            // Inline bytes come after a `file.check` found the content different: not hashed again.
            if request.inline == nil, let existing = HostFiles.linkInfo(path), existing.st_mode & S_IFMT == S_IFREG,
                UInt64(existing.st_size) == request.entry.size, HostFiles.sha256(of: path) == request.sha256
            {
                return [try settle(existing)]
            }
            if checkOnly { return [FileResult.done(task, .differs, started: started)] }
            landing = try LandingFile(destination: path, mode: mode)
            if let inline = request.inline { return received(inline) + received([]) }
            credit = UInt64(Self.window)
            return [.credit(taskID: task.id, bytes: Self.window)]
        } catch {
            landing?.discard()
            landing = nil
            return [FileResult.failed(task, error.message, started: started)]
        }
    }

    /// Same content: only mode and owner may still need setting.
    private func settle(_ existing: stat) throws(HostFiles.Failure) -> WireMessage {
        var changed = false
        if existing.st_mode & 0o7777 != mode {
            guard OSName.withPath(path, { chmod($0, mode) }) == 0 else { throw HostFiles.fail("cannot set the mode of", path) }
            changed = true
        }
        if let (uid, gid) = owner, (uid != uid_t.max && uid != existing.st_uid) || (gid != gid_t.max && gid != existing.st_gid) {
            guard OSName.withPath(path, { lchown($0, uid, gid) }) == 0 else { throw HostFiles.fail("cannot set the owner of", path) }
            changed = true
        }
        return FileResult.done(task, changed ? .changed : .unchanged, started: started)
    }

    private func directory() throws(HostFiles.Failure) -> WireMessage {
        if let existing = HostFiles.info(path) {
            guard existing.st_mode & S_IFMT == S_IFDIR else { throw HostFiles.Failure(message: "\(path) exists and is not a directory") }
            return try settle(existing)
        }
        try HostFiles.makeDirectories(path, mode: mode)
        OSName.withPath(path) { _ = chmod($0, mode) }
        if let (uid, gid) = owner, OSName.withPath(path, { chown($0, uid, gid) }) != 0 { throw HostFiles.fail("cannot set the owner of", path) }
        return FileResult.done(task, .changed, started: started)
    }

    private func symlink() throws(HostFiles.Failure) -> WireMessage {
        let target = request.entry.linkTarget
        if let existing = HostFiles.linkInfo(path), existing.st_mode & S_IFMT == S_IFLNK, HostFiles.readLink(path) == target {
            return FileResult.done(task, .unchanged, started: started)
        }
        let (directory, name) = HostFiles.split(path)
        let staged = directory + "/." + name + ".cohort-link-\(getpid())"
        HostFiles.unlink(staged)
        guard OSName.withPath(target, { to in OSName.withPath(staged) { Glibc.symlink(to, $0) } }) == 0 else {
            throw HostFiles.fail("cannot create the link", path)
        }
        if let (uid, gid) = owner { OSName.withPath(staged) { _ = lchown($0, uid, gid) } }
        guard HostFiles.rename(staged, path) == 0 else {
            let code = errno
            HostFiles.unlink(staged)
            throw HostFiles.fail("cannot replace", path, code)
        }
        return FileResult.done(task, .changed, started: started)
    }

    func received(_ bytes: [UInt8]) -> [WireMessage] {
        guard let landing else { return [] }
        if bytes.isEmpty {
            self.landing = nil
            guard written == request.entry.size else {
                landing.discard()
                return [FileResult.failed(task, "\(path): \(written) of \(request.entry.size) bytes arrived; nothing was changed", started: started)]
            }
            do {
                try landing.land(owner: owner, mode: mode)
                return [FileResult.done(task, .changed, started: started)]
            } catch {
                return [FileResult.failed(task, error.message, started: started)]
            }
        }
        guard request.inline != nil || UInt64(bytes.count) <= credit, written + UInt64(bytes.count) <= request.entry.size else {
            landing.discard()
            self.landing = nil
            return [FileResult.failed(task, "\(path): the coordinator sent more than it may", started: started)]
        }
        let ok = bytes.withUnsafeBytes { HostFiles.writeAll(landing.fd, $0) }
        guard ok else {
            let reason = HostFiles.errorText()
            landing.discard()
            self.landing = nil
            return [FileResult.failed(task, "cannot write \(path): \(reason); the old file is intact", started: started)]
        }
        written += UInt64(bytes.count)
        if request.inline != nil { return [] }
        credit -= UInt64(bytes.count)
        // What was written is room again.
        credit += UInt64(bytes.count)
        return [.credit(taskID: task.id, bytes: UInt32(bytes.count))]
    }

    func granted(_ bytes: UInt32) -> [WireMessage] { [] }

    func cancel() -> [WireMessage] {
        landing?.discard()
        landing = nil
        return [FileResult.failed(task, "\(path): cancelled; the old file is intact", started: started)]
    }
}
