import CohortCore
import CohortScheduler
import Foundation

/// GNU parallel's `--joblog` format (tab-separated, one header line), so that the files feed
/// the same scripts, and `--resume` / `--resume-failed` read them back.
public enum JobLog {
    public static let header = "Seq\tHost\tStarttime\tJobRuntime\tSend\tReceive\tExitval\tSignal\tCommand\n"

    public struct Entry: Sendable, Equatable {
        public var sequence: Int
        public var exitValue: Int
        public var signal: Int

        public var succeeded: Bool { exitValue == 0 && signal == 0 }
    }

    /// One line for a finished task. `sequence` is 1-based as `{#}`; times in seconds.
    public static func line(_ result: MapResult, sequence: Int, command: String) -> String {
        let start = result.startedAt?.timeIntervalSince1970 ?? Date().timeIntervalSince1970
        var exitValue: Int32 = -1
        var signal: Int32 = 0
        switch result.status {
        case .exited(let code): exitValue = code
        case .signaled(let number): (exitValue, signal) = (0, number)  // as GNU parallel: $? >> 8, $? & 127
        case .timedOut: (exitValue, signal) = (-1, SIGTERM)
        case .failedToStart, .failed, .lost, .halted: exitValue = -1
        }
        // A tab or line end would break the columns (GNU parallel has the same limit); the host
        // name is escaped, the command flattened, so that --resume always reads its own file.
        let flat = String(String.UnicodeScalarView(command.unicodeScalars.map { $0 == "\n" || $0 == "\t" || $0 == "\r" ? " " : $0 }))
        return [
            String(sequence), result.host.map(Printable.escaped) ?? ":", String(format: "%.3f", start), String(format: "%.3f", result.duration.seconds),
            "0", String(result.stdout.count + result.stderr.count), String(exitValue), String(signal), flat,
        ].joined(separator: "\t") + "\n"
    }

    /// The tasks a joblog lists (0-based), and those whose last entry succeeded, read a chunk
    /// at a time into bitmaps (a resumed run appends, so the last entry for a number wins).
    /// Numbers outside this map's `taskCount` tasks name no task here and are passed over.
    public static func done(readingFile path: String, taskCount: Int) throws -> (listed: TaskBitmap, succeeded: TaskBitmap) {
        var listed = TaskBitmap()
        var succeeded = TaskBitmap()
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return (listed, succeeded) }
        defer { close(fd) }
        var number = 0
        try TextLines.forEach(readingFD: fd, name: path) { bytes, _, _ in
            number += 1
            let line = String(decoding: bytes, as: UTF8.self)
            guard let entry = try entry(line, number: number, file: path) else { return }
            let task = entry.sequence - 1
            guard (0..<taskCount).contains(task) else { return }
            listed.insert(task)
            if entry.succeeded { succeeded.insert(task) } else { succeeded.remove(task) }
        }
        return (listed, succeeded)
    }

    /// One line's entry; nil for the header and empty lines.
    static func entry(_ line: String, number: Int, file: String) throws -> Entry? {
        if line.isEmpty || (number == 1 && line.hasPrefix("Seq\t")) { return nil }
        let fields = line.split(separator: "\t", maxSplits: 8, omittingEmptySubsequences: false)
        guard fields.count >= 8, let sequence = Int(fields[0]), let exitValue = Int(fields[6]), let signal = Int(fields[7]) else {
            throw CohortError(.invalidInput, "not a joblog line (Seq Host Starttime JobRuntime Send Receive Exitval Signal Command)", file: file, line: number)
        }
        return Entry(sequence: sequence, exitValue: exitValue, signal: signal)
    }
}
