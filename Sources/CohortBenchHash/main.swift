// W5 of bench/run: SHA-256 of a 64-byte input, a million times, as Cohort library jobs over
// the fleet (bench/mp_hash.py does the same work with multiprocessing.Pool.map).
//
//   cohort-bench-hash INVENTORY COUNT [ROUNDS]   prints the XOR of every hash's first 8 bytes
//
// With ROUNDS (W5b), ROUNDS maps of COUNT jobs run one after another on one cluster, as
// successive `Pool.map` calls on one `Pool`.
import Cohort
import Crypto
import Foundation

struct Hash64: Job {
    func run(_ seed: UInt64) async throws -> UInt64 {
        var block = [UInt8]()
        block.reserveCapacity(64)
        for _ in 0..<8 { withUnsafeBytes(of: seed.littleEndian) { block += $0 } }
        return SHA256.hash(data: block).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self).littleEndian }
    }
}

serveJobs([Hash64.self])

let arguments = CommandLine.arguments
guard arguments.count == 3 || arguments.count == 4, let count = UInt64(arguments[2]),
    let rounds = arguments.count == 4 ? UInt64(arguments[3]) : 1, rounds > 0
else {
    FileHandle.standardError.write(Data("usage: cohort-bench-hash INVENTORY COUNT [ROUNDS]\n".utf8))
    exit(4)
}
do {
    let cluster = try Cluster(inventory: arguments[1])
    var folded: UInt64 = 0
    for round in 0..<rounds {
        let inputs = Array(round * count..<(round + 1) * count)
        folded ^= try await cluster.reduce(Hash64.self, inputs, into: UInt64(0)) { $0 ^= $1 }
    }
    await cluster.shutdown()
    print(folded)
} catch {
    FileHandle.standardError.write(Data("cohort-bench-hash: \(error)\n".utf8))
    exit(1)
}
