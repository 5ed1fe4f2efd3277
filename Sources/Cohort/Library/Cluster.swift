import CohortCore
import CohortInventory
import Foundation

/// A fleet opened from an inventory, for `map`s of typed jobs (`Pool.map` across hosts).
///
/// ```swift
/// serveJobs([CountPrimes.self])             // first line of main: worker mode serves, then exits
/// let cluster = try Cluster(inventory: "hosts.ini")
/// for try await done in cluster.map(CountPrimes.self, ranges) { print(done.index, try done.result.get()) }
/// ```
public struct Cluster: Sendable {
    static let workerFlag = "--cohort-worker"

    public let hosts: [(connection: HostConnection, slots: Int?)]
    public var connectionOptions: ConnectionOptions
    public var options: MapOptions
    /// Inputs sent to a worker in one task; nil chooses from the input count.
    public var chunkSize: Int?

    /// Resolves every host matching `pattern` before anything connects: a bad inventory or
    /// host variable throws here (`file:line: what is wrong`).
    public init(inventory path: String, pattern: String = "all", connection: ConnectionOptions = ConnectionOptions(), options: MapOptions = MapOptions()) throws {
        let inventory = try Inventory.load(path: path)
        let names = try HostPattern.resolve(pattern, in: inventory)
        guard !names.isEmpty else { throw CohortError(.noHostsMatched, "host pattern '\(pattern)' matches no host in the inventory") }
        let sshConfig = try HostConnection.sshConfig(for: connection)
        hosts = try names.map { name in
            let vars = inventory.variables(of: name)
            return (try HostConnection.resolve(host: name, vars: vars, options: connection, sshConfig: sshConfig), try Self.slots(of: name, vars))
        }
        connectionOptions = connection
        self.options = options
    }

    /// A host's `cohort_slots`, when its inventory sets one.
    public static func slots(of host: String, _ vars: [(String, InventoryValue)]) throws -> Int? {
        guard let value = vars.last(where: { $0.0 == "cohort_slots" })?.1 else { return nil }
        guard let count = value.intValue, count > 0 else {
            throw CohortError(.invalidInput, "host \(host): cohort_slots must be a positive whole number, not \(value)")
        }
        return count
    }

    /// Runs `job` once per input over every core of the fleet; results arrive as they finish.
    /// A job that throws, times out or is lost yields a failed result; the stream itself
    /// throws only when the map cannot start (the program cannot read itself, an input does
    /// not encode).
    public func map<J: Job>(_ job: J.Type, _ inputs: [J.Input]) -> AsyncThrowingStream<JobResult<J.Output>, any Error> {
        let (stream, continuation) = AsyncThrowingStream<JobResult<J.Output>, any Error>.makeStream()
        let size = chunkSize ?? Self.automaticChunk(inputs.count)
        let task = Task {
            do {
                let encoder = JSONEncoder()
                let header = Array((J.name + "\n").utf8)
                let starts = Array(stride(from: 0, to: inputs.count, by: size))
                let payloads = try starts.map { header + Array(try encoder.encode(Array(inputs[$0..<min(inputs.count, $0 + size)]))) }
                let map = TaskMap(
                    hosts: hosts, connectionOptions: connectionOptions, options: options,
                    worker: try WorkerBinary.current(arguments: [Self.workerFlag]))
                _ = await map.run(count: payloads.count, kind: "job", payload: { index, _ in payloads[index] }) { result in
                    let first = starts[result.index]
                    let count = min(inputs.count, first + size) - first
                    for (offset, outcome) in Self.decode(result, count: count, as: J.Output.self).enumerated() {
                        continuation.yield(JobResult(index: first + offset, host: result.host, result: outcome))
                    }
                }
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }

    /// Inputs per task when `chunkSize` is nil: like `Pool.map`'s chunksize, enough tasks
    /// (about 512) to balance the fleet, few enough that per-task costs stay small.
    static func automaticChunk(_ count: Int) -> Int { max(1, min(1000, count / 512)) }

    /// Like `map`, with the results in input order.
    public func mapOrdered<J: Job>(_ job: J.Type, _ inputs: [J.Input]) async throws -> [Result<J.Output, JobFailure>] {
        var results = [Result<J.Output, JobFailure>?](repeating: nil, count: inputs.count)
        for try await done in map(job, inputs) { results[done.index] = done.result }
        return results.map { $0 ?? .failure(JobFailure(type: "Cohort.lost", message: "no result arrived")) }
    }

    /// Folds every output into `initial` as results arrive; the first failure is thrown.
    public func reduce<J: Job, R>(
        _ job: J.Type, _ inputs: [J.Input], into initial: R, _ combine: (inout R, J.Output) throws -> Void
    ) async throws -> R {
        var value = initial
        for try await done in map(job, inputs) { try combine(&value, try done.result.get()) }
        return value
    }

    /// One task's result as one outcome per input of its batch.
    static func decode<Output: Codable>(_ result: MapResult, count: Int, as type: Output.Type) -> [Result<Output, JobFailure>] {
        let failure: JobFailure
        switch result.status {
        case .exited(0):
            guard let items = try? JSONDecoder().decode([ItemOutcome<Output>].self, from: Data(result.message.utf8)), items.count == count else {
                failure = JobFailure(type: "Cohort.badOutput", message: "the worker's answer does not decode as \(count) \(Output.self)")
                break
            }
            return items.map {
                switch $0 {
                case .ok(let output): .success(output)
                case .failed(let envelope): .failure(envelope.failure)
                }
            }
        case .failedToStart(let message):
            failure = (try? JSONDecoder().decode(FailureEnvelope.self, from: Data(message.utf8)))?.failure
                ?? JobFailure(type: "Cohort.failedToStart", message: message)
        case .exited(let code): failure = JobFailure(type: "Cohort.failed", message: "worker reported exit \(code)")
        case .signaled(let number): failure = JobFailure(type: "Cohort.signaled", message: "signal \(number)")
        case .timedOut: failure = JobFailure(type: "Cohort.timedOut", message: "ran past the timeout")
        case .lost(let why): failure = JobFailure(type: "Cohort.lost", message: why)
        case .halted: failure = JobFailure(type: "Cohort.halted", message: "the map halted before it started")
        }
        return Array(repeating: .failure(failure), count: count)
    }
}
