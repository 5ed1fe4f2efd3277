import CohortCore
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

    /// Reads a joblog; the last entry for a sequence number wins (a resumed run appends).
    public static func parse(_ text: String, file: String) throws -> [Int: Entry] {
        var entries: [Int: Entry] = [:]
        for (number, line) in TextLines.split(text).enumerated() {
            if line.isEmpty || (number == 0 && line.hasPrefix("Seq\t")) { continue }
            let fields = line.split(separator: "\t", maxSplits: 8, omittingEmptySubsequences: false)
            guard fields.count >= 8, let sequence = Int(fields[0]), let exitValue = Int(fields[6]), let signal = Int(fields[7]) else {
                throw CohortError(.invalidInput, "not a joblog line (Seq Host Starttime JobRuntime Send Receive Exitval Signal Command)", file: file, line: number + 1)
            }
            entries[sequence] = Entry(sequence: sequence, exitValue: exitValue, signal: signal)
        }
        return entries
    }
}
