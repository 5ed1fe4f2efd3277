import Foundation

/// Runs blocking work (waiting on a child process) on a thread of its own and awaits it.
///
/// Swift's cooperative pool has one thread per core: on a 2-core machine, two tests blocked in
/// `waitpid` would stall every async test of the run (an SSH test's 1-second deadline was once
/// seen to take 30 s that way). Tests that run the CLI therefore wait here instead.
public func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}

extension Shell {
    /// `run`, awaited without holding a cooperative thread.
    public static func run(_ program: String, _ arguments: [String], environment: [String: String]? = nil, stdin: String? = nil) async throws -> Result {
        try await offPool { try Shell.run(program, arguments, environment: environment, stdin: stdin) as Result }
    }
}
