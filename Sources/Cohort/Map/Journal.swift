import CohortCore
import CohortScheduler
import Crypto
import Foundation

/// `--journal FILE`: an append-only record of finished tasks, so that a coordinator killed
/// mid-run and started again skips what already finished.
///
/// The first line names the run by a SHA-256 of its command and inputs; resuming a different
/// run is refused. Each finished task then appends one line, written at once (a killed
/// coordinator loses nothing the kernel got) and fsync'd at most every `sync` call (the map
/// calls it every 50 ms), so that thousands of tasks a second do not wait on the disk.
public final class Journal: @unchecked Sendable {
    // @unchecked: `fd` and `dirty` are guarded by `lock`.
    private let lock = NSLock()
    private let fd: Int32
    private var dirty = false
    public let path: String
    /// Sequence numbers (0-based task indices) already finished in earlier runs.
    public let finished: TaskBitmap

    static let magic = "cohort-journal 1 "

    /// The run's identity: its command and every input, in order.
    public static func fingerprint(command: String, inputs: MapInputs) -> String {
        var hasher = SHA256()
        hasher.update(data: Data(command.utf8))
        for index in inputs.indices {
            let input = inputs[index]
            hasher.update(data: Data([0]))
            hasher.update(data: Data(input.joined(separator: "\u{1f}").utf8))
        }
        return hasher.finalize().hex
    }

    /// Opens (or starts) the journal of a map of `taskCount` tasks. It is read a chunk at a
    /// time into a bitmap: a journal of 10^8 tasks costs 12.5 MB, not the file's size.
    public init(path: String, fingerprint: String, taskCount: Int) throws {
        self.path = path
        var finished = TaskBitmap()
        var keep: Int?
        var empty = true
        let reader = open(path, O_RDONLY | O_CLOEXEC)
        if reader >= 0 {
            defer { close(reader) }
            var number = 0
            try TextLines.forEach(readingFD: reader, name: path) { bytes, ended, end in
                number += 1
                empty = false
                let line = String(decoding: bytes, as: UTF8.self)
                if number == 1 {
                    guard line.hasPrefix(Self.magic) else { throw CohortError(.invalidInput, "not a cohort journal", file: path, line: 1) }
                    guard line.dropFirst(Self.magic.count) == fingerprint else {
                        throw CohortError(
                            .invalidInput,
                            "this journal belongs to another run (its command or inputs differ); give another --journal file, or delete this one to start over",
                            file: path, line: 1)
                    }
                    return
                }
                // A last line without its line end was cut short by a crash: not counted, cut away.
                guard ended else {
                    keep = end - bytes.count
                    return
                }
                guard let index = Int(line.split(separator: "\t").first ?? ""), (0..<taskCount).contains(index) else {
                    throw CohortError(.invalidInput, "not a journal line of this map's \(taskCount) tasks", file: path, line: number)
                }
                finished.insert(index)
            }
        }
        self.finished = finished
        fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw CohortError(.io, "cannot open the journal: \(String(cString: strerror(errno)))", file: path) }
        // Cut a torn last line away, so that the next record starts on a line of its own.
        if let keep { ftruncate(fd, off_t(keep)) }
        if empty {
            try append(Self.magic + fingerprint + "\n")
            sync()
        }
    }

    deinit {
        sync()
        close(fd)
    }

    /// Records task `index` (0-based) as finished with `status`.
    public func record(_ index: Int, status: String) throws {
        try append("\(index)\t\(status)\n")
    }

    private func append(_ line: String) throws {
        let bytes = Array(line.utf8)
        lock.lock()
        defer { lock.unlock() }
        // O_APPEND and one write per line: a line is never interleaved or split by us.
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count else {
            throw CohortError(.io, "cannot write the journal: \(String(cString: strerror(errno)))", file: path)
        }
        dirty = true
    }

    /// Makes what was recorded durable.
    public func sync() {
        lock.lock()
        defer { lock.unlock() }
        if dirty {
            fsync(fd)
            dirty = false
        }
    }
}
