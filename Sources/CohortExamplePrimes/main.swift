// An example program on the Cohort library: it counts primes across every core of a fleet.
//
//   swift build --product cohort-primes
//   .build/debug/cohort-primes -i inventory.ini [--below 2000000] [--jobs 64]
//
// The same executable is the worker: the coordinator uploads it to each host and starts it
// with --cohort-worker, where serveJobs answers.
import Cohort
import Foundation

/// Counts the primes in a range of integers.
struct CountPrimes: Job {
    func run(_ range: Range<Int>) async throws -> Int {
        range.reduce(0) { count, n in count + (Self.isPrime(n) ? 1 : 0) }
    }

    static func isPrime(_ n: Int) -> Bool {
        guard n >= 2 else { return false }
        var d = 2
        while d * d <= n {
            if n % d == 0 { return false }
            d += 1
        }
        return true
    }
}

/// Divides, and fails with a typed error that comes back to the coordinator as itself.
struct Divide: Job {
    struct Input: Codable, Sendable {
        var numerator: Int
        var denominator: Int
    }

    struct DivisionByZero: Error, Codable {
        var numerator: Int
    }

    func run(_ input: Input) async throws -> Int {
        guard input.denominator != 0 else { throw DivisionByZero(numerator: input.numerator) }
        return input.numerator / input.denominator
    }
}

serveJobs([CountPrimes.self, Divide.self])

func option(_ name: String) -> String? {
    let arguments = CommandLine.arguments
    return arguments.firstIndex(of: name).flatMap { $0 + 1 < arguments.count ? arguments[$0 + 1] : nil }
}

guard let inventory = option("-i") ?? ProcessInfo.processInfo.environment["COHORT_INVENTORY"] else {
    FileHandle.standardError.write(Data("usage: cohort-primes -i INVENTORY [--below N] [--jobs K]\n".utf8))
    exit(4)
}
let below = Int(option("--below") ?? "") ?? 2_000_000
let jobs = max(1, Int(option("--jobs") ?? "") ?? 64)
do {
    var options = MapOptions()
    options.slots = Int(option("--slots") ?? "")
    let cluster = try Cluster(inventory: inventory, options: options)
    let step = (below + jobs - 1) / jobs
    let ranges = stride(from: 0, to: below, by: step).map { $0..<min(below, $0 + step) }
    let start = ContinuousClock.now
    let primes = try await cluster.reduce(CountPrimes.self, ranges, into: 0) { $0 += $1 }
    print("primes below \(below): \(primes) (\(ranges.count) jobs on \(cluster.hosts.count) hosts, \(ContinuousClock.now - start))")

    let divisions = [Divide.Input(numerator: 84, denominator: 2), Divide.Input(numerator: 7, denominator: 0)]
    for (input, result) in zip(divisions, try await cluster.mapResults(Divide.self, divisions)) {
        switch result {
        case .success(let quotient):
            print("\(input.numerator) / \(input.denominator) = \(quotient)")
        case .failure(let failure):
            if let typed = failure.decode(Divide.DivisionByZero.self) {
                print("\(input.numerator) / \(input.denominator): DivisionByZero(numerator: \(typed.numerator))")
            } else {
                print("\(input.numerator) / \(input.denominator): \(failure)")
            }
        }
    }
} catch {
    FileHandle.standardError.write(Data("cohort-primes: \(error)\n".utf8))
    exit(error is JobFailure ? 1 : 4)
}
