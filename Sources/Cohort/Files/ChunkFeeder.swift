import Foundation

/// One local file read once for every host it goes to: hosts take its chunks in order at
/// their own pace, and a chunk is dropped as soon as every host still taking it has it. At
/// most `window` chunks are held, so a slow host slows the fast ones rather than memory
/// growing with the file.
actor ChunkFeeder {
    static let chunkSize = 128 << 10

    private let handle: FileHandle?
    private let window: Int
    private var chunks: [Int: [UInt8]] = [:]
    private var read = 0
    private var atEnd = false
    /// The next chunk each host still taking the file wants.
    private var positions: [String: Int]
    private var waiters: [CheckedContinuation<Void, Never>] = []

    init(path: String, hosts: [String], window: Int = 8) {
        handle = LocalTree.reading(path)
        self.window = window
        positions = Dictionary(uniqueKeysWithValues: hosts.map { ($0, 0) })
    }

    private var slowest: Int { positions.values.min() ?? read }

    /// Chunk `index` for `host`; nil past the end of the file (or when it cannot be read).
    func chunk(_ index: Int, for host: String) async -> [UInt8]? {
        while index >= slowest + window {
            await withCheckedContinuation { waiters.append($0) }
        }
        while read <= index, !atEnd {
            let data = handle?.readData(ofLength: Self.chunkSize) ?? Data()
            if data.isEmpty {
                atEnd = true
            } else {
                chunks[read] = Array(data)
                read += 1
            }
        }
        let chunk = chunks[index]
        positions[host] = index + 1
        release()
        return chunk
    }

    /// The host takes no more of this file (done, unchanged, failed or lost).
    func leave(_ host: String) {
        positions.removeValue(forKey: host)
        release()
    }

    private func release() {
        let keep = slowest
        for index in chunks.keys where index < keep { chunks.removeValue(forKey: index) }
        let ready = waiters
        waiters.removeAll()
        for waiter in ready { waiter.resume() }
    }

    deinit { try? handle?.close() }
}
