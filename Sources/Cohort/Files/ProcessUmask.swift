import Foundation

/// This process's umask, read without changing it: `umask()` can only be read by setting it,
/// and the coordinator creates files from several threads at once.
enum ProcessUmask {
    static let current: mode_t = {
        if let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Umask:") }),
            let value = mode_t(line.dropFirst(6).trimmingCharacters(in: .whitespaces), radix: 8)
        {
            return value
        }
        return 0o022
    }()
}
