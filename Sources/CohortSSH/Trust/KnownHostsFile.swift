import CohortCore
import Foundation

/// Reads and appends to a known_hosts file on disk.
public enum KnownHostsFile {
    public static func load(_ path: String) throws -> KnownHosts {
        guard FileManager.default.fileExists(atPath: path) else { return KnownHosts(parsing: "", file: path) }
        do {
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            return KnownHosts(parsing: String(decoding: data, as: UTF8.self), file: path)
        } catch {
            throw CohortError(.io, "cannot read known_hosts file: \(error.localizedDescription)", file: path)
        }
    }

    /// Appends one line as OpenSSH does: through a symlink to its target (whose mode is kept),
    /// creating a missing file 0600. The append is `O_APPEND` under an exclusive `flock`, so
    /// that two runs accepting keys at once never lose each other's entries; a line already
    /// present (another run recorded it first) is not written twice.
    public static func append(_ line: String, to path: String) throws {
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty, !FileManager.default.fileExists(atPath: directory) {
            do {
                try FileManager.default.createDirectory(
                    atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            } catch {
                throw CohortError(.io, "cannot create the known_hosts directory: \(error.localizedDescription)", file: path)
            }
        }
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw CohortError(.io, "cannot open known_hosts for writing: \(String(cString: strerror(errno)))", file: path) }
        defer { close(fd) }
        while flock(fd, LOCK_EX) != 0 {
            guard errno == EINTR else { throw CohortError(.io, "cannot lock known_hosts: \(String(cString: strerror(errno)))", file: path) }
        }
        defer { _ = flock(fd, LOCK_UN) }
        // Read under the lock: the file as the last writer left it.
        let current = FileManager.default.contents(atPath: path) ?? Data()
        let text = String(decoding: current, as: UTF8.self)
        if text.split(whereSeparator: { $0 == "\n" || $0 == "\r\n" }).contains(where: { $0 == line }) { return }
        var bytes = Array((line + "\n").utf8)
        if let last = current.last, last != UInt8(ascii: "\n") { bytes.insert(UInt8(ascii: "\n"), at: 0) }
        var written = 0
        while written < bytes.count {
            let n = bytes[written...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw CohortError(.io, "cannot write known_hosts: \(String(cString: strerror(errno)))", file: path)
            }
            written += n
        }
    }
}
