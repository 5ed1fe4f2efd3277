@testable import Cohort
import Foundation
import Testing

/// How a batch's answer crosses the wire and becomes one result per input: pure, no network.
@Suite struct BatchAnswerTests {
    /// A result whose payload holds `answer`, as protocol 2 carries it.
    static func result(_ answer: String, _ status: MapStatus = .exited(0)) -> MapResult {
        MapResult(
            index: 0, host: "h1", slot: 1, status: status, stdout: CapturedOutput(), stderr: CapturedOutput(),
            startedAt: nil, duration: .zero, attempts: 1, message: "", payload: Array(answer.utf8))
    }

    static func encode<Output: Codable>(_ answer: BatchAnswer<Output>) throws -> String {
        String(decoding: try JSONEncoder().encode(answer), as: UTF8.self)
    }

    @Test func aBatchWithoutFailuresIsOutputsAlone() throws {
        let message = String(decoding: try JSONEncoder().encode([1, 2, 3]), as: UTF8.self)
        guard case .outputs(let outputs) = Cluster.decode(Self.result(message), count: 3, as: Int.self) else {
            Issue.record("a plain array should decode as outputs alone")
            return
        }
        #expect(outputs == [1, 2, 3])
        let results = Cluster.decode(Self.result(message), count: 3, as: Int.self).results
        #expect(results.map { try? $0.get() } == [1, 2, 3])
    }

    @Test func oneFailingInputFailsOnlyItself() throws {
        let envelope = FailureEnvelope(type: "Demo.Boom", message: "boom", payload: nil)
        let message = try Self.encode(BatchAnswer<Int>(outputs: [1, nil, 3], failures: [nil, envelope, nil]))
        let results = Cluster.decode(Self.result(message), count: 3, as: Int.self).results
        #expect(results.map { try? $0.get() } == [1, nil, 3])
        guard case .failure(let failure) = results[1] else {
            Issue.record("input 1 should have failed: \(results[1])")
            return
        }
        #expect(failure.type == "Demo.Boom" && failure.message == "boom")
    }

    @Test func anOptionalOutputMayBeNil() throws {
        let message = try Self.encode(BatchAnswer<Int?>(outputs: [nil, .some(4)], failures: [nil, nil]))
        let results = Cluster.decode(Self.result(message), count: 2, as: Int?.self).results
        #expect(results.map { try? $0.get() } == [.some(nil), .some(4)])
    }

    @Test func aMissingOutputOrAWrongCountIsBadOutputNeverACrash() throws {
        let missing = Cluster.decode(Self.result(#"{"outputs":[1,null],"failures":[null,null]}"#), count: 2, as: Int.self).results
        #expect((try? missing[0].get()) == 1)
        #expect(Self.type(missing[1]) == "Cohort.badOutput")
        let short = Cluster.decode(Self.result("[1]"), count: 2, as: Int.self).results
        #expect(short.map(Self.type) == ["Cohort.badOutput", "Cohort.badOutput"])
        let garbage = Cluster.decode(Self.result("not json"), count: 1, as: Int.self).results
        #expect(garbage.map(Self.type) == ["Cohort.badOutput"])
    }

    @Test func aFailedTaskFailsEveryInputOfItsBatch() {
        let results = Cluster.decode(Self.result("", .timedOut), count: 3, as: Int.self).results
        #expect(results.map(Self.type) == Array(repeating: "Cohort.timedOut", count: 3))
    }

    @Test func payloadsCarryEachBatchAndSayWhenInputsDoNotEncode() {
        let payloads = Payloads(job: "Half", inputs: [1.0, 2.0, .nan, 4.0, 5.0], batchSize: 2)
        #expect(payloads.starts == [0, 2, 4])
        #expect((0..<payloads.count).map(payloads.inputCount) == [2, 2, 1])
        #expect(String(decoding: payloads.payload(0, slot: 1), as: UTF8.self) == "Half\n[1,2]")
        #expect(String(decoding: payloads.payload(2, slot: 1), as: UTF8.self) == "Half\n[5]")
        let failed = String(decoding: payloads.payload(1, slot: 1), as: UTF8.self)
        #expect(failed.hasPrefix("Half\n{\"\(FailureEnvelope.encodingFailedKey)\":\"cannot encode Double"), "\(failed)")
    }

    /// A map's context goes once to each slot, then by its hash; the worker's reading of the
    /// head finds the name, the context and where the inputs start.
    @Test func theContextTravelsOncePerSlotThenByItsHash() throws {
        let context = (hash: "ab12", bytes: Array("{\"k\":\"a\\nb\"}".utf8))
        let payloads = Payloads(job: "J", inputs: [1, 2, 3], batchSize: 1, context: context)
        let first = payloads.payload(0, slot: 7)
        let second = payloads.payload(1, slot: 7)
        let other = payloads.payload(2, slot: 8)
        #expect(String(decoding: second, as: UTF8.self) == "J\n@ab12\n[2]")
        let head = try #require(JobPayloadHead.decode(first))
        #expect(head == JobPayloadHead(name: "J", context: .inline(hash: "ab12", bytes: context.bytes), body: first.count - 3))
        #expect(String(decoding: first[head.body...], as: UTF8.self) == "[1]")
        #expect(JobPayloadHead.decode(other)?.context == .inline(hash: "ab12", bytes: context.bytes))
        #expect(JobPayloadHead.decode(second)?.context == .named(hash: "ab12"))
        let again = Payloads(job: "J", inputs: [1], batchSize: 1, context: context, inlineAlways: true)
        #expect(JobPayloadHead.decode(again.payload(0, slot: 7))?.context == .inline(hash: "ab12", bytes: context.bytes))
        #expect(JobPayloadHead.decode(Array("J\n[1]".utf8)) == JobPayloadHead(name: "J", context: .none, body: 2))
        // A length past the end, or a head without its newline, is not a payload.
        #expect(JobPayloadHead.decode(Array("J\n=ab 99\n{}".utf8)) == nil)
        #expect(JobPayloadHead.decode(Array("J\n@ab".utf8)) == nil)
        #expect(JobPayloadHead.decode(Array("J".utf8)) == nil)
    }

    static func type(_ result: Result<Int, JobFailure>) -> String? {
        if case .failure(let failure) = result { return failure.type }
        return nil
    }

    /// A whole batch that failed comes as status `failed` (it ran and failed), its envelope in
    /// the payload; it is not confused with a task that could not start.
    @Test func aFailedBatchIsFailedNotFailedToStart() throws {
        let envelope = FailureEnvelope(type: "Cohort.unknownJob", message: "no such job", payload: nil)
        let answer = String(decoding: try JSONEncoder().encode(envelope), as: UTF8.self)
        let failed = Cluster.decode(Self.result(answer, .failed("Cohort.unknownJob: no such job")), count: 2, as: Int.self).results
        #expect(failed.allSatisfy { if case .failure(let f) = $0 { f.type == "Cohort.unknownJob" } else { false } })
        let notStarted = Cluster.decode(Self.result("", .failedToStart("pipe: errno 24")), count: 1, as: Int.self).results
        #expect(notStarted.allSatisfy { if case .failure(let f) = $0 { f.type == "Cohort.failedToStart" && f.message == "pipe: errno 24" } else { false } })
    }
}
