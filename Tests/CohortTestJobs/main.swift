// A library program for the tests: jobs that spin for a while, to prove that a Swift job which
// never returns is stopped by the timeout and that its worker goes on with the next jobs.
//
//   CohortTestJobs -i INVENTORY --timeout SECONDS SPIN...
//
// Prints, per input in order, "INDEX ok PID" (the worker's pid) or "INDEX TYPE".
import Cohort
import Foundation

/// Spins the CPU for `seconds` without ever suspending (nothing can interrupt it cooperatively),
/// then returns the worker's pid.
struct Spin: Job {
    func run(_ seconds: Double) async throws -> Int32 {
        let end = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while ContinuousClock.now < end {}
        return getpid()
    }
}

serveJobs([Spin.self])

let arguments = Array(CommandLine.arguments.dropFirst())
guard arguments.count >= 4, arguments[0] == "-i", arguments[2] == "--timeout", let timeout = Double(arguments[3]) else {
    FileHandle.standardError.write(Data("usage: CohortTestJobs -i INVENTORY --timeout SECONDS SPIN...\n".utf8))
    exit(4)
}
var options = MapOptions()
options.timeout = .milliseconds(Int(timeout * 1000))
var cluster = try Cluster(inventory: arguments[1], options: options)
cluster.chunkSize = 1
let spins = arguments.dropFirst(4).compactMap(Double.init)
for (index, result) in try await cluster.mapOrdered(Spin.self, spins).enumerated() {
    switch result {
    case .success(let pid): print("\(index) ok \(pid)")
    case .failure(let failure): print("\(index) \(failure.type)")
    }
}
