import CohortCore
import Synchronization

/// The process's connections to bastions, one per chain of hops, shared by every host behind
/// it: 500 hosts behind one bastion make one connection to it, each host a tunnel inside.
/// A connection lives while some host uses it (counted by leases) and is closed after the last
/// one goes; one found dead is replaced by the next host that needs it.
actor Bastions {
    static let shared = Bastions()

    private struct Entry {
        let id: Int
        let connection: Task<SSHConnection, any Error>
        var users: Int
    }

    private var entries: [String: Entry] = [:]
    private var nextID = 0

    /// A connection to the last hop of `chain`, reached through the ones before it, and how long
    /// making it took if this call made it (that much of the caller's connect timeout is spent).
    func lease(_ chain: [SSHTarget], client: SSHClient) async throws -> (lease: BastionLease, spent: Duration) {
        let key = chain.map(\.identity).joined(separator: "\u{2}")
        if let entry = entries[key] {
            // Counted before waiting, so that the connection is not closed under a joiner.
            entries[key]?.users += 1
            // A connect that failed fails everyone who waited on it, with its own words: 500
            // hosts behind a bastion that is down do not try it 500 times.
            let connection = try await entry.connection.value
            if connection.isUsable { return (BastionLease(key: key, id: entry.id, connection: connection), .zero) }
            // It died since: replaced. Leases still held on it are ignored when released; the
            // dead connection is freed with the last of them.
            if entries[key]?.id == entry.id { entries[key] = nil }
        }
        let id = nextID
        nextID += 1
        let started = ContinuousClock.now
        let task = Task { try await client.connectHop(chain) }
        entries[key] = Entry(id: id, connection: task, users: 1)
        do {
            let connection = try await task.value
            return (BastionLease(key: key, id: id, connection: connection), .now - started)
        } catch {
            if entries[key]?.id == id { entries[key] = nil }
            throw error
        }
    }

    func release(key: String, id: Int) async {
        guard var entry = entries[key], entry.id == id else { return }
        entry.users -= 1
        if entry.users > 0 {
            entries[key] = entry
            return
        }
        entries[key] = nil
        if let connection = try? await entry.connection.value { await connection.close() }
    }
}

/// One host's use of a bastion connection; released once, when that host's connection closes.
final class BastionLease: Sendable {
    let key: String
    let id: Int
    let connection: SSHConnection
    private let released = Atomic<Bool>(false)

    init(key: String, id: Int, connection: SSHConnection) {
        self.key = key
        self.id = id
        self.connection = connection
    }

    func release() async {
        guard !released.exchange(true, ordering: .relaxed) else { return }
        await Bastions.shared.release(key: key, id: id)
    }
}
