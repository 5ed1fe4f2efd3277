import CohortTestSupport
import CohortWire
import Foundation
import Testing

/// A worker started as a local child, spoken to over pipes with the real codec.
final class LocalWorker {
    let child: ChildProcess
    var decoder = FrameDecoder()

    static var binary: String {
        ProcessInfo.processInfo.environment["COHORT_WORKER"] ?? TestFleet.repositoryRoot + "/.build/debug/cohort-worker"
    }

    init() throws {
        child = try ChildProcess(Self.binary, [])
    }

    func send(_ message: WireMessage) { child.write(Wire.encode(message)) }

    func sendRaw(_ bytes: [UInt8]) { child.write(bytes) }

    func receive() throws -> WireMessage {
        while true {
            if let message = try decoder.next() { return message }
            let data = ChildProcess.readSome(child.stdoutFD)
            if data.isEmpty { throw FleetError("worker closed its output") }
            decoder.feed(data)
        }
    }

    var stderrText: String { String(decoding: ChildProcess.readAll(child.stderrFD), as: UTF8.self) }

    /// Messages up to and including the result of `taskID`, skipping heartbeats.
    func collect(until taskID: UInt64) throws -> (out: [UInt8], err: [UInt8], result: ResultFrame) {
        var out: [UInt8] = []
        var err: [UInt8] = []
        while true {
            switch try receive() {
            case .output(let id, let stream, let bytes) where id == taskID:
                if stream == 1 { out += bytes } else { err += bytes }
            case .result(let result) where result.taskID == taskID:
                return (out, err, result)
            default:
                continue
            }
        }
    }

    /// Reads until task `taskID` has written something: proof that it is running.
    func awaitFirstOutput(of taskID: UInt64) throws -> [UInt8] {
        while true {
            if case .output(let id, _, let bytes) = try receive(), id == taskID { return bytes }
        }
    }

    func handshake() throws -> WorkerFacts {
        guard case .hello(let facts) = try receive() else { throw FleetError("no hello") }
        send(.welcome(version: Wire.protocolVersion))
        return facts
    }
}

@Suite struct WorkerProcessTests {
    @Test func handshakeReportsTheMachine() throws {
        let worker = try LocalWorker()
        let facts = try worker.handshake()
        #expect(facts.protocolVersion == Wire.protocolVersion)
        #expect(facts.os == "Linux")
        #expect(Int(facts.cores) == ProcessInfo.processInfo.activeProcessorCount)
        #expect(facts.pid == worker.child.pid)
        worker.child.closeStdin()
        #expect(worker.child.wait() == 0)
    }

    @Test func shellTasksStreamExactBytesAndReportExitsAndSignals() throws {
        let worker = try LocalWorker()
        _ = try worker.handshake()
        worker.send(.task(TaskFrame(id: 1, attempt: 0, kind: "shell", payload: Array("printf 'a\\377b'; printf e >&2; exit 4".utf8))))
        let first = try worker.collect(until: 1)
        #expect(first.out == [0x61, 0xff, 0x62])
        #expect(first.err == Array("e".utf8))
        #expect(first.result.outcome == .exited && first.result.code == 4)
        worker.send(.task(TaskFrame(id: 2, attempt: 3, kind: "shell", payload: Array("kill -KILL $$".utf8))))
        let second = try worker.collect(until: 2)
        #expect(second.result.outcome == .signaled && second.result.code == SIGKILL)
        #expect(second.result.attempt == 3)
        worker.send(.task(TaskFrame(id: 3, attempt: 0, kind: "nope", payload: [])))
        let third = try worker.collect(until: 3)
        #expect(third.result.outcome == .failedToStart)
        #expect(third.result.message.contains("no task kind 'nope'"))
        worker.send(.shutdown(reason: "done"))
        #expect(worker.child.wait() == 0)
    }

    @Test func cancelStopsTheWholeProcessGroup() throws {
        let worker = try LocalWorker()
        _ = try worker.handshake()
        let marker = NSTemporaryDirectory() + "cohort-grandchild-" + UUID().uuidString
        // A grandchild that ignores TERM: only the group KILL after the grace period stops it.
        worker.send(.task(TaskFrame(id: 9, attempt: 0, kind: "shell", payload: Array("(trap '' TERM; echo started; sleep 30; touch \(marker)) & wait".utf8))))
        // The grandchild has set its trap once it speaks.
        #expect(try worker.awaitFirstOutput(of: 9) == Array("started\n".utf8))
        worker.send(.cancel(taskID: 9, graceMillis: 300))
        let result = try worker.collect(until: 9).result
        #expect(result.outcome == .signaled)
        #expect(!FileManager.default.fileExists(atPath: marker))
        worker.send(.shutdown(reason: "done"))
        #expect(worker.child.wait() == 0)
    }

    @Test func closingStdinStopsTasksAndExits() throws {
        let worker = try LocalWorker()
        _ = try worker.handshake()
        worker.send(.task(TaskFrame(id: 1, attempt: 0, kind: "shell", payload: Array("echo started; sleep 900".utf8))))
        #expect(try worker.awaitFirstOutput(of: 1) == Array("started\n".utf8))
        let start = Date()
        worker.child.closeStdin()
        #expect(worker.child.wait() == 0)
        // Tells "stopped the task" from "waited for the 900 s sleep"; loose for a loaded machine.
        #expect(Date().timeIntervalSince(start) < 450)
    }

    @Test func aCorruptFrameEndsTheWorkerWithAMessage() throws {
        let worker = try LocalWorker()
        _ = try worker.handshake()
        worker.sendRaw([0, 0, 0, 1, 200])
        #expect(worker.child.wait() == 65)
        #expect(worker.stderrText.contains("unknown message type 200"))
    }

    @Test func aRefusalIsReportedOnStderr() throws {
        let worker = try LocalWorker()
        guard case .hello = try worker.receive() else { throw FleetError("no hello") }
        worker.send(.shutdown(reason: "wrong architecture"))
        #expect(worker.child.wait() == 3)
        #expect(worker.stderrText.contains("refused by the coordinator: wrong architecture"))
    }
}

@Suite struct WorkerQueueTests {
    @Test func prefetchedTasksRunOneAtATimeInOrder() throws {
        let worker = try LocalWorker()
        _ = try worker.handshake()
        let log = NSTemporaryDirectory() + "cohort-order-" + UUID().uuidString
        for id in 1...5 {
            worker.send(.task(TaskFrame(id: UInt64(id), attempt: 0, kind: "shell", payload: Array("echo start\(id) >> \(log); sleep 0.05; echo end\(id) >> \(log)".utf8))))
        }
        for id in 1...5 { _ = try worker.collect(until: UInt64(id)) }
        let lines = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(lines == (1...5).flatMap { ["start\($0)", "end\($0)"] })
        worker.send(.shutdown(reason: "done"))
        #expect(worker.child.wait() == 0)
    }
}
