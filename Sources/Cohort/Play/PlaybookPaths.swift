import Foundation

/// Where a playbook's relative paths are anchored: `playbook_dir`, and the `group_vars/` and
/// `host_vars/` read beside it.
public enum PlaybookPaths {
    /// Python's `os.path.dirname(os.path.abspath(path))`, as Ansible sets `playbook_dir`:
    /// absolute and normalized, never "" or "." (`"{{ playbook_dir }}/reports"` must not
    /// become `/reports`).
    public static func absoluteDirectory(of path: String) -> String {
        var parts = components(path)
        if !parts.isEmpty { parts.removeLast() }
        return "/" + parts.joined(separator: "/")
    }

    /// Python's `os.path.abspath(path)`: `inventory_file`.
    public static func absolute(_ path: String) -> String {
        "/" + components(path).joined(separator: "/")
    }

    private static func components(_ path: String) -> [Substring] {
        let absolute = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        var parts: [Substring] = []
        for part in absolute.split(separator: "/") {
            switch part {
            case ".": continue
            case "..": if !parts.isEmpty { parts.removeLast() }
            default: parts.append(part)
            }
        }
        return parts
    }
}
