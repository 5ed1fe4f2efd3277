import CohortCore
import CohortWire
import CohortWorkerKit
import Foundation

/// A unit of work that `Cluster.map` spreads over every core of the fleet: typed input in,
/// typed output out, both `Codable` (they cross the wire as JSON).
///
/// The program that declares jobs is its own worker: the coordinator ships the same
/// executable to the hosts and starts it with `--cohort-worker`, where `Cohort.serveJobs`
/// answers. Register every job type there.
public protocol Job: Sendable {
    associatedtype Input: Codable & Sendable
    associatedtype Output: Codable & Sendable
    /// The name the job travels under: the type's full name (`Module.Outer.Inner`) unless
    /// given, so that two nested types with the same short name are two jobs.
    static var name: String { get }
    init()
    func run(_ input: Input) async throws -> Output
}

extension Job {
    public static var name: String { String(reflecting: Self.self) }
}

/// Why a job did not produce an output. A job's own error comes back typed: if it is
/// `Codable`, `decode(_:)` rebuilds it on the coordinator.
public struct JobFailure: Error, Sendable, CustomStringConvertible {
    /// The thrown error's type (`String(reflecting:)`), or `Cohort.lost`, `Cohort.timedOut`,
    /// `Cohort.unknownJob`… when the task itself failed.
    public var type: String
    public var message: String
    /// The error's JSON encoding, when it is `Encodable`.
    public var payload: Data?
    /// The input it failed for, when `map` or `reduce` throws it.
    public var index: Int?

    public init(type: String, message: String, payload: Data? = nil, index: Int? = nil) {
        self.type = type
        self.message = message
        self.payload = payload
        self.index = index
    }

    public var description: String { index.map { "input \($0): \(type): \(message)" } ?? "\(type): \(message)" }

    /// The thrown error as its own type, when the job threw an `E`.
    public func decode<E: Error & Decodable>(_: E.Type) -> E? {
        guard type == String(reflecting: E.self), let payload else { return nil }
        return try? JSONDecoder().decode(E.self, from: payload)
    }
}

/// One finished job: its position in the inputs, where it ran, and its output or failure.
public struct JobResult<Output: Sendable>: Sendable {
    public var index: Int
    public var host: String?
    public var result: Result<Output, JobFailure>
}

/// The wire form of a job's failure, inside the result frame's payload.
struct FailureEnvelope: Codable {
    var type: String
    var message: String
    var payload: String?

    var failure: JobFailure { JobFailure(type: type, message: message, payload: payload.flatMap { Data(base64Encoded: $0) }) }

    /// Key of the object a coordinator sends instead of a batch's inputs when they do not
    /// encode (JSON has no NaN): the worker fails that batch as `Cohort.badInput`.
    static let encodingFailedKey = "cohortEncodingFailed"
}

/// A batch's answer when some input failed: one output per input, in order, null where the
/// input failed and `failures` holds its error at the same index. When nothing failed (the
/// common case) the answer is a plain JSON array of outputs instead: the cheapest thing to
/// decode a million of, with no per-input wrapping.
struct BatchAnswer<Output: Codable>: Codable {
    var outputs: [Output?]
    var failures: [FailureEnvelope?]
}

/// Worker side: the task kind `job`. The payload is the job's name, a newline, the map's
/// context or its hash when it has one (`JobPayloadHead`), and a JSON array of inputs (a batch); the result's payload carries a JSON array of outputs, or a
/// `BatchAnswer` when an input failed (outcome `exited`), or a `FailureEnvelope` when the whole
/// batch failed (outcome `failed`, its words in the message).
struct JobKind: TaskKind {
    let jobs: [String: any Job.Type]
    /// The maps' contexts this worker was sent (kept in memory only: a worker restarted in
    /// place answers `Cohort.contextMissing`, and the coordinator sends the task again with
    /// its context).
    let contexts = ContextStore()

    /// The job runs on Swift's pool; the worker's loop, meanwhile, answers heartbeats and
    /// cancels, and learns of the end through a pipe.
    func start(_ task: TaskFrame) -> TaskStart {
        final class Box: @unchecked Sendable {
            // @unchecked: written before the byte on `done` is written, read after it arrives.
            var value: (Int32, Data) = (1, Data())
            var duration: Duration = .zero
        }
        var done: [Int32] = [0, 0]
        guard pipe(&done) == 0 else {
            return .finished(ResultFrame(
                taskID: task.id, attempt: task.attempt, outcome: .failedToStart, code: 0, message: "pipe: errno \(errno)", durationNanos: 0))
        }
        // Not inherited by shell tasks, nor by the successor of a restart.
        for fd in done { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        let box = Box()
        let payload = task.payload
        // Kept here, on the worker's loop, in the order tasks arrive: a later task naming the
        // context may start before this one's job runs.
        let head = JobPayloadHead.decode(payload)
        if case .inline(let hash, let bytes)? = head?.context { contexts.keep(JobContext.Shipped(hash: hash, bytes: Data(bytes))) }
        let writeEnd = done[1]
        Task.detached { [self] in
            let started = ContinuousClock.now
            box.value = await run(payload, head: head)
            box.duration = ContinuousClock.now - started
            var byte: UInt8 = 1
            _ = write(writeEnd, &byte, 1)
            close(writeEnd)
        }
        return .inProcess(InProcessTask(doneFD: done[0], attempt: task.attempt) {
            let (code, answer) = box.value
            let words = code == 0 ? "" : (try? JSONDecoder().decode(FailureEnvelope.self, from: answer)).map { "\($0.type): \($0.message)" } ?? ""
            return ResultFrame(
                taskID: task.id, attempt: task.attempt, outcome: code == 0 ? .exited : .failed, code: code,
                message: words, payload: Array(answer), durationNanos: box.duration.nanoseconds)
        })
    }

    private func run(_ payload: [UInt8], head: JobPayloadHead?) async -> (Int32, Data) {
        guard let head else {
            return (1, Self.failure(type: "Cohort.badPayload", message: "a job payload is NAME\\n[CONTEXT]JSON"))
        }
        guard let job = jobs[head.name] else {
            return (1, Self.failure(type: "Cohort.unknownJob", message: "this worker serves no job named \(head.name) (register it in serveJobs)"))
        }
        let context: JobContext.Shipped?
        switch head.context {
        case .none: context = nil
        case .inline(let hash, _), .named(let hash):
            guard let found = contexts.find(hash) else {
                return (1, Self.failure(type: Self.contextMissing, message: "this worker does not hold context \(hash)"))
            }
            context = found
        }
        let inputs = Data(payload[head.body...])
        return await JobContext.$shipped.withValue(context) { await Self.perform(job, inputs) }
    }

    /// The failure type of a task naming a context its worker does not hold.
    static let contextMissing = "Cohort.contextMissing"

    /// Runs a batch: the payload holds a JSON array of inputs, the result one output per input
    /// or, once an input fails, a `BatchAnswer`, so that it does not fail its neighbours.
    private static func perform<J: Job>(_ type: J.Type, _ input: Data) async -> (Int32, Data) {
        let inputs: [J.Input]
        do { inputs = try JSONDecoder().decode([J.Input].self, from: input) } catch {
            if let failed = try? JSONDecoder().decode([String: String].self, from: input),
                let message = failed[FailureEnvelope.encodingFailedKey]
            {
                return (1, failure(type: "Cohort.badInput", message: message))
            }
            return (1, failure(type: "Cohort.badInput", message: "cannot decode \(J.Input.self): \(error)"))
        }
        let job = J()
        var outputs: [J.Output] = []
        outputs.reserveCapacity(inputs.count)
        var answer: BatchAnswer<J.Output>?
        // Indices, not enumerated(): in this unspecialised generic code each (offset, element)
        // tuple costs a runtime metadata lookup, a measurable share of a microsecond job.
        for index in inputs.indices {
            let failure: FailureEnvelope
            do {
                let output = try await job.run(inputs[index])
                if answer == nil { outputs.append(output) } else { answer!.outputs.append(output) }
                continue
            } catch let thrown as JobFailure {
                // Cohort's own words (a missing context), or a job passing on another's failure.
                failure = FailureEnvelope(type: thrown.type, message: thrown.message, payload: thrown.payload?.base64EncodedString())
            } catch let error as any Encodable & Error {
                failure = envelope(error, payload: try? JSONEncoder().encode(error))
            } catch {
                failure = envelope(error, payload: nil)
            }
            if answer == nil {
                answer = BatchAnswer(outputs: outputs.map { $0 }, failures: Array(repeating: nil, count: inputs.count))
                answer!.outputs.reserveCapacity(inputs.count)
            }
            answer!.outputs.append(nil)
            answer!.failures[index] = failure
        }
        do {
            return (0, try answer.map { try JSONEncoder().encode($0) } ?? JSONEncoder().encode(outputs))
        } catch {
            return (1, failure(type: "Cohort.badOutput", message: "cannot encode \(J.Output.self): \(error)"))
        }
    }

    private static func envelope(_ error: any Error, payload: Data?) -> FailureEnvelope {
        FailureEnvelope(type: String(reflecting: Swift.type(of: error)), message: "\(error)", payload: payload?.base64EncodedString())
    }

    static func failure(type: String, message: String, payload: Data? = nil) -> Data {
        let envelope = FailureEnvelope(type: type, message: message, payload: payload.map { $0.base64EncodedString() })
        return (try? JSONEncoder().encode(envelope)) ?? Data()
    }
}

/// Call first thing in `main`: started by a coordinator as a worker (`--cohort-worker`), the
/// program serves `jobs` (and shell tasks) until its channel closes, then exits; otherwise
/// this returns at once and the program goes on as a coordinator.
///
/// Two job types under one name are refused here, in either role, before anything runs: the
/// program says which and exits 4 (the worker would otherwise run the wrong code).
public func serveJobs(_ jobs: [any Job.Type]) {
    let registry: [String: any Job.Type]
    switch JobRegistry.make(jobs) {
    case .success(let jobs): registry = jobs
    case .failure(let error):
        FileHandle.standardError.write(Data("\(CommandLine.arguments.first ?? "cohort"): \(error.message)\n".utf8))
        exit(CohortExitCode.invalidInput.rawValue)
    }
    let arguments = CommandLine.arguments
    guard arguments.dropFirst().first == Cluster.workerFlag else { return }
    exit(WorkerRuntime.deployed(arguments: arguments, extra: ["job": JobKind(jobs: registry)]).run())
}

/// The jobs a program serves, by name.
enum JobRegistry {
    static func make(_ jobs: [any Job.Type]) -> Result<[String: any Job.Type], CohortError> {
        var registry: [String: any Job.Type] = [:]
        for job in jobs {
            if let other = registry[job.name] {
                if other == job { continue }
                return .failure(CohortError(
                    .invalidInput,
                    "serveJobs: \(String(reflecting: other)) and \(String(reflecting: job)) are both named '\(job.name)'; give one of them its own `static var name`"))
            }
            registry[job.name] = job
        }
        return .success(registry)
    }
}
