import CohortCore
import Foundation
import Yams

extension Inventory {
    /// Loads an inventory file (INI or YAML, told apart as Ansible does: by extension, then by
    /// content) or a directory of them, with `group_vars/` and `host_vars/` beside it.
    public static func load(path: String) throws(CohortError) -> Inventory {
        var inventory = Inventory()
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw CohortError(.invalidInput, "inventory not found", file: path)
        }
        let files: [String]
        if isDirectory.boolValue {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
            files = names.sorted()
                .filter { !$0.hasPrefix(".") && !["group_vars", "host_vars"].contains($0) && !$0.hasSuffix("~") }
                .map { (path as NSString).appendingPathComponent($0) }
                .filter { var d: ObjCBool = false; return FileManager.default.fileExists(atPath: $0, isDirectory: &d) && !d.boolValue }
        } else {
            files = [path]
        }
        for file in files {
            let text: String
            do { text = try String(contentsOfFile: file, encoding: .utf8) } catch {
                throw CohortError(.invalidInput, "cannot read inventory: \(error.localizedDescription)", file: file)
            }
            if isYAML(file: file, text: text) {
                try YAMLInventoryParser.parse(text, file: file, into: &inventory)
            } else {
                try INIInventoryParser.parse(text, file: file, into: &inventory)
            }
        }
        inventory.reconcile()
        let base = isDirectory.boolValue ? path : (path as NSString).deletingLastPathComponent
        try inventory.loadVarsDirectories(base: base.isEmpty ? "." : base)
        return inventory
    }

    static func isYAML(file: String, text: String) -> Bool {
        let ext = (file as NSString).pathExtension.lowercased()
        if ["yml", "yaml", "json"].contains(ext) { return true }
        if ext == "ini" { return false }
        let first = text.split(separator: "\n").first { line in
            let t = line.trimmingCharacters(in: .whitespaces)
            return !t.isEmpty && !t.hasPrefix("#") && !t.hasPrefix(";")
        }
        guard let first else { return false }
        return first.hasPrefix("---") || (first.hasSuffix(":") && !first.hasPrefix("["))
    }

    /// Ansible's host_group_vars: `group_vars/NAME`, `NAME.yml|.yaml|.json`, or a directory
    /// `NAME/` whose files are read in sorted order.
    mutating func loadVarsDirectories(base: String) throws(CohortError) {
        for group in groupOrder {
            let vars = try Self.varsFiles(base: base, kind: "group_vars", name: group)
            if !vars.isEmpty { setFileVars(group: group, vars) }
        }
        for host in hostOrder {
            let vars = try Self.varsFiles(base: base, kind: "host_vars", name: host)
            if !vars.isEmpty { setFileVars(host: host, vars) }
        }
    }

    private static func varsFiles(base: String, kind: String, name: String) throws(CohortError) -> [(String, InventoryValue)] {
        let dir = (base as NSString).appendingPathComponent(kind)
        let stem = (dir as NSString).appendingPathComponent(name)
        var paths: [String] = []
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: stem, isDirectory: &isDirectory), isDirectory.boolValue {
            let enumerator = FileManager.default.enumerator(atPath: stem)
            var found: [String] = []
            while let item = enumerator?.nextObject() as? String {
                let ext = (item as NSString).pathExtension
                if ["yml", "yaml", "json", ""].contains(ext), !(item as NSString).lastPathComponent.hasPrefix(".") {
                    found.append((stem as NSString).appendingPathComponent(item))
                }
            }
            paths = found.sorted().filter { var d: ObjCBool = false; return FileManager.default.fileExists(atPath: $0, isDirectory: &d) && !d.boolValue }
        } else {
            paths = ["", ".yml", ".yaml", ".json"].map { stem + $0 }.filter { FileManager.default.fileExists(atPath: $0) }
        }
        var vars: [(String, InventoryValue)] = []
        for path in paths {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw CohortError(.invalidInput, "cannot read vars file", file: path)
            }
            let node: Node?
            do { node = try Yams.compose(yaml: text) } catch let error as YamlError {
                throw YAMLInventoryParser.yamlError(error, file: path)
            } catch { throw CohortError(.invalidInput, "\(error)", file: path) }
            guard let node else { continue }
            guard case .dict(let items) = try YAMLInventoryParser.convert(node, path) else {
                throw CohortError(.invalidInput, "a vars file must hold a mapping", file: path, line: YAMLInventoryParser.line(node))
            }
            for (k, v) in items { Inventory.set(&vars, k, v) }
        }
        return vars
    }
}
