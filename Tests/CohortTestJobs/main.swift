// A library program for the tests (LibraryTests, PoolTests): each mode exercises one promise
// of the library on a real fleet and prints what it saw, one fact per line.
//
//   CohortTestJobs -i INVENTORY --timeout SECONDS SPIN...   per input: "INDEX ok PID" or "INDEX TYPE"
//   CohortTestJobs -i INVENTORY cancel-break DIR FLEETDIR   leaves the loop after 3 results
//   CohortTestJobs -i INVENTORY cancel-task DIR FLEETDIR    cancels the consuming task after 3
//   CohortTestJobs -i INVENTORY reduce-throws               a reduce whose first job throws
//   CohortTestJobs -i INVENTORY same-short-names            Celsius.Convert and Miles.Convert
//   CohortTestJobs -i INVENTORY split                       one crashing input, one inf output
//   CohortTestJobs -i INVENTORY one                         one job; prints its result or failure,
//                                                           then the cluster's host problems
//   CohortTestJobs -i INVENTORY context                     maps with a shared context, one that
//                                                           restarts its worker, and one without
//   CohortTestJobs -i INVENTORY reuse FLEETDIR              three maps on one cluster, then Cluster.with
//   CohortTestJobs -i INVENTORY stream [COUNT]              times COUNT results read at top level, then detached
//   CohortTestJobs --duplicate-names                        two jobs under one name: exit 4
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

/// Leaves a mark (a file named for its index) the moment it starts, then takes a second.
struct Mark: Job {
    struct Input: Codable, Sendable {
        var directory: String
        var index: Int
    }

    func run(_ input: Input) async throws -> Int {
        _ = FileManager.default.createFile(atPath: "\(input.directory)/\(input.index)", contents: nil)
        try await Task.sleep(for: .seconds(1))
        return input.index
    }
}

struct Refused: Error, Codable {}

/// Input 0 fails at once; the others take a while.
struct FailFirst: Job {
    func run(_ input: Int) async throws -> Int {
        if input == 0 { throw Refused() }
        try await Task.sleep(for: .milliseconds(300))
        return input
    }
}

enum Celsius {
    struct Convert: Job {
        func run(_ celsius: Double) async throws -> Double { celsius * 9 / 5 + 32 }
    }
}

enum Miles {
    struct Convert: Job {
        func run(_ miles: Double) async throws -> Double { miles * 1.609344 }
    }
}

/// Input 13 kills its worker; input 7's output is infinite, which JSON cannot carry.
struct Fragile: Job {
    func run(_ input: Int) async throws -> Double {
        if input == 13 { exit(70) }
        return input == 7 ? .infinity : Double(input)
    }
}

enum SameName {
    struct First: Job {
        static var name: String { "same" }
        func run(_ input: Int) async throws -> Int { input }
    }

    struct Second: Job {
        static var name: String { "same" }
        func run(_ input: Int) async throws -> Int { -input }
    }
}

/// What the context maps share.
struct Greeting: Codable, Sendable {
    var word: String
    var punctuation: String
}

/// Greets its input with the map's context; spins first when the name asks (`spin` runs past
/// the map's timeout: the worker restarts in place and forgets the contexts it held).
struct Greet: Job {
    func run(_ name: String) async throws -> String {
        if name == "spin" {
            let end = ContinuousClock.now + .seconds(3)
            while ContinuousClock.now < end {}
        }
        let greeting = try JobContext.current(Greeting.self)
        return "\(greeting.word) \(name)\(greeting.punctuation)"
    }
}

if CommandLine.arguments.dropFirst().first == "--duplicate-names" {
    serveJobs([SameName.First.self, SameName.Second.self])
    print("served two jobs under one name")
    exit(0)
}

// A program that checks something of its own before serveJobs and exits 4 in worker mode
// (here: when the host holds ~/cohort-test-refuse): the coordinator must say so in its words.
if CommandLine.arguments.dropFirst().first == "--cohort-worker",
    FileManager.default.fileExists(atPath: (ProcessInfo.processInfo.environment["HOME"] ?? "") + "/cohort-test-refuse")
{
    FileHandle.standardError.write(Data("refusing to serve: this host is marked\n".utf8))
    exit(4)
}

serveJobs([Spin.self, Mark.self, FailFirst.self, Celsius.Convert.self, Miles.Convert.self, Fragile.self, Greet.self])

func usage() -> Never {
    FileHandle.standardError.write(Data("usage: see Tests/CohortTestJobs/main.swift\n".utf8))
    exit(4)
}

/// Waits (ten minutes at most: a bound against a hang, not a claim about speed) until no worker runs from under `fleet`, the test fleet's folder:
/// then whatever the jobs did on the hosts is done.
func waitForWorkersToEnd(under fleet: String) {
    let deadline = ContinuousClock.now + .seconds(600)
    while ContinuousClock.now < deadline {
        let running = (try? FileManager.default.contentsOfDirectory(atPath: "/proc"))?.contains { pid in
            guard Int(pid) != nil, let raw = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
            let words = raw.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            return words.contains("--cohort-worker") && words.contains { $0.hasPrefix(fleet) }
        } ?? false
        if !running { return }
        usleep(20_000)
    }
    print("workers still running after a minute")
}

func marks(_ directory: String) -> Int { (try? FileManager.default.contentsOfDirectory(atPath: directory).count) ?? -1 }

let arguments = Array(CommandLine.arguments.dropFirst())
guard arguments.count >= 3, arguments[0] == "-i" else { usage() }
var cluster = try Cluster(inventory: arguments[1])

switch arguments[2] {
case "--timeout":
    guard arguments.count >= 4, let timeout = Double(arguments[3]) else { usage() }
    cluster.options.timeout = .milliseconds(Int(timeout * 1000))
    cluster.chunkSize = 1
    let spins = arguments.dropFirst(4).compactMap(Double.init)
    for (index, result) in try await cluster.mapResults(Spin.self, spins).enumerated() {
        switch result {
        case .success(let pid): print("\(index) ok \(pid)")
        case .failure(let failure): print("\(index) \(failure.type)")
        }
    }

case "cancel-break":
    guard arguments.count == 5 else { usage() }
    let inputs = (0..<40).map { Mark.Input(directory: arguments[3], index: $0) }
    // In a function, as in most programs: top-level code keeps a loop's iterator (a global
    // there) alive until the program ends, so a `break` there cannot be noticed (docs/library.md).
    func firstThree() async throws -> Int {
        var seen = 0
        for try await _ in cluster.mapUnordered(Mark.self, inputs, chunkSize: 1) {
            seen += 1
            if seen == 3 { break }
        }
        return seen
    }
    print("left after \(try await firstThree())")
    // The cluster keeps its workers; shutting it down waits for the stopped map first.
    await cluster.shutdown()
    waitForWorkersToEnd(under: arguments[4])
    print("marks \(marks(arguments[3]))")

case "cancel-task":
    guard arguments.count == 5 else { usage() }
    let inputs = (0..<40).map { Mark.Input(directory: arguments[3], index: $0) }
    let consumer = Task { [cluster] in
        var seen = 0
        do {
            for try await _ in cluster.mapUnordered(Mark.self, inputs, chunkSize: 1) {
                seen += 1
                if seen == 3 { withUnsafeCurrentTask { $0?.cancel() } }
            }
            return "ended without an error after \(seen)"
        } catch is CancellationError {
            return "CancellationError after \(seen)"
        } catch {
            return "\(error) after \(seen)"
        }
    }
    print(await consumer.value)
    await cluster.shutdown()
    waitForWorkersToEnd(under: arguments[4])
    print("marks \(marks(arguments[3]))")

case "reduce-throws":
    do {
        let sum = try await cluster.reduce(FailFirst.self, Array(0..<24), into: 0, chunkSize: 1) { $0 += $1 }
        print("no error: \(sum)")
    } catch let failure as JobFailure {
        print("threw \(failure.decode(Refused.self) != nil ? "Refused" : failure.type)")
    }
    // exit() right away: OpenSSL's teardown must not race an IO thread still in libssh2.
    exit(0)

case "same-short-names":
    let celsius = try await cluster.mapResults(Celsius.Convert.self, [100])
    let miles = try await cluster.mapResults(Miles.Convert.self, [1])
    print("celsius \(try celsius[0].get()) miles \(try miles[0].get())")

case "split":
    cluster.options.retries = 0
    for (index, result) in try await cluster.mapResults(Fragile.self, Array(0..<20), chunkSize: 10).enumerated() {
        switch result {
        case .success(let value): print("\(index) ok \(value)")
        case .failure(let failure): print("\(index) \(failure.type)")
        }
    }

case "reuse":
    // Three maps on one cluster, then the same inside `Cluster.with`: each scope logs in once.
    for round in 0..<3 {
        let results = try await cluster.mapResults(Celsius.Convert.self, (0..<16).map { Double($0 + round) })
        print("map \(round): \(results.compactMap { try? $0.get() }.count) ok")
    }
    await cluster.shutdown()
    let scoped = try await Cluster.with(inventory: arguments[1]) { cluster in
        var total = 0.0
        for _ in 0..<2 { total += try await cluster.reduce(Celsius.Convert.self, [0, 100], into: 0) { $0 += $1 } }
        return total
    }
    print("scoped \(scoped)")
    if arguments.count > 3 {
        waitForWorkersToEnd(under: arguments[3])
        print("workers gone")
    }

case "stream":
    // COUNT results consumed in top-level code, then the same inside Task.detached, on
    // workers started by a first small map.
    let count = arguments.count > 3 ? Int(arguments[3]) ?? 200_000 : 200_000
    let inputs = (0..<count).map(Double.init)
    _ = try await cluster.mapResults(Celsius.Convert.self, [0])
    var started = ContinuousClock.now
    var seen = 0
    for try await _ in cluster.mapUnordered(Celsius.Convert.self, inputs) { seen += 1 }
    let topLevel = ContinuousClock.now - started
    started = ContinuousClock.now
    let detached = try await Task.detached { [cluster] in
        var seen = 0
        for try await _ in cluster.mapUnordered(Celsius.Convert.self, inputs) { seen += 1 }
        return seen
    }.value
    print("top-level \(seen) in \(topLevel), detached \(detached) in \(ContinuousClock.now - started)")

case "one":
    let result = try await cluster.mapResults(Celsius.Convert.self, [0])[0]
    switch result {
    case .success(let value): print("ok \(value)")
    case .failure(let failure): print(failure)
    }
    for problem in cluster.hostProblems { print("problem \(problem)") }

case "context":
    let names = (0..<40).map { "n\($0)" }
    let hello = try await cluster.map(Greet.self, names, context: Greeting(word: "hello", punctuation: "!"), chunkSize: 1)
    print("hello \(hello == names.map { "hello \($0)!" })")
    // A second map on the same workers, another context: no job sees the first one.
    let hi = try await cluster.map(Greet.self, names, context: Greeting(word: "hi", punctuation: "."), chunkSize: 3)
    print("hi \(hi == names.map { "hi \($0)." })")
    // One worker restarts in place under the timeout; the tasks queued behind it on that
    // worker then name a context it no longer holds, and are sent again with it.
    cluster.options.timeout = .seconds(1)
    let restarted = try await cluster.mapResults(Greet.self, ["spin"] + names, context: Greeting(word: "hey", punctuation: "?"), chunkSize: 1)
    let failures = restarted.enumerated().compactMap { index, result in
        if case .failure(let failure) = result { return "\(index) \(failure.type)" }
        return nil
    }
    let fine = zip(restarted.dropFirst(), names).allSatisfy { result, name in (try? result.get()) == "hey \(name)?" }
    print("restart failures \(failures) others \(fine)")
    cluster.options.timeout = nil
    do {
        // Typed: top-level code would otherwise pick the deprecated streaming overload.
        let outputs: [String] = try await cluster.map(Greet.self, names)
        print("no context: no error, \(outputs.count) outputs")
    } catch let failure as JobFailure {
        print("no context: \(failure.type), index given \(failure.index != nil)")
    }

default:
    usage()
}
