import Cohort

func isPrime(_ n: Int) -> Bool {
    n >= 2 && !(2..<n).contains { d in d * d <= n && n % d == 0 }
}

struct CountPrimes: Job {                       // Input and Output are Codable
    func run(_ range: Range<Int>) async throws -> Int { range.filter(isPrime).count }
}

serveJobs([CountPrimes.self])                   // first: in worker mode this serves, then exits

func main() async throws {
    let cluster = try Cluster(inventory: "hosts.ini")          // pattern: "all" unless given
    let ranges = stride(from: 0, to: 200_000, by: 3_125).map { $0..<$0 + 3_125 }

    let counts = try await cluster.map(CountPrimes.self, ranges)      // [Int], in input order
    for try await done in cluster.mapUnordered(CountPrimes.self, ranges) {  // as they finish
        print(done.index, done.host ?? "?", try done.result.get())
    }
    let results = try await cluster.mapResults(CountPrimes.self, ranges)   // [Result<Int, JobFailure>]
    let total = try await cluster.reduce(CountPrimes.self, ranges, into: 0) { $0 += $1 }
    print(counts.count, results.count, total)
}

try await main()
