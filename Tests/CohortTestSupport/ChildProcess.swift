import Foundation

/// A child process spawned with posix_spawn and reaped with waitpid.
///
/// Foundation's `Process.waitUntilExit` needs a Dispatch thread to notice the exit, and on
/// Linux Swift's cooperative pool *is* Dispatch's pool, one thread per core: a few tests blocked
/// in it at once deadlock the suite. This type depends on no other thread.
public final class ChildProcess: @unchecked Sendable {
    // @unchecked: the descriptors are immutable; `status` is written once, by `wait`, under `lock`.
    public let pid: pid_t
    /// Write end of the child's stdin (-1 once closed).
    public private(set) var stdinFD: Int32
    public let stdoutFD: Int32
    public let stderrFD: Int32
    private let lock = NSLock()
    private var status: Int32?
    private static let spawnLock = NSLock()

    public init(_ program: String, _ arguments: [String], environment: [String: String]? = nil) throws {
        var input: [Int32] = [0, 0], output: [Int32] = [0, 0], errors: [Int32] = [0, 0]
        // Pipes are made, marked close-on-exec and handed to the child under one lock, so that
        // a child spawned concurrently by another test never inherits these ends (it would hold
        // them open and hide EOF). dup2 in the child clears the flag on its own 0, 1 and 2.
        Self.spawnLock.lock()
        defer { Self.spawnLock.unlock() }
        guard pipe(&input) == 0, pipe(&output) == 0, pipe(&errors) == 0 else { throw FleetError("pipe failed") }
        for fd in input + output + errors { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, input[0], 0)
        posix_spawn_file_actions_adddup2(&actions, output[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errors[1], 2)
        let env = ProcessInfo.processInfo.environment.merging(environment ?? [:]) { $1 }.map { "\($0)=\($1)" }
        let argv = ([program] + arguments).map { strdup($0) } + [nil]
        let envp = env.map { strdup($0) } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var child: pid_t = 0
        let rc = posix_spawn(&child, program, &actions, nil, argv, envp)
        [input[0], output[1], errors[1]].forEach { close($0) }
        guard rc == 0 else {
            [input[1], output[0], errors[0]].forEach { close($0) }
            throw FleetError("cannot start \(program): \(String(cString: strerror(rc)))")
        }
        pid = child
        stdinFD = input[1]
        stdoutFD = output[0]
        stderrFD = errors[0]
    }

    deinit {
        [stdinFD, stdoutFD, stderrFD].filter { $0 >= 0 }.forEach { close($0) }
    }

    public func write(_ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count, stdinFD >= 0 {
            let n = bytes[offset...].withUnsafeBytes { Glibc.write(stdinFD, $0.baseAddress, $0.count) }
            if n <= 0 { if errno == EINTR { continue } else { return } }
            offset += n
        }
    }

    public func closeStdin() {
        if stdinFD >= 0 { close(stdinFD) }
        stdinFD = -1
    }

    /// Blocks until some bytes arrive; empty at end of file.
    public static func readSome(_ fd: Int32) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = read(fd, &buffer, buffer.count)
            if n < 0, errno == EINTR { continue }
            return n > 0 ? Array(buffer[0..<n]) : []
        }
    }

    public static func readAll(_ fd: Int32) -> [UInt8] {
        var all: [UInt8] = []
        while true {
            let chunk = readSome(fd)
            if chunk.isEmpty { return all }
            all += chunk
        }
    }

    /// Whether the child has exited (reaping it if so).
    public var isRunning: Bool {
        lock.lock()
        defer { lock.unlock() }
        if status != nil { return false }
        var raw: Int32 = 0
        if waitpid(pid, &raw, WNOHANG) == pid {
            status = Self.decode(raw)
            return false
        }
        return true
    }

    /// Blocks until the child exits: its exit code, or 128 + the signal that ended it.
    @discardableResult
    public func wait() -> Int32 {
        lock.lock()
        defer { lock.unlock() }
        if let status { return status }
        var raw: Int32 = 0
        while waitpid(pid, &raw, 0) < 0, errno == EINTR {}
        status = Self.decode(raw)
        return status!
    }

    private static func decode(_ raw: Int32) -> Int32 {
        raw & 0x7f == 0 ? (raw >> 8) & 0xff : 128 + (raw & 0x7f)
    }
}
