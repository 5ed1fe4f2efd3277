import CohortCore
import Synchronization

/// One exec's output on its way from the IO loop to the consumer.
///
/// Bounded: when `capacity` bytes wait unread, the channel stops reading, the SSH window
/// fills and the remote writer blocks, so a fast producer and a slow consumer keep memory
/// flat (100 MB of output never sits in memory at once).
final class OutputBuffer: Sendable {
    private struct State {
        var events: [ProcessEvent] = []
        var head = 0
        var bytes = 0
        var end: Result<Void, CohortError>?
        var waiter: CheckedContinuation<ProcessEvent?, any Error>?
        var paused = false
    }

    private let state = Mutex(State())
    let capacity: Int
    /// Called (from the consumer's thread) when a paused producer may read again.
    private let onDrain: @Sendable () -> Void

    init(capacity: Int, onDrain: @escaping @Sendable () -> Void) {
        self.capacity = capacity
        self.onDrain = onDrain
    }

    /// Producer side, IO loop only. Returns false when full: stop reading until `onDrain`.
    func push(_ event: ProcessEvent) -> Bool {
        let (waiter, hasRoom): (CheckedContinuation<ProcessEvent?, any Error>?, Bool) = state.withLock { s in
            if let waiter = s.waiter {
                s.waiter = nil
                return (waiter, true)
            }
            s.events.append(event)
            s.bytes += event.byteCount
            return (nil, s.bytes < capacity)
        }
        waiter?.resume(returning: event)
        return hasRoom
    }

    /// Producer side: whether there is room to read more now. Marks the buffer paused if not.
    func reserve() -> Bool {
        state.withLock { s in
            if s.bytes < capacity { return true }
            s.paused = true
            return false
        }
    }

    func finish(_ end: Result<Void, CohortError>) {
        let waiter: CheckedContinuation<ProcessEvent?, any Error>? = state.withLock { s in
            guard s.end == nil else { return nil }
            s.end = end
            guard s.head == s.events.count, let waiter = s.waiter else { return nil }
            s.waiter = nil
            return waiter
        }
        if let waiter {
            switch end {
            case .success: waiter.resume(returning: nil)
            case .failure(let error): waiter.resume(throwing: error)
            }
        }
    }

    func next() async throws -> ProcessEvent? {
        try await withCheckedThrowingContinuation { continuation in
            enum Outcome { case event(ProcessEvent, drained: Bool), end(Result<Void, CohortError>), wait }
            let outcome: Outcome = state.withLock { s in
                if s.head < s.events.count {
                    let event = s.events[s.head]
                    s.head += 1
                    s.bytes -= event.byteCount
                    if s.head > 64, s.head * 2 > s.events.count {
                        s.events.removeFirst(s.head)
                        s.head = 0
                    }
                    let drained = s.paused && s.bytes < capacity / 2
                    if drained { s.paused = false }
                    return .event(event, drained: drained)
                }
                if let end = s.end { return .end(end) }
                s.waiter = continuation
                return .wait
            }
            switch outcome {
            case .event(let event, let drained):
                if drained { onDrain() }
                continuation.resume(returning: event)
            case .end(.success):
                continuation.resume(returning: nil)
            case .end(.failure(let error)):
                continuation.resume(throwing: error)
            case .wait:
                break
            }
        }
    }
}
