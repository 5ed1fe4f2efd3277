import Foundation
import Synchronization

/// What every job of a map shares, shipped once per worker instead of inside every input
/// (Python's `Pool(initializer:initargs:)`): `cluster.map(J.self, inputs, context: config)`
/// on the coordinator, `try JobContext.current(Config.self)` inside `run`.
///
/// The context travels with the first task each worker gets in a map; later tasks name it by
/// its SHA-256. A worker keeps the last few contexts it was sent and the values decoded from
/// them, so a job reading it per input decodes it once per worker, not once per input.
public enum JobContext {
    /// The map's context as `type`. Throws `JobFailure` `Cohort.noContext` when the map was
    /// given none, `Cohort.badContext` when it does not decode as `type`.
    public static func current<C: Decodable & Sendable>(_ type: C.Type) throws -> C {
        guard let shipped = shipped else {
            throw JobFailure(type: "Cohort.noContext", message: "this map was given no context (pass context: to map)")
        }
        let key = "\(shipped.hash) \(String(reflecting: C.self))"
        if let value = decoded.withLock({ $0.first { $0.key == key }?.value }) as? C { return value }
        let value: C
        do { value = try JSONDecoder().decode(C.self, from: shipped.bytes) } catch {
            throw JobFailure(type: "Cohort.badContext", message: "the map's context does not decode as \(C.self): \(error)")
        }
        decoded.withLock { entries in
            entries.append((key, value))
            if entries.count > keptContexts { entries.removeFirst() }
        }
        return value
    }

    /// The context of the batch being run, bound by the worker around each job.
    @TaskLocal static var shipped: Shipped?

    struct Shipped: Sendable {
        var hash: String
        var bytes: Data
    }

    static let keptContexts = 4
    private static let decoded = Mutex<[(key: String, value: any Sendable)]>([])
}

/// A worker's store of the contexts it was sent, newest last, at most `JobContext.keptContexts`.
final class ContextStore: Sendable {
    private let entries = Mutex<[JobContext.Shipped]>([])

    func keep(_ context: JobContext.Shipped) {
        entries.withLock { entries in
            entries.removeAll { $0.hash == context.hash }
            entries.append(context)
            if entries.count > JobContext.keptContexts { entries.removeFirst() }
        }
    }

    func find(_ hash: String) -> JobContext.Shipped? { entries.withLock { $0.first { $0.hash == hash } } }
}

/// The head of a job payload: `NAME\n`, then, for a map with a context, either `=HASH LENGTH\n`
/// and the context's bytes (a worker's first task of the map), or `@HASH\n`; then the inputs.
struct JobPayloadHead: Equatable {
    enum Context: Equatable {
        case none
        case inline(hash: String, bytes: [UInt8])
        case named(hash: String)
    }

    var name: String
    var context: Context
    /// Where the inputs' JSON starts.
    var body: Int

    static func encode(name: String, context: Context) -> [UInt8] {
        var head = Array((name + "\n").utf8)
        switch context {
        case .none: break
        case .inline(let hash, let bytes): head += Array("=\(hash) \(bytes.count)\n".utf8) + bytes
        case .named(let hash): head += Array("@\(hash)\n".utf8)
        }
        return head
    }

    /// Nil when the payload is not of this shape.
    static func decode(_ payload: [UInt8]) -> JobPayloadHead? {
        guard let newline = payload.firstIndex(of: UInt8(ascii: "\n")) else { return nil }
        let name = String(decoding: payload[..<newline], as: UTF8.self)
        let start = newline + 1
        guard start < payload.count, payload[start] == UInt8(ascii: "=") || payload[start] == UInt8(ascii: "@") else {
            return JobPayloadHead(name: name, context: .none, body: start)
        }
        guard let end = payload[start...].firstIndex(of: UInt8(ascii: "\n")) else { return nil }
        let line = String(decoding: payload[(start + 1)..<end], as: UTF8.self)
        if payload[start] == UInt8(ascii: "@") {
            return JobPayloadHead(name: name, context: .named(hash: line), body: end + 1)
        }
        let parts = line.split(separator: " ")
        guard parts.count == 2, let length = Int(parts[1]), length >= 0, length <= payload.count - (end + 1) else { return nil }
        let bytes = Array(payload[(end + 1)..<(end + 1 + length)])
        return JobPayloadHead(name: name, context: .inline(hash: String(parts[0]), bytes: bytes), body: end + 1 + length)
    }
}
