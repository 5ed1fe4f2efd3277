import Foundation
import Synchronization

/// The task payloads of a library map: the job's name, a newline, the map's context (the
/// first task of each worker slot) or its hash (the others), and a JSON array of one batch of
/// inputs. Encoding a million tiny inputs takes about half a second of a core, so
/// it is not done before connecting: background tasks encode the batches in order while the
/// hosts connect, and a batch the engine asks for before they got to it is encoded there and
/// then. Kept after sending, since a batch whose worker dies is sent again.
final class Payloads<Input: Encodable & Sendable>: @unchecked Sendable {
    // @unchecked: `encoded` is only touched under `lock`; the rest is immutable.
    let starts: [Int]
    private let size: Int
    private let inputs: [Input]
    private let name: String
    private let context: (hash: String, bytes: [UInt8])?
    private let inlineAlways: Bool
    /// Slots already sent the context in this map.
    private let served = Mutex<Set<Int>>([])
    private let lock = NSLock()
    private var encoded: [[UInt8]?]

    /// `inlineAlways` sends the context in every task: for tasks sent again because their
    /// worker had lost it.
    init(job name: String, inputs: [Input], batchSize: Int, context: (hash: String, bytes: [UInt8])? = nil, inlineAlways: Bool = false) {
        size = max(1, batchSize)
        starts = Array(stride(from: 0, to: inputs.count, by: size))
        self.inputs = inputs
        self.name = name
        self.context = context
        self.inlineAlways = inlineAlways
        encoded = Array(repeating: nil, count: starts.count)
    }

    /// The whole payload of batch `index` as sent to `slot` (numbered uniquely in a map).
    func payload(_ index: Int, slot: Int) -> [UInt8] {
        guard let context else { return JobPayloadHead.encode(name: name, context: .none) + self[index] }
        let first = inlineAlways || served.withLock { $0.insert(slot).inserted }
        let head: JobPayloadHead.Context = first ? .inline(hash: context.hash, bytes: context.bytes) : .named(hash: context.hash)
        return JobPayloadHead.encode(name: name, context: head) + self[index]
    }

    var count: Int { starts.count }

    /// The input indices of batch `index`.
    func range(_ index: Int) -> Range<Int> { starts[index]..<starts[index] + inputCount(index) }

    /// Inputs in batch `index`.
    func inputCount(_ index: Int) -> Int { min(inputs.count, starts[index] + size) - starts[index] }

    /// The inputs' JSON of batch `index`.
    subscript(index: Int) -> [UInt8] {
        if let payload = lock.withLock({ encoded[index] }) { return payload }
        let payload = encode(index)
        lock.withLock { encoded[index] = payload }
        return payload
    }

    /// Encodes every batch in the background, one task per core over contiguous ranges.
    func encodeInBackground() {
        let parts = max(1, min(count, ProcessInfo.processInfo.activeProcessorCount))
        let perPart = (count + parts - 1) / parts
        for part in 0..<parts {
            let range = part * perPart..<min(count, (part + 1) * perPart)
            Task.detached { [self] in
                for index in range where lock.withLock({ encoded[index] == nil }) { _ = self[index] }
            }
        }
    }

    private func encode(_ index: Int) -> [UInt8] {
        let batch = Array(inputs[starts[index]..<starts[index] + inputCount(index)])
        do {
            return Array(try JSONEncoder().encode(batch))
        } catch {
            // The worker fails this batch as Cohort.badInput with the message; the others run on.
            let failed = [FailureEnvelope.encodingFailedKey: "cannot encode \(Input.self): \(error)"]
            return Array((try? JSONEncoder().encode(failed)) ?? Data("{}".utf8))
        }
    }
}
