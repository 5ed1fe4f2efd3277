import CohortCore
import CohortInventory
import CohortSSH
import Foundation
import Synchronization

/// A fleet opened from an inventory, for `map`s of typed jobs (`Pool.map` across hosts).
///
/// ```swift
/// serveJobs([CountPrimes.self])             // first line of main: worker mode serves, then exits
/// let cluster = try Cluster(inventory: "hosts.ini")
/// let counts = try await cluster.map(CountPrimes.self, ranges)   // [Int], in input order
/// ```
public struct Cluster: Sendable {
    static let workerFlag = "--cohort-worker"

    /// This program, as the worker it ships: read and hashed once per process (tens of
    /// megabytes; doing it per map cost more than a small map itself).
    static let ownProgram = Result<WorkerBinary, any Error> { try WorkerBinary.current(arguments: [workerFlag]) }

    /// The hosts a map runs on, resolved from the inventory.
    let targets: [(connection: HostConnection, slots: Int?)]
    public var connectionOptions: ConnectionOptions
    public var options: MapOptions
    /// Inputs sent to a worker in one task, for every map that does not give its own; nil
    /// chooses from the input count.
    public var chunkSize: Int?

    /// The names of the hosts a map runs on, in inventory order.
    public var hosts: [String] { targets.map(\.connection.name) }

    /// The connections and workers kept between maps; shared by copies of this value, shut
    /// down when the last copy goes (or by `shutdown()`).
    private let keeper: PoolKeeper

    /// Resolves every host matching `pattern` before anything connects: a bad inventory or
    /// host variable throws here (`file:line: what is wrong`).
    public init(inventory path: String, pattern: String = "all", connection: ConnectionOptions = ConnectionOptions(), options: MapOptions = MapOptions()) throws {
        let inventory = try Inventory.load(path: path)
        targets = try FleetHosts.select(pattern, in: inventory, options: connection).map { ($0.connection, $0.slots) }
        connectionOptions = connection
        self.options = options
        keeper = PoolKeeper()
    }

    /// A cluster for the length of `body`: its connections and workers are shut down on every
    /// way out of it, a throw or a cancellation included, before this returns.
    public static func with<R>(
        inventory path: String, pattern: String = "all", connection: ConnectionOptions = ConnectionOptions(),
        options: MapOptions = MapOptions(), isolation: isolated (any Actor)? = #isolation, _ body: (Cluster) async throws -> R
    ) async throws -> R {
        let cluster = try Cluster(inventory: path, pattern: pattern, connection: connection, options: options)
        do {
            let result = try await body(cluster)
            await cluster.shutdown()
            return result
        } catch {
            await cluster.shutdown()
            throw error
        }
    }

    /// What went wrong with hosts and workers in this cluster's maps, oldest first (at most the
    /// last 1,000): a host that could not be reached or whose worker could not start, with
    /// the worker's exit status and stderr, a worker that died. A map whose jobs all finished
    /// elsewhere says nothing of these in its results; this does.
    public var hostProblems: [HostProblem] { keeper.problems.withLock { $0 } }

    /// Tells every worker to leave and closes every connection, once the map running (if
    /// any) is done. A later map connects again.
    public func shutdown() async {
        await keeper.pool.shutdown()
    }

    /// Runs `job` once per input over every core of the fleet and returns the outputs in input
    /// order (`Pool.map`). The first failure (thrown, timed out, lost; its `index` says which
    /// input) is thrown once the jobs still running have been stopped; `mapResults` gives
    /// every input's result instead. `context` is encoded once and shipped once to each
    /// worker; jobs read it with `JobContext.current(_:)`.
    public func map<J: Job>(
        _ job: J.Type, _ inputs: [J.Input], context: (any Encodable & Sendable)? = nil, chunkSize: Int? = nil
    ) async throws -> [J.Output] {
        var outputs = [J.Output?](repeating: nil, count: inputs.count)
        try await consume(job, inputs, context: context, chunkSize: chunkSize) { batch in
            switch Self.decode(batch.result, count: batch.count, as: J.Output.self) {
            case .outputs(let batchOutputs):
                for offset in batchOutputs.indices { outputs[batch.indices[offset]] = batchOutputs[offset] }
            case .results(let results):
                for offset in results.indices {
                    switch results[offset] {
                    case .success(let output): outputs[batch.indices[offset]] = output
                    case .failure(var failure):
                        failure.index = batch.indices[offset]
                        throw failure
                    }
                }
            }
        }
        return try outputs.indices.map { index in
            guard let output = outputs[index] else { throw JobFailure(type: "Cohort.lost", message: "no result arrived", index: index) }
            return output
        }
    }

    /// Like `map`, with every input's result, failures included, in input order. Returns (or
    /// throws) only once every job it started has stopped.
    public func mapResults<J: Job>(
        _ job: J.Type, _ inputs: [J.Input], context: (any Encodable & Sendable)? = nil, chunkSize: Int? = nil
    ) async throws -> [Result<J.Output, JobFailure>] {
        var results = [Result<J.Output, JobFailure>?](repeating: nil, count: inputs.count)
        try await consume(job, inputs, context: context, chunkSize: chunkSize) { batch in
            for (offset, result) in Self.decode(batch.result, count: batch.count, as: J.Output.self).results.enumerated() {
                results[batch.indices[offset]] = result
            }
        }
        return results.indices.map { results[$0] ?? .failure(JobFailure(type: "Cohort.lost", message: "no result arrived", index: $0)) }
    }

    /// The results as they finish (Python's `imap_unordered`). A job that throws, times out or
    /// is lost, or whose input does not encode, yields a failed result; the sequence itself
    /// throws only when the map cannot start (the program cannot read itself, the context does
    /// not encode), and `CancellationError` when the task consuming it is cancelled. Leaving
    /// the loop early (`break`) or cancelling stops the jobs still running on the hosts.
    public func mapUnordered<J: Job>(
        _ job: J.Type, _ inputs: [J.Input], context: (any Encodable & Sendable)? = nil, chunkSize: Int? = nil
    ) -> JobResults<J.Output> {
        let (stream, continuation) = AsyncThrowingStream<[JobResult<J.Output>], any Error>.makeStream()
        let (batches, producer) = batches(job, inputs, context: context, chunkSize: chunkSize)
        let finished = Flag()
        let task = Task {
            do {
                // One element per finished task, not per input: the consumer's actor (the main
                // actor, in top-level code) is then entered once per batch.
                for try await batch in batches {
                    let results = Self.decode(batch.result, count: batch.count, as: J.Output.self).results
                    continuation.yield(results.indices.map { JobResult(index: batch.indices[$0], host: batch.result.host, result: results[$0]) })
                }
                // Ended by a cancellation, the loop above ends early too: that is not "done".
                if !Task.isCancelled { finished.set() }
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        let stop: @Sendable () -> Void = {
            task.cancel()
            producer.cancel()
        }
        continuation.onTermination = { _ in stop() }
        return JobResults(base: stream, finished: finished, stop: stop)
    }

    /// The streaming `map` of earlier versions; `try await cluster.map(…)` now picks the
    /// ordered one.
    @_disfavoredOverload
    @available(*, deprecated, renamed: "mapUnordered")
    public func map<J: Job>(_ job: J.Type, _ inputs: [J.Input], chunkSize: Int? = nil) -> JobResults<J.Output> {
        mapUnordered(job, inputs, chunkSize: chunkSize)
    }

    @available(*, deprecated, renamed: "mapResults")
    public func mapOrdered<J: Job>(_ job: J.Type, _ inputs: [J.Input], chunkSize: Int? = nil) async throws -> [Result<J.Output, JobFailure>] {
        try await mapResults(job, inputs, chunkSize: chunkSize)
    }

    /// One finished task: the batch of `count` inputs at `indices`, as its worker answered.
    struct FinishedBatch: Sendable {
        var indices: [Int]
        var count: Int { indices.count }
        var result: MapResult
    }

    /// Finished tasks as they arrive, undecoded: answers are decoded by the consumer, off the
    /// engine, and a million tiny jobs are a thousand hand-offs, not a million. A batch of
    /// several inputs that failed as a whole (its worker died, one output did not encode) is
    /// run again one input per task once the rest are done, so that only the input at fault
    /// fails. The task returned is the producer: cancelling it stops the map, and awaiting its
    /// value waits until everything the map started has stopped.
    func batches<J: Job>(
        _ job: J.Type, _ inputs: [J.Input], context: (any Encodable & Sendable)?, chunkSize: Int?
    ) -> (AsyncThrowingStream<FinishedBatch, any Error>, Task<Void, Never>) {
        let (stream, continuation) = AsyncThrowingStream<FinishedBatch, any Error>.makeStream()
        let size = chunkSize ?? self.chunkSize ?? Self.automaticChunk(inputs.count)
        let task = Task {
            do {
                let worker = try Self.ownProgram.get()
                let shipped = try context.map(Self.encodeContext)
                let retry = Mutex<[Int]>([])
                let payloads = Payloads(job: J.name, inputs: inputs, batchSize: size, context: shipped)
                await run(payloads, worker: worker) { result in
                    let indices = Array(payloads.range(result.index))
                    if (indices.count > 1 && Self.failedAsAWhole(result)) || Self.failureType(result) == JobKind.contextMissing {
                        retry.withLock { $0 += indices }
                    } else {
                        continuation.yield(FinishedBatch(indices: indices, result: result))
                    }
                }
                let again = retry.withLock { $0.sorted() }
                if !again.isEmpty, !Task.isCancelled {
                    let single = Payloads(job: J.name, inputs: again.map { inputs[$0] }, batchSize: 1, context: shipped, inlineAlways: true)
                    await run(single, worker: worker) { result in
                        continuation.yield(FinishedBatch(indices: [again[result.index]], result: result))
                    }
                }
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        continuation.onTermination = { _ in task.cancel() }
        return (stream, task)
    }

    private func run<Input>(_ payloads: Payloads<Input>, worker: WorkerBinary, onResult: @escaping @Sendable (MapResult) -> Void) async {
        let map = TaskMap(hosts: targets, connectionOptions: connectionOptions, options: options, worker: worker)
        payloads.encodeInBackground()
        let keeper = keeper
        _ = await map.run(
            count: payloads.count, kind: "job", payload: { payloads.payload($0, slot: $1) }, on: keeper.pool, onResult: onResult,
            onEvent: { keeper.note($0) })
    }

    /// A map's context as shipped: its JSON and that JSON's SHA-256.
    static func encodeContext(_ context: any Encodable & Sendable) throws -> (hash: String, bytes: [UInt8]) {
        let bytes: [UInt8]
        do { bytes = Array(try JSONEncoder().encode(context)) } catch {
            throw JobFailure(type: "Cohort.badContext", message: "cannot encode the map's context \(type(of: context)): \(error)")
        }
        return (FileDigest.sha256(of: bytes), bytes)
    }

    /// The type of a failed batch's failure, as its envelope says.
    static func failureType(_ result: MapResult) -> String? {
        guard case .failed = result.status else { return nil }
        return (try? JSONDecoder().decode(FailureEnvelope.self, from: Data(result.payload)))?.type
    }

    /// A batch's failure that says nothing about which of its inputs caused it.
    static func failedAsAWhole(_ result: MapResult) -> Bool {
        switch result.status {
        case .exited(0), .halted: false
        case .failed:
            // The program serves no such job, or cannot read its payload or context: so for
            // every input.
            !["Cohort.unknownJob", "Cohort.badPayload", "Cohort.badContext", "Cohort.noContext"].contains(failureType(result) ?? "")
        default: true
        }
    }

    /// Inputs per task when `chunkSize` is nil: like `Pool.map`'s chunksize, enough tasks
    /// (about 512) to balance the fleet, few enough that per-task costs stay small.
    static func automaticChunk(_ count: Int) -> Int { max(1, min(1000, count / 512)) }

    /// Folds every output into `initial` as results arrive; the first failure is thrown, once
    /// the jobs still running have been stopped.
    public func reduce<J: Job, R>(
        _ job: J.Type, _ inputs: [J.Input], into initial: R, context: (any Encodable & Sendable)? = nil, chunkSize: Int? = nil,
        isolation: isolated (any Actor)? = #isolation, _ combine: (inout R, J.Output) throws -> Void
    ) async throws -> R {
        var value = initial
        try await consume(job, inputs, context: context, chunkSize: chunkSize, isolation: isolation) { batch in
            switch Self.decode(batch.result, count: batch.count, as: J.Output.self) {
            case .outputs(let outputs):
                for output in outputs { try combine(&value, output) }
            case .results(let results):
                for (offset, result) in results.enumerated() {
                    switch result {
                    case .success(let output): try combine(&value, output)
                    case .failure(var failure):
                        failure.index = batch.indices[offset]
                        throw failure
                    }
                }
            }
        }
        return value
    }

    /// Feeds every finished batch to `body`; on every way out (done, thrown, cancelled) waits
    /// for the map to stop first, so nothing it started outlives the call.
    private func consume<J: Job>(
        _ job: J.Type, _ inputs: [J.Input], context: (any Encodable & Sendable)?, chunkSize: Int?, isolation: isolated (any Actor)? = #isolation,
        _ body: (FinishedBatch) throws -> Void
    ) async throws {
        let (batches, producer) = batches(job, inputs, context: context, chunkSize: chunkSize)
        do {
            for try await batch in batches { try body(batch) }
        } catch {
            producer.cancel()
            await producer.value
            throw error
        }
        await producer.value
        try Task.checkCancellation()
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

/// The results of `Cluster.mapUnordered`, in completion order. Ends by throwing
/// `CancellationError` when the task iterating it is cancelled, rather than ending as if the
/// map were done.
public struct JobResults<Output: Sendable>: AsyncSequence, Sendable {
    public typealias Element = JobResult<Output>
    public typealias Failure = any Error
    let base: AsyncThrowingStream<[JobResult<Output>], any Error>
    let finished: Flag
    let stop: @Sendable () -> Void

    public struct AsyncIterator: AsyncIteratorProtocol {
        var base: AsyncThrowingStream<[JobResult<Output>], any Error>.AsyncIterator
        /// The rest of the last batch received, handed out without suspending.
        var buffer: [JobResult<Output>] = []
        var position = 0
        let finished: Flag
        /// Stops the map when the loop is left (`break`, `return`, a throw): the stream itself
        /// is kept alive by its producer and would not notice.
        let owner: Owner

        public mutating func next() async throws -> JobResult<Output>? {
            try await next(isolation: nil)
        }

        /// Runs on the caller's actor: results already received are handed out with no hop.
        public mutating func next(isolation actor: isolated (any Actor)?) async throws -> JobResult<Output>? {
            while position == buffer.count {
                guard let batch = try await base.next(isolation: actor) else {
                    if Task.isCancelled, !finished.isSet { throw CancellationError() }
                    return nil
                }
                buffer = batch
                position = 0
            }
            position += 1
            return buffer[position - 1]
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: base.makeAsyncIterator(), finished: finished, owner: Owner(stop))
    }

    final class Owner: Sendable {
        let stop: @Sendable () -> Void
        init(_ stop: @escaping @Sendable () -> Void) { self.stop = stop }
        deinit { stop() }
    }
}

/// A host, or one worker slot of it, that failed during a map, in its own words.
public struct HostProblem: Sendable, CustomStringConvertible {
    public var host: String
    /// The slot whose worker died; nil when the whole host failed.
    public var slot: Int?
    public var message: String

    public var description: String { slot.map { "\(host) slot \($0): \(message)" } ?? "\(host): \(message)" }
}

/// Set once, read from any thread: whether a map's results all arrived.
final class Flag: Sendable {
    private let state = Mutex(false)
    var isSet: Bool { state.withLock { $0 } }
    func set() { state.withLock { $0 = true } }
}

/// Owns a cluster's pool: the pool is kept alive by its channel readers, so it cannot notice
/// that nobody uses it any more; this does, and shuts it down.
final class PoolKeeper: Sendable {
    let pool = FleetPool()
    let problems = Mutex<[HostProblem]>([])

    func note(_ event: MapEvent) {
        let problem: HostProblem
        switch event {
        case .hostFailed(let host, let error): problem = HostProblem(host: host, slot: nil, message: error.message)
        case .slotLost(let host, let slot, let reason): problem = HostProblem(host: host, slot: slot, message: reason)
        case .workerDied(let host, let slot, _, let reason): problem = HostProblem(host: host, slot: slot, message: reason)
        default: return
        }
        problems.withLock { problems in
            problems.append(problem)
            if problems.count > 1000 { problems.removeFirst(problems.count - 1000) }
        }
    }

    deinit {
        let pool = pool
        Task { await pool.shutdown() }
    }
}
