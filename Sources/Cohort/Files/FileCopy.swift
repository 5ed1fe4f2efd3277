import CohortCore
import CohortSSH
import CohortWire
import Foundation

/// `cohort copy`: local files and trees to every host at once, each file landing atomically,
/// a file whose content is already there not sent again.
public struct FileCopy: Sendable {
    public struct Options: Sendable {
        public var recursive = false
        /// Copy what links point to rather than the links (rsync's `-L`).
        public var followLinks = false
        /// Mode for every file (directories keep theirs); nil keeps each file's own.
        public var mode: UInt32?
        /// Names or numeric ids; empty keeps the remote user's.
        public var owner = ""
        public var group = ""
        /// A cap on new connections per second (nil: none; the handshake window adapts).
        public var connectRate: Double?

        public init() {}
    }

    /// One file (or directory, or link) on one host.
    public struct FileReport: Sendable {
        public var host: String
        public var path: String
        /// nil when it failed (`failure` says why).
        public var outcome: FileOutcome?
        public var failure: String?
        public var bytesSent: UInt64
    }

    /// How a host ended: what changed, what was already right, what failed, or why the host
    /// could not be copied to at all.
    public struct HostReport: Sendable {
        public var host: String
        public var changed = 0
        public var unchanged = 0
        public var failed: [(path: String, reason: String)] = []
        public var bytesSent: UInt64 = 0
        public var error: CohortError?
    }

    /// Files up to this size are read whole and go in batches; bigger ones stream in chunks.
    static let inlineLimit = 64 << 10

    public let hosts: [FleetHost]
    public let sources: [String]
    public let destination: String
    public let options: Options
    public let worker: WorkerBinary
    let items: [[LocalItem]]
    /// The sources read as directories: where they land depends on their own name alone.
    let directorySources: Set<String>
    let client: SSHClient

    /// Reads every source first: a missing one, or a directory without `-r`, throws (exit 4)
    /// before any host is contacted.
    public init(hosts: [FleetHost], sources: [String], destination: String, options: Options, worker: WorkerBinary, client: SSHClient = SSHClient()) throws {
        guard !sources.isEmpty else { throw CohortError(.invalidInput, "nothing to copy: cohort copy PATTERN SRC... DEST") }
        guard !destination.isEmpty else { throw CohortError(.invalidInput, "the destination is empty") }
        self.hosts = hosts
        self.sources = sources
        self.destination = destination
        self.options = options
        self.worker = worker
        self.client = client
        items = try sources.map { try LocalTree.scan($0, recursive: options.recursive, followLinks: options.followLinks) }
        directorySources = Set(zip(sources, items).filter { $0.1.first?.kind == .directory }.map(\.0))
    }

    /// Bytes of regular files one host gets when nothing is there yet: what a progress meter
    /// counts towards (times the hosts).
    public var totalBytes: UInt64 { items.joined().filter { $0.kind == .file }.reduce(0) { $0 + $1.size } }

    /// `onProgress` is told of bytes accounted for on some host as the copy goes: sent, or
    /// found already there; over the run they add up to `totalBytes` per host that stayed.
    public func run(
        onFile: @escaping @Sendable (FileReport) -> Void = { _ in }, onProgress: @escaping @Sendable (UInt64) -> Void = { _ in }
    ) async -> [HostReport] {
        let limiter = ConnectRateLimiter(perSecond: options.connectRate)
        var sessions: [HostSession] = []
        var reports: [HostReport] = []
        await withTaskGroup(of: (HostSession?, HostReport?).self) { group in
            for host in hosts {
                group.addTask {
                    do { return (try await HostSession.open(host, worker: worker, client: client, limiter: limiter), nil) } catch {
                        return (nil, HostReport(host: host.name, error: error as? CohortError ?? CohortError(.io, "\(error)", host: host.name)))
                    }
                }
            }
            for await (session, failure) in group {
                if let session { sessions.append(session) }
                if let failure { reports.append(failure) }
            }
        }
        // Where DEST stands on each host decides where each source lands there.
        let needsDirectory = CopyPlacement.needsDirectory(
            sources: sources.count, anyDirectory: items.contains { $0.first?.kind == .directory }, destination: destination)
        await forEach(sessions) { session in
            do {
                let listed = try await session.conversation.call(kind: "file.list", payload: GetRequest(path: destination).encoded())
                let entries = listed.outcome == .exited ? (try? FileEntry.decode(listed.payload)) ?? [] : []
                session.destinationIsDirectory = entries.first?.kind == .directory
                guard needsDirectory, !session.destinationIsDirectory else { return }
                // Made only when missing: an existing directory keeps its mode and owner.
                guard entries.isEmpty else {
                    return session.stop(path: destination, reason: "\(destination) exists and is not a directory", onFile: onFile)
                }
                let request = PutRequest(path: destination, entry: FileEntry(components: [], kind: .directory, mode: 0o755))
                let result = try await session.conversation.call(kind: "file.put", payload: request.encoded())
                guard result.outcome == .exited else { return session.stop(path: destination, reason: result.message, onFile: onFile) }
                session.destinationIsDirectory = true
            } catch {
                session.fail(error)
            }
        }
        for (index, source) in sources.enumerated() {
            var batch: [(LocalItem, [UInt8]?)] = []
            var batchBytes = 0
            for item in items[index] {
                if item.kind == .file, item.size > UInt64(Self.inlineLimit) {
                    await sendBatch(batch, source: source, sessions: sessions, onFile: onFile, onProgress: onProgress)
                    batch = []
                    batchBytes = 0
                    await stream(item, source: source, sessions: sessions, onFile: onFile, onProgress: onProgress)
                    continue
                }
                var item = item
                var content: [UInt8]?
                if item.kind == .file {
                    guard let bytes = LocalTree.contents(of: item.path) else {
                        for session in sessions where !session.isDone {
                            session.record(path: remotePath(item, source, session), failure: "cannot read \(item.path) here", onFile: onFile)
                        }
                        continue
                    }
                    content = bytes
                    item.size = UInt64(bytes.count)
                }
                batch.append((item, content))
                batchBytes += content?.count ?? 0
                if batchBytes >= 4 << 20 || batch.count >= 512 {
                    await sendBatch(batch, source: source, sessions: sessions, onFile: onFile, onProgress: onProgress)
                    batch = []
                    batchBytes = 0
                }
            }
            await sendBatch(batch, source: source, sessions: sessions, onFile: onFile, onProgress: onProgress)
        }
        for session in sessions {
            await session.conversation.shutdown()
            await session.workers.close()
            reports.append(session.report)
        }
        let order = Dictionary(uniqueKeysWithValues: hosts.enumerated().map { ($1.name, $0) })
        return reports.sorted { (order[$0.host] ?? 0) < (order[$1.host] ?? 0) }
    }

    private func request(for item: LocalItem, at path: String, inside: [String], sha256: String = "") -> PutRequest {
        var entry = FileEntry(components: inside, kind: item.kind, mode: item.mode, size: item.size, linkTarget: item.linkTarget)
        if item.kind == .file, let mode = options.mode { entry.mode = mode }
        return PutRequest(path: path, entry: entry, sha256: sha256, owner: options.owner, group: options.group)
    }

    private func remotePath(_ item: LocalItem, _ source: String, _ session: HostSession) -> String {
        CopyPlacement.remotePath(
            for: item, source: source, sourceIsDirectory: directorySources.contains(source), sources: sources.count, destination: destination,
            destinationIsDirectory: session.destinationIsDirectory)
    }

    private func inside(_ item: LocalItem, _ source: String, _ session: HostSession) -> [String] {
        CopyPlacement.namesInside(
            for: item, source: source, sourceIsDirectory: directorySources.contains(source), sources: sources.count, destination: destination,
            destinationIsDirectory: session.destinationIsDirectory)
    }

    /// Directories, links and small files, in two rounds per host, each sent at once (the
    /// worker runs them in order): links, directories and checks of the files' content; then
    /// the files that differ, their bytes inside the request. No round trip per file, and an
    /// unchanged file's bytes are never sent.
    private func sendBatch(
        _ batch: [(LocalItem, [UInt8]?)], source: String, sessions: [HostSession], onFile: @escaping @Sendable (FileReport) -> Void,
        onProgress: @escaping @Sendable (UInt64) -> Void
    ) async {
        guard !batch.isEmpty else { return }
        let hashes = batch.map { _, content in content.map(FileDigest.sha256(of:)) }
        await forEach(sessions) { session in
            var checks: [(Int, String, AsyncStream<WireMessage>)] = []
            for (offset, (item, content)) in batch.enumerated() {
                let path = remotePath(item, source, session)
                let kind = content == nil ? "file.put" : "file.check"
                let (_, frames) = await session.conversation.open(
                    kind: kind, payload: request(for: item, at: path, inside: inside(item, source, session), sha256: hashes[offset] ?? "").encoded())
                checks.append((offset, path, frames))
            }
            var differ: [(String, UInt64, AsyncStream<WireMessage>)] = []
            for (offset, path, frames) in checks {
                let result = await Self.result(of: frames)
                let content = batch[offset].1
                guard let content, let result, result.outcome == .exited, FileAnswer(decoding: result.payload)?.outcome == .differs else {
                    await session.record(path: path, result: result, bytes: 0, onFile: onFile)
                    onProgress(UInt64(content?.count ?? 0))
                    continue
                }
                var put = request(for: batch[offset].0, at: path, inside: inside(batch[offset].0, source, session), sha256: hashes[offset] ?? "")
                put.inline = content
                let (_, frames) = await session.conversation.open(kind: "file.put", payload: put.encoded())
                differ.append((path, UInt64(content.count), frames))
            }
            for (path, size, frames) in differ {
                await session.record(path: path, result: await Self.result(of: frames), bytes: size, onFile: onFile)
                onProgress(size)
            }
        }
    }

    /// A task's result; nil when its channel ended first.
    private static func result(of frames: AsyncStream<WireMessage>) async -> ResultFrame? {
        for await frame in frames {
            if case .result(let answer) = frame { return answer }
        }
        return nil
    }

    /// A big file: hashed once, then read once for every host that asks for its data.
    private func stream(
        _ item: LocalItem, source: String, sessions: [HostSession], onFile: @escaping @Sendable (FileReport) -> Void,
        onProgress: @escaping @Sendable (UInt64) -> Void
    ) async {
        let alive = sessions.filter { !$0.isDone }
        guard !alive.isEmpty else { return }
        let hash: String
        do { hash = try LocalTree.sha256(of: item.path) } catch {
            for session in alive { session.record(path: remotePath(item, source, session), failure: "\(error)", onFile: onFile) }
            return
        }
        let feeder = ChunkFeeder(path: item.path, hosts: alive.map(\.name))
        await forEach(alive) { session in
            let path = remotePath(item, source, session)
            let (id, frames) = await session.conversation.open(kind: "file.put", payload: request(for: item, at: path, inside: inside(item, source, session), sha256: hash).encoded())
            var credit: UInt64 = 0
            var next = 0
            var sent: UInt64 = 0
            var finished = false
            // A chunk taken from the feeder that the credit did not yet allow to send.
            var held: [UInt8]?
            var result: ResultFrame?
            for await frame in frames {
                switch frame {
                case .credit(_, let bytes):
                    credit += UInt64(bytes)
                    while !finished {
                        if held == nil { held = await feeder.chunk(next, for: session.name) }
                        guard let chunk = held else {
                            await session.conversation.send(.data(taskID: id, bytes: []))
                            finished = true
                            await feeder.leave(session.name)
                            break
                        }
                        guard UInt64(chunk.count) <= credit else { break }
                        await session.conversation.send(.data(taskID: id, bytes: chunk))
                        held = nil
                        credit -= UInt64(chunk.count)
                        sent += UInt64(chunk.count)
                        onProgress(UInt64(chunk.count))
                        next += 1
                    }
                case .result(let answer):
                    result = answer
                default:
                    continue
                }
            }
            await feeder.leave(session.name)
            await session.record(path: path, result: result, bytes: sent, onFile: onFile)
            if item.size > sent { onProgress(item.size - sent) }
        }
    }

    private func forEach(_ sessions: [HostSession], _ body: @escaping @Sendable (HostSession) async -> Void) async {
        await withTaskGroup(of: Void.self) { group in
            for session in sessions where !session.isDone { group.addTask { await body(session) } }
        }
    }
}
