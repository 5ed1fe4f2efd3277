import Foundation

/// One task's stdout or stderr, kept together until the task ends: in memory up to
/// `memoryLimit`, then in a temporary file, so that a task printing 200 MB does not hold
/// 200 MB of memory. Bytes are kept exactly as produced.
///
/// The temporary file is unlinked as soon as it is made: only the open descriptor keeps it,
/// so nothing is left in /tmp however the coordinator ends (Ctrl-C, SIGKILL, a crash).
public final class CapturedOutput: @unchecked Sendable {
    // @unchecked: written only by the map engine (an actor) before the result is published;
    // read-only afterwards.
    public static let memoryLimit = 1 << 20
    /// Bytes before the file was made, or all of them when none could be (or a write to it
    /// failed): held in memory rather than lost.
    private var memory: [UInt8] = []
    /// Bytes that come after the file's contents (a write to the file failed).
    private var tail: [UInt8] = []
    private var fd: Int32 = -1
    private var fileBytes = 0
    private var spillFailed = false
    public private(set) var count = 0

    public init() {}

    deinit {
        if fd >= 0 { close(fd) }
    }

    func append(_ bytes: [UInt8]) {
        count += bytes.count
        if fd < 0, memory.count + bytes.count <= Self.memoryLimit {
            memory += bytes
            return
        }
        if fd < 0 {
            var template = Array((NSTemporaryDirectory() + "cohort-output-XXXXXX").utf8CString)
            let made = mkstemp(&template)
            guard made >= 0 else {
                memory += bytes  // no temporary file: keep going in memory rather than lose bytes
                return
            }
            unlink(String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
            fd = made
            let held = memory
            memory = []
            spill(held)
        }
        spill(bytes)
    }

    /// Appends to the file; once a write fails (disk full), what the file holds stays and every
    /// later byte goes to `tail`, in order.
    private func spill(_ bytes: [UInt8]) {
        guard !spillFailed else {
            tail += bytes
            return
        }
        var written = 0
        while written < bytes.count {
            let n = bytes[written...].withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, off_t(fileBytes + written)) }
            if n < 0 {
                if errno == EINTR { continue }
                spillFailed = true
                tail += bytes[written...]
                break
            }
            written += n
        }
        fileBytes += written
    }

    /// All the bytes (for small outputs; large ones are better streamed with `forEachChunk`).
    public var bytes: [UInt8] {
        var all: [UInt8] = []
        forEachChunk { all += $0 }
        return all
    }

    /// Hands the output over in pieces of at most 1 MiB, in order.
    public func forEachChunk(_ body: ([UInt8]) -> Void) {
        if !memory.isEmpty { body(memory) }
        if fd >= 0 {
            var offset = 0
            var chunk = [UInt8](repeating: 0, count: 1 << 20)
            while offset < fileBytes {
                let n = chunk.withUnsafeMutableBytes { pread(fd, $0.baseAddress, min($0.count, fileBytes - offset), off_t(offset)) }
                if n < 0, errno == EINTR { continue }
                guard n > 0 else { break }
                body(Array(chunk[..<n]))
                offset += n
            }
        }
        if !tail.isEmpty { body(tail) }
    }
}
