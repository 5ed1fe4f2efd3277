import CohortCore
import CohortSSH
import CohortWire
import Foundation

/// `cohort fetch`: files (trees with `-r`) from every host into `LOCALDIR/HOST/<remote path>`,
/// as Ansible's fetch lays them out, each written atomically, a file already the same not
/// sent again. Nothing a host sends can write outside `LOCALDIR/HOST/`.
public struct FileFetch: Sendable {
    public struct Options: Sendable {
        public var recursive = false
        public var followLinks = false
        /// A cap on new connections per second (nil: none; the handshake window adapts).
        public var connectRate: Double?

        public init() {}
    }

    /// Bytes a host may have in flight to this coordinator for one file.
    static let window: UInt32 = 1 << 20

    public let hosts: [FleetHost]
    public let remotes: [String]
    public let localDirectory: String
    public let options: Options
    public let worker: WorkerBinary
    let client: SSHClient

    /// Checks LOCALDIR (made if missing; it must be a writable directory) and each remote
    /// path's shape before any host is contacted.
    public init(hosts: [FleetHost], remotes: [String], localDirectory: String, options: Options, worker: WorkerBinary, client: SSHClient = SSHClient()) throws {
        guard !remotes.isEmpty else { throw CohortError(.invalidInput, "nothing to fetch: cohort fetch PATTERN REMOTE... LOCALDIR") }
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: localDirectory, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw CohortError(.invalidInput, "the local folder is a file", file: localDirectory) }
        } else {
            do { try FileManager.default.createDirectory(atPath: localDirectory, withIntermediateDirectories: true) } catch {
                throw CohortError(.invalidInput, "cannot create the local folder: \(error.localizedDescription)", file: localDirectory)
            }
        }
        guard access(localDirectory, W_OK) == 0 else { throw CohortError(.invalidInput, "the local folder is not writable", file: localDirectory) }
        for remote in remotes { _ = try Self.components(of: remote) }
        for host in hosts where !FileEntry.isSafe(host.name) {
            throw CohortError(.invalidInput, "host name '\(Printable.escaped(host.name))' cannot name a folder under \(localDirectory)")
        }
        self.hosts = hosts
        self.remotes = remotes
        self.localDirectory = localDirectory
        self.options = options
        self.worker = worker
        self.client = client
    }

    /// Where a remote path goes under `LOCALDIR/HOST`: its components, `.` dropped, `..`
    /// resolved within it, a leading `~` dropped (`~/x` and `x` are both the user's `x`).
    static func components(of remote: String) throws(CohortError) -> [String] {
        var out: [String] = []
        for part in remote.split(separator: "/").map(String.init) where part != "." {
            if part == ".." {
                guard !out.isEmpty else { throw CohortError(.invalidInput, "the remote path '\(remote)' climbs above its root") }
                out.removeLast()
            } else {
                out.append(part)
            }
        }
        if out.first == "~" { out.removeFirst() }
        guard !out.isEmpty, out.allSatisfy(FileEntry.isSafe) else { throw CohortError(.invalidInput, "'\(remote)' does not name a file to fetch") }
        return out
    }

    /// `onProgress(expected, done)` tells of bytes as the fetch learns of them: `expected` when a
    /// listing names files, `done` as they arrive or are found already here (or fail).
    public func run(
        onFile: @escaping @Sendable (FileCopy.FileReport) -> Void = { _ in },
        onProgress: @escaping @Sendable (_ expected: UInt64, _ done: UInt64) -> Void = { _, _ in }
    ) async -> [FileCopy.HostReport] {
        let limiter = ConnectRateLimiter(perSecond: options.connectRate)
        let root: LocalFolder
        do { root = try LocalFolder.open(localDirectory) } catch {
            return hosts.map { FileCopy.HostReport(host: $0.name, error: error) }
        }
        defer { root.close() }
        return await withTaskGroup(of: FileCopy.HostReport.self) { group in
            for host in hosts {
                group.addTask {
                    let session: HostSession
                    do { session = try await HostSession.open(host, worker: worker, client: client, limiter: limiter) } catch {
                        return FileCopy.HostReport(host: host.name, error: error as? CohortError ?? CohortError(.io, "\(error)", host: host.name))
                    }
                    await fetch(into: root, session: session, onFile: onFile, onProgress: onProgress)
                    await session.conversation.shutdown()
                    await session.workers.close()
                    return session.report
                }
            }
            var reports: [FileCopy.HostReport] = []
            for await report in group { reports.append(report) }
            let order = Dictionary(uniqueKeysWithValues: hosts.enumerated().map { ($1.name, $0) })
            return reports.sorted { (order[$0.host] ?? 0) < (order[$1.host] ?? 0) }
        }
    }

    private func fetch(
        into root: LocalFolder, session: HostSession, onFile: @escaping @Sendable (FileCopy.FileReport) -> Void,
        onProgress: @escaping @Sendable (UInt64, UInt64) -> Void
    ) async {
        for remote in remotes where session.error == nil {
            let base: [String]
            do { base = try Self.components(of: remote) } catch {
                session.record(path: remote, failure: error.message, onFile: onFile)
                continue
            }
            // The listing in pages, each within a frame (code 1: more follow).
            var entries: [FileEntry] = []
            var listed: String?
            while true {
                let listing: ResultFrame
                do {
                    let request = GetRequest(path: remote, recursive: options.recursive, followLinks: options.followLinks, skip: UInt64(entries.count))
                    listing = try await session.conversation.call(kind: "file.list", payload: request.encoded())
                } catch {
                    session.fail(error)
                    return
                }
                guard listing.outcome == .exited, let page = try? FileEntry.decode(listing.payload), !page.isEmpty else {
                    listed = listing.message.isEmpty ? "cannot list \(remote)" : listing.message
                    break
                }
                entries += page
                if listing.code != 1 { break }
            }
            guard listed == nil, let top = entries.first else {
                session.record(path: remote, failure: listed ?? "cannot list \(remote)", onFile: onFile)
                continue
            }
            if top.kind == .directory, !options.recursive {
                session.record(path: remote, failure: "\(remote) is a directory (give -r to fetch it with what it holds)", onFile: onFile)
                continue
            }
            onProgress(entries.filter { $0.kind == .file }.reduce(0) { $0 + $1.size }, 0)
            var shown = remote
            while shown.count > 1, shown.hasSuffix("/") { shown.removeLast() }
            for entry in entries where session.error == nil {
                let remotePath = entry.components.isEmpty ? remote : ([shown] + entry.components).joined(separator: "/")
                // Names come from the host: each is checked again here, and written below
                // LOCALDIR/HOST only through real directories.
                guard entry.isSafe else {
                    session.record(path: remotePath, failure: "refused an unsafe name from the host", onFile: onFile)
                    if entry.kind == .file { onProgress(0, entry.size) }
                    continue
                }
                let local = [session.name] + base + entry.components
                do {
                    switch entry.kind {
                    case .directory:
                        let existed = root.hasDirectory(local)
                        try root.folder(local).close()
                        await session.record(path: remotePath, result: Self.done(existed ? .unchanged : .changed), bytes: 0, onFile: onFile)
                    case .symlink:
                        let folder = try root.folder(Array(local.dropLast()))
                        defer { folder.close() }
                        let changed = try folder.symlink(local.last!, to: entry.linkTarget)
                        await session.record(path: remotePath, result: Self.done(changed ? .changed : .unchanged), bytes: 0, onFile: onFile)
                    case .file:
                        let folder = try root.folder(Array(local.dropLast()))
                        defer { folder.close() }
                        let path = remotePath
                        // What did not arrive (found here already, or failed) is accounted for at the end.
                        var received: UInt64 = 0
                        defer { onProgress(0, entry.size > received ? entry.size - received : 0) }
                        try await get(path, name: local.last!, into: folder, session: session, onFile: onFile) {
                            received += $0
                            onProgress(0, $0)
                        }
                    }
                } catch {
                    session.record(path: remotePath, failure: error.message, onFile: onFile)
                }
            }
        }
    }

    private static func done(_ outcome: FileOutcome) -> ResultFrame {
        ResultFrame(taskID: 0, attempt: 0, outcome: .exited, code: 0, payload: FileAnswer(outcome).encoded(), durationNanos: 0)
    }

    private func get(
        _ remotePath: String, name: String, into folder: LocalFolder, session: HostSession, onFile: @escaping @Sendable (FileCopy.FileReport) -> Void,
        onBytes: (UInt64) -> Void
    ) async throws(CohortError) {
        let request = GetRequest(path: remotePath, sha256: folder.sha256(of: name) ?? "", window: Self.window, followLinks: options.followLinks)
        let (id, frames) = await session.conversation.open(kind: "file.get", payload: request.encoded())
        var landing: LocalLanding?
        var received: UInt64 = 0
        var ended = false
        var failure: CohortError?
        var result: ResultFrame?
        for await frame in frames {
            switch frame {
            case .data(_, let bytes):
                guard failure == nil else { continue }
                if bytes.isEmpty {
                    ended = true
                    continue
                }
                do {
                    if landing == nil { landing = try folder.landing(name) }
                    try landing!.write(bytes)
                    received += UInt64(bytes.count)
                    onBytes(UInt64(bytes.count))
                    await session.conversation.send(.credit(taskID: id, bytes: UInt32(bytes.count)))
                } catch {
                    failure = error
                    await session.conversation.send(.cancel(taskID: id, graceMillis: 0))
                }
            case .result(let answer):
                result = answer
            default:
                continue
            }
        }
        if let failure {
            landing?.abandon()
            throw failure
        }
        guard let result else {
            landing?.abandon()
            await session.record(path: remotePath, result: nil, bytes: received, onFile: onFile)
            return
        }
        let answer = result.outcome == .exited ? FileAnswer(decoding: result.payload) : nil
        if answer?.outcome == .changed {
            guard ended else {
                landing?.abandon()
                throw CohortError(.io, "\(remotePath): the stream ended early")
            }
            let entry = answer?.entry
            // An empty file sends no data: its landing is made now.
            let file: LocalLanding
            if let landing { file = landing } else { file = try folder.landing(name) }
            try file.land(mode: LocalLanding.fetchedMode(entry?.mode ?? 0o644))
        } else {
            landing?.abandon()
        }
        await session.record(path: remotePath, result: result, bytes: received, onFile: onFile)
    }
}
