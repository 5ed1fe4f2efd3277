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
        hosts = try FleetHosts.select(pattern, in: inventory, options: connection).map { ($0.connection, $0.slots) }
        connectionOptions = connection
        self.options = options
    }


    /// Runs `job` once per input over every core of the fleet; results arrive as they finish.
    /// A job that throws, times out or is lost, or whose input does not encode, yields a failed
    /// result; the stream itself throws only when the map cannot start (the program cannot
    /// read itself).
    public func map<J: Job>(_ job: J.Type, _ inputs: [J.Input]) -> AsyncThrowingStream<JobResult<J.Output>, any Error> {
        let (stream, continuation) = AsyncThrowingStream<JobResult<J.Output>, any Error>.makeStream()
        let batches = batches(job, inputs)
        let task = Task {
            do {
                for try await batch in batches {
                    let results = Self.decode(batch.result, count: batch.count, as: J.Output.self).results
                    for (offset, result) in results.enumerated() {
                        continuation.yield(JobResult(index: batch.first + offset, host: batch.result.host, result: result))
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

    /// One finished task: the batch of `count` inputs from `first`, as its worker answered.
    struct FinishedBatch: Sendable {
        var first: Int
        var count: Int
        var result: MapResult
    }

    /// Finished tasks as they arrive, undecoded: answers are decoded by the consumer, off the
    /// engine, and a million tiny jobs are a thousand hand-offs, not a million.
    func batches<J: Job>(_ job: J.Type, _ inputs: [J.Input]) -> AsyncThrowingStream<FinishedBatch, any Error> {
        let (stream, continuation) = AsyncThrowingStream<FinishedBatch, any Error>.makeStream()
        let payloads = Payloads(job: J.name, inputs: inputs, batchSize: chunkSize ?? Self.automaticChunk(inputs.count))
        let task = Task {
            do {
                let map = TaskMap(
                    hosts: hosts, connectionOptions: connectionOptions, options: options,
                    worker: try WorkerBinary.current(arguments: [Self.workerFlag]))
                payloads.encodeInBackground()
                _ = await map.run(count: payloads.count, kind: "job", payload: { index, _ in payloads[index] }) { result in
                    continuation.yield(FinishedBatch(
                        first: payloads.starts[result.index], count: payloads.inputCount(result.index), result: result))
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
        for try await batch in batches(job, inputs) {
            for (offset, result) in Self.decode(batch.result, count: batch.count, as: J.Output.self).results.enumerated() {
                results[batch.first + offset] = result
            }
        }
        return results.map { $0 ?? .failure(JobFailure(type: "Cohort.lost", message: "no result arrived")) }
    }

    /// Folds every output into `initial` as results arrive; the first failure is thrown.
    public func reduce<J: Job, R>(
        _ job: J.Type, _ inputs: [J.Input], into initial: R, _ combine: (inout R, J.Output) throws -> Void
    ) async throws -> R {
        var value = initial
        for try await batch in batches(job, inputs) {
            switch Self.decode(batch.result, count: batch.count, as: J.Output.self) {
            case .outputs(let outputs):
                for output in outputs { try combine(&value, output) }
            case .results(let results):
                for result in results { try combine(&value, try result.get()) }
            }
        }
        return value
    }

    /// One task's answer: every output when all succeeded, else one result per input.
    static func decode<Output: Codable>(_ result: MapResult, count: Int, as type: Output.Type) -> DecodedBatch<Output> {
        let failure: JobFailure
        switch result.status {
        case .exited(0):
            let answer = Data(result.payload)
            if answer.first == UInt8(ascii: "["), let outputs = try? JSONDecoder().decode([Output].self, from: answer), outputs.count == count {
                return .outputs(outputs)
            }
            guard answer.first == UInt8(ascii: "{"), let batch = try? JSONDecoder().decode(BatchAnswer<Output>.self, from: answer),
                batch.outputs.count == count, batch.failures.count == count
            else {
                failure = JobFailure(type: "Cohort.badOutput", message: "the worker's answer does not decode as \(count) \(Output.self)")
                break
            }
            return .results(batch.outputs.enumerated().map { index, output in
                if let envelope = batch.failures[index] { return .failure(envelope.failure) }
                if let output { return .success(output) }
                // null without a failure: right only when Output is itself an Optional.
                if let none = Output?.none as Any as? Output { return .success(none) }
                return .failure(JobFailure(type: "Cohort.badOutput", message: "the worker's answer has no output for input \(index)"))
            })
        case .failed(let message):
            failure = (try? JSONDecoder().decode(FailureEnvelope.self, from: Data(result.payload)))?.failure
                ?? JobFailure(type: "Cohort.failed", message: message)
        case .failedToStart(let message):
            failure = JobFailure(type: "Cohort.failedToStart", message: message)
        case .exited(let code): failure = JobFailure(type: "Cohort.failed", message: "worker reported exit \(code)")
        case .signaled(let number): failure = JobFailure(type: "Cohort.signaled", message: "signal \(number)")
        case .timedOut: failure = JobFailure(type: "Cohort.timedOut", message: "ran past the timeout")
        case .lost(let why): failure = JobFailure(type: "Cohort.lost", message: why)
        case .halted: failure = JobFailure(type: "Cohort.halted", message: "the map halted before it started")
        }
        return .results(Array(repeating: .failure(failure), count: count))
    }
}

/// A batch's outputs after decoding: all of them, unwrapped (the common case, which `reduce`
/// folds without building a `Result` per input), or one result per input.
enum DecodedBatch<Output> {
    case outputs([Output])
    case results([Result<Output, JobFailure>])

    var results: [Result<Output, JobFailure>] {
        switch self {
        case .outputs(let outputs): outputs.map { .success($0) }
        case .results(let results): results
        }
    }
}
