import Synchronization
import Testing

@testable import CohortSSH

@Suite struct OutputBufferTests {
    @Test func producerIsToldToStopAtCapacityAndResumedWhenDrained() async throws {
        let drained = Atomic<Int>(0)
        let buffer = OutputBuffer(capacity: 100) { drained.add(1, ordering: .relaxed) }
        #expect(buffer.push(.stdout(Array(repeating: 1, count: 60))))
        #expect(!buffer.push(.stdout(Array(repeating: 2, count: 60))))
        #expect(!buffer.reserve())
        #expect(try await buffer.next() == .stdout(Array(repeating: 1, count: 60)))
        // 60 bytes left: above half the capacity, still paused.
        #expect(drained.load(ordering: .relaxed) == 0)
        #expect(try await buffer.next() == .stdout(Array(repeating: 2, count: 60)))
        #expect(drained.load(ordering: .relaxed) == 1)
        #expect(buffer.reserve())
        buffer.finish(.success(()))
        #expect(try await buffer.next() == nil)
    }

    @Test func failureReachesAWaitingConsumerAfterBufferedEvents() async throws {
        let buffer = OutputBuffer(capacity: 10) {}
        _ = buffer.push(.stderr([0xff]))
        buffer.finish(.failure(.init(.transportLost, "gone")))
        #expect(try await buffer.next() == .stderr([0xff]))
        await #expect(throws: CohortError.self) { _ = try await buffer.next() }
    }
}

import CohortCore
