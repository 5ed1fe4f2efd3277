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

    /// Appends one line by writing a full copy beside the file and renaming it over the old
    /// one, so that a crash or a concurrent reader never sees a half-written file.
    /// Callers serialise appends to one file (see `KnownHostsStore`).
    public static func append(_ line: String, to path: String) throws {
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent()
        do {
            try FileManager.default.createDirectory(
                at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            var contents = (try? Data(contentsOf: url)) ?? Data()
            if let last = contents.last, last != UInt8(ascii: "\n") { contents.append(UInt8(ascii: "\n")) }
            contents.append(Data((line + "\n").utf8))
            let temporary = directory.appendingPathComponent(".\(url.lastPathComponent).cohort-\(getpid())")
            try contents.write(to: temporary)
            let mode = (try? FileManager.default.attributesOfItem(atPath: path)[.posixPermissions]) as? NSNumber
            try FileManager.default.setAttributes(
                [.posixPermissions: mode ?? NSNumber(value: 0o600)], ofItemAtPath: temporary.path)
            guard rename(temporary.path, path) == 0 else {
                throw CohortError(.io, "cannot replace known_hosts: \(String(cString: strerror(errno)))", file: path)
            }
        } catch let error as CohortError {
            throw error
        } catch {
            throw CohortError(.io, "cannot write known_hosts: \(error.localizedDescription)", file: path)
        }
    }
}
