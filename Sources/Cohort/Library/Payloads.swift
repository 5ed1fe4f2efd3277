import Foundation

/// The task payloads of a library map: the job's name, a newline, and a JSON array of one
/// batch of inputs. Encoding a million tiny inputs takes about half a second of a core, so
/// it is not done before connecting: background tasks encode the batches in order while the
/// hosts connect, and a batch the engine asks for before they got to it is encoded there and
/// then. Kept after sending, since a batch whose worker dies is sent again.
final class Payloads<Input: Encodable & Sendable>: @unchecked Sendable {
    // @unchecked: `encoded` is only touched under `lock`; the rest is immutable.
    let starts: [Int]
    private let size: Int
    private let inputs: [Input]
    private let header: [UInt8]
    private let lock = NSLock()
    private var encoded: [[UInt8]?]

    init(job name: String, inputs: [Input], batchSize: Int) {
        size = max(1, batchSize)
        starts = Array(stride(from: 0, to: inputs.count, by: size))
        self.inputs = inputs
        header = Array((name + "\n").utf8)
        encoded = Array(repeating: nil, count: starts.count)
    }

    var count: Int { starts.count }

    /// The input indices of batch `index`.
    func range(_ index: Int) -> Range<Int> { starts[index]..<starts[index] + inputCount(index) }

    /// Inputs in batch `index`.
    func inputCount(_ index: Int) -> Int { min(inputs.count, starts[index] + size) - starts[index] }

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
            return header + Array(try JSONEncoder().encode(batch))
        } catch {
            // The worker fails this batch as Cohort.badInput with the message; the others run on.
            let failed = [FailureEnvelope.encodingFailedKey: "cannot encode \(Input.self): \(error)"]
            return header + Array((try? JSONEncoder().encode(failed)) ?? Data("{}".utf8))
        }
    }
}
