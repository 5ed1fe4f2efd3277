import CohortCore
import CohortWire
import Foundation

/// A local file or tree to copy, read before anything is sent: a missing source, or a
/// directory given without `-r`, is bad input (exit 4) and nothing runs.
public struct LocalItem: Sendable, Equatable {
    /// Where it is here.
    public var path: String
    /// Where it goes, relative to the copy of its source: empty for the source itself.
    public var components: [String]
    public var kind: FileKind
    public var mode: UInt32
    public var size: UInt64
    public var linkTarget: String

    public init(path: String, components: [String], kind: FileKind, mode: UInt32, size: UInt64, linkTarget: String) {
        self.path = path
        self.components = components
        self.kind = kind
        self.mode = mode
        self.size = size
        self.linkTarget = linkTarget
    }
}

public enum LocalTree {
    /// The source and, with `recursive`, everything below it (sorted, parents first).
    /// `followLinks` copies what links point to instead of the links (rsync's `-L`).
    public static func scan(_ source: String, recursive: Bool, followLinks: Bool) throws(CohortError) -> [LocalItem] {
        var items: [LocalItem] = []
        func visit(_ path: String, _ components: [String]) throws(CohortError) {
            var info = stat()
            let found = OSName.withPath(path) { followLinks ? stat($0, &info) : lstat($0, &info) }
            guard found == 0 else { throw CohortError(.invalidInput, "cannot read: \(String(cString: strerror(errno)))", file: path) }
            let kind: FileKind
            switch info.st_mode & S_IFMT {
            case S_IFREG: kind = .file
            case S_IFDIR: kind = .directory
            case S_IFLNK: kind = .symlink
            default: throw CohortError(.invalidInput, "not a file, directory or link", file: path)
            }
            let target = kind == .symlink ? readLink(path) : ""
            items.append(LocalItem(
                path: path, components: components, kind: kind, mode: UInt32(info.st_mode & 0o7777),
                size: kind == .file ? UInt64(info.st_size) : 0, linkTarget: target))
            guard kind == .directory else { return }
            guard recursive else { throw CohortError(.invalidInput, "is a directory (give -r to copy it with what it holds)", file: path) }
            for name in try names(in: path).sorted() { try visit(path + "/" + name, components + [name]) }
        }
        try visit(source, [])
        return items
    }

    /// The hex SHA-256 of a local file (read once, shared by every host).
    static func sha256(of path: String) throws(CohortError) -> String {
        guard let handle = reading(path) else { throw CohortError(.io, "cannot read", file: path) }
        defer { try? handle.close() }
        return FileDigest.sha256(reading: handle)
    }

    /// A local file opened for reading by its bytes (`FileHandle(forReadingAtPath:)` would
    /// re-encode a name that is not UTF-8).
    static func reading(_ path: String) -> FileHandle? {
        let fd = OSName.withPath(path) { open($0, O_RDONLY | O_CLOEXEC) }
        return fd >= 0 ? FileHandle(fileDescriptor: fd, closeOnDealloc: true) : nil
    }

    /// A small file's whole content; nil when it cannot be read.
    static func contents(of path: String) -> [UInt8]? {
        guard let handle = reading(path) else { return nil }
        defer { try? handle.close() }
        do { return Array(try handle.readToEnd() ?? Data()) } catch { return nil }
    }

    /// The entries of a directory, by their bytes (see `OSName`), without `.` and `..`.
    static func names(in path: String) throws(CohortError) -> [String] {
        guard let dir = OSName.withPath(path, { opendir($0) }) else {
            throw CohortError(.invalidInput, "cannot list: \(String(cString: strerror(errno)))", file: path)
        }
        defer { closedir(dir) }
        var names: [String] = []
        while let item = readdir(dir) {
            let name = withUnsafeBytes(of: item.pointee.d_name) { raw in OSName.string(raw.prefix { $0 != 0 }) }
            if name != ".", name != ".." { names.append(name) }
        }
        return names
    }

    static func readLink(_ path: String) -> String {
        var buffer = [CChar](repeating: 0, count: 4097)
        let n = OSName.withPath(path) { readlink($0, &buffer, 4096) }
        return n >= 0 ? OSName.string(buffer[0..<n].map { UInt8(bitPattern: $0) }) : ""
    }

    /// The last path component of a source, as `cp` names its copy inside a directory.
    static func baseName(_ path: String) -> String {
        var trimmed = Substring(path)
        while trimmed.count > 1, trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
        return trimmed.split(separator: "/").last.map(String.init) ?? String(trimmed)
    }
}

/// Where each source lands on one host. A directory lands by its own name alone, never by what
/// the host holds, so every host and every run gets one layout (rsync's and Ansible copy's
/// rule): `DIR` becomes `DEST/DIR`, `DIR/` puts what DIR holds into DEST. A file lands as `cp`
/// decides: inside DEST when DEST is a directory there (or must be one: several sources, or
/// DEST ends in `/`), else at DEST.
public enum CopyPlacement {
    public static func remotePath(
        for item: LocalItem, source: String, sourceIsDirectory: Bool, sources: Int, destination: String, destinationIsDirectory: Bool
    ) -> String {
        var base = destination
        while base.count > 1, base.hasSuffix("/") { base.removeLast() }
        let names = namesInside(
            for: item, source: source, sourceIsDirectory: sourceIsDirectory, sources: sources, destination: destination,
            destinationIsDirectory: destinationIsDirectory)
        guard !names.isEmpty else { return base }
        return (base == "/" ? "" : base) + "/" + names.joined(separator: "/")
    }

    /// The names of `item`'s path that lie inside DEST (the source's own name when it goes into
    /// DEST, then the item's path below it): the worker never follows a link planted there.
    public static func namesInside(
        for item: LocalItem, source: String, sourceIsDirectory: Bool, sources: Int, destination: String, destinationIsDirectory: Bool
    ) -> [String] {
        let named = sourceIsDirectory
            ? !isContents(source)
            : destinationIsDirectory || sources > 1 || destination.hasSuffix("/")
        return (named ? [LocalTree.baseName(source)] : []) + item.components
    }

    /// Whether DEST must be a directory whatever is there now: several sources, a trailing `/`,
    /// or a directory among the sources.
    public static func needsDirectory(sources: Int, anyDirectory: Bool, destination: String) -> Bool {
        sources > 1 || anyDirectory || destination.hasSuffix("/")
    }

    /// `DIR/`, `.` and `..` name what a directory holds, not the directory (rsync reads them so;
    /// `DEST/..` would climb out of DEST).
    static func isContents(_ source: String) -> Bool {
        let base = LocalTree.baseName(source)
        return source.hasSuffix("/") || base == "." || base == ".."
    }
}
