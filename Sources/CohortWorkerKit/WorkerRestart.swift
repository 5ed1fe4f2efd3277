#if canImport(Glibc)
import Glibc
#endif

/// Restarting a worker in place, to stop a task that runs on one of its own threads: `exec`
/// of its own executable keeps the pid and the channel (stdin, stdout) and ends every thread.
/// The frames the old image had received but not run travel in an unlinked file (made in the
/// worker's own cache directory, which is ours and writable) whose descriptor survives the
/// exec; the successor reads them before stdin.
public enum WorkerRestart {
    public static let flag = "--cohort-resume-fd"

    /// Returns only if the restart failed.
    public static func exec(arguments: [String], pending: [UInt8]) {
        var path = [CChar](repeating: 0, count: 4096)
        let length = readlink("/proc/self/exe", &path, path.count - 1)
        guard length > 0 else { return }
        let executable = String(decoding: path[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let directory = executable.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        var template = Array((directory + "/.resume-XXXXXX").utf8CString)
        let fd = mkstemp(&template)
        guard fd >= 0 else { return }
        unlink(template)
        var offset = 0
        while offset < pending.count {
            let n = pending[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                return
            }
            offset += n
        }
        lseek(fd, 0, SEEK_SET)
        var kept: [String] = []
        var index = 0
        while index < arguments.count {
            if arguments[index] == flag { index += 2; continue }
            kept.append(arguments[index])
            index += 1
        }
        let argv = (kept + [flag, String(fd)]).map { strdup($0) } + [nil]
        // The file itself rather than /proc/self/exe, so that ps still shows the program's name.
        execv(executable, argv)
        argv.forEach { free($0) }
        close(fd)
    }

    /// In a successor: the frames handed over (the descriptor is read and closed); nil when
    /// this process is not a restart.
    public static func pending(from arguments: [String]) -> [UInt8]? {
        guard let at = arguments.firstIndex(of: flag), at + 1 < arguments.count, let fd = Int32(arguments[at + 1]) else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let n = read(fd, &buffer, buffer.count)
            if n > 0 {
                bytes += buffer[0..<n]
            } else if n == 0 || errno != EINTR {
                return bytes
            }
        }
    }
}
