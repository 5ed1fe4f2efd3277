import CohortTestSupport
import CohortWire
import CohortWorkerKit
import Foundation
import Testing

/// The worker's protocol, with the worker running in this process over a socketpair: the
/// same runtime as a deployed worker (`WorkerProcessTests` runs the real executable).
final class InProcessWorker: @unchecked Sendable {
    // @unchecked: `decoder` is used by the test's thread only; the runtime has its own thread.
    let fd: Int32
    private let workerFD: Int32
    private let finished = DispatchSemaphore(value: 0)
    private let status = StatusBox()
    var decoder = FrameDecoder()

    final class StatusBox: @unchecked Sendable {
        // @unchecked: written once before `finished` is signalled, read after.
        var value: Int32 = -1
    }

    init(kinds: [String: any TaskKind] = WorkerRuntime.standardKinds) throws {
        var pair: [Int32] = [0, 0]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &pair) == 0 else { throw FleetError("socketpair: \(errno)") }
        fd = pair[0]
        workerFD = pair[1]
        let (workerFD, status, finished) = (workerFD, status, finished)
        nonisolated(unsafe) let runtime = WorkerRuntime(kinds: kinds, input: workerFD, output: workerFD)
        Thread {
            status.value = runtime.run()
            finished.signal()
        }.start()
    }

    deinit {
        close(fd)
        close(workerFD)
    }

    func send(_ message: WireMessage) {
        let bytes = Wire.encode(message)
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            guard n > 0 else { return }
            offset += n
        }
    }

    func receive() throws -> WireMessage {
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            if let message = try decoder.next() { return message }
            let n = read(fd, &buffer, buffer.count)
            guard n > 0 else { throw FleetError("the worker closed its end") }
            decoder.feed(buffer[0..<n])
        }
    }

    /// The worker's exit status once it has returned.
    func exitStatus() -> Int32 {
        finished.wait()
        return status.value
    }
}

@Suite struct InProcessWorkerTests {
    @Test func handshakeTaskAndShutdownOverASocketpair() throws {
        let worker = try InProcessWorker()
        guard case .hello(let facts) = try worker.receive() else { throw FleetError("no hello") }
        #expect(facts.protocolVersion == Wire.protocolVersion)
        worker.send(.welcome(version: Wire.protocolVersion))
        worker.send(.task(TaskFrame(id: 7, attempt: 0, kind: "shell", payload: Array("printf 'a\\0b'; echo err >&2; exit 3".utf8))))
        var out: [UInt8] = []
        var err: [UInt8] = []
        var result: ResultFrame?
        while result == nil {
            switch try worker.receive() {
            case .output(7, 1, let bytes): out += bytes
            case .output(7, 2, let bytes): err += bytes
            case .result(let frame): result = frame
            default: continue
            }
        }
        #expect(out == [UInt8(ascii: "a"), 0, UInt8(ascii: "b")])
        #expect(err == Array("err\n".utf8))
        #expect(result?.outcome == .exited && result?.code == 3)
        worker.send(.shutdown(reason: "done"))
        #expect(worker.exitStatus() == 0)
    }

    @Test func anUnknownKindFailsToStartAndTheWorkerGoesOn() throws {
        let worker = try InProcessWorker()
        _ = try worker.receive()
        worker.send(.welcome(version: Wire.protocolVersion))
        worker.send(.task(TaskFrame(id: 1, attempt: 0, kind: "nonesuch", payload: [])))
        worker.send(.task(TaskFrame(id: 2, attempt: 0, kind: "shell", payload: Array("true".utf8))))
        var results: [UInt64: ResultFrame] = [:]
        while results.count < 2 {
            if case .result(let frame) = try worker.receive() { results[frame.taskID] = frame }
        }
        #expect(results[1]?.outcome == .failedToStart)
        #expect(results[2]?.outcome == .exited && results[2]?.code == 0)
        worker.send(.shutdown(reason: "done"))
        #expect(worker.exitStatus() == 0)
    }

    @Test func aCorruptFrameEndsTheWorker() throws {
        let worker = try InProcessWorker()
        _ = try worker.receive()
        worker.send(.welcome(version: Wire.protocolVersion))
        var garbage: [UInt8] = [0, 0, 0, 2, 0xEE, 0]
        _ = write(worker.fd, &garbage, garbage.count)
        #expect(worker.exitStatus() == 65)
    }
}
