import CohortCore
import CohortVault
import Foundation
import Yams

extension Inventory {
    /// Loads an inventory file (INI, YAML or TOML, told apart as Ansible does: `.toml` is TOML,
    /// then by extension, then by content) or a directory of them, with `group_vars/` and
    /// `host_vars/` beside it.
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
                .filter { !$0.hasPrefix(".") && !["group_vars", "host_vars"].contains($0) && !Self.isIgnored($0) }
                .map { (path as NSString).appendingPathComponent($0) }
                .filter { var d: ObjCBool = false; return FileManager.default.fileExists(atPath: $0, isDirectory: &d) && !d.boolValue }
        } else {
            files = [path]
        }
        for file in files {
            inventory.currentSource = file
            let text = try readText(file, what: "inventory")
            if (file as NSString).pathExtension.lowercased() == "toml" {
                try TOMLInventoryParser.parse(text, file: file, into: &inventory)
            } else if isYAML(file: file, text: text) {
                try YAMLInventoryParser.parse(text, file: file, into: &inventory)
            } else {
                try INIInventoryParser.parse(text, file: file, into: &inventory)
            }
        }
        inventory.currentSource = nil
        inventory.reconcile()
        let base = isDirectory.boolValue ? path : (path as NSString).deletingLastPathComponent
        try inventory.loadVarsDirectories(base: base.isEmpty ? "." : base)
        return inventory
    }

    /// Ansible's `INVENTORY_IGNORE_EXTS`: files in an inventory directory that are not inventories.
    static let ignoredExtensions = [".pyc", ".pyo", ".swp", ".bak", "~", ".rpm", ".md", ".txt", ".rst", ".orig", ".cfg", ".retry"]

    static func isIgnored(_ name: String) -> Bool { ignoredExtensions.contains { name.hasSuffix($0) } }

    /// A text file's contents, decrypted when it is an Ansible Vault file; a binary file or an
    /// unreadable one is bad input named by its path.
    static func readText(_ file: String, what: String) throws(CohortError) -> String {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw CohortError(.invalidInput, "cannot read the \(what) file (\(String(cString: strerror(errno))))", file: file)
        }
        guard !data.contains(0), let text = String(data: data, encoding: .utf8) else {
            throw CohortError(.invalidInput, "not a text file (an \(what) is UTF-8 text)", file: file)
        }
        return try Vault.open(text, file: file)
    }

    static func isYAML(file: String, text: String) -> Bool {
        let ext = (file as NSString).pathExtension.lowercased()
        if ["yml", "yaml", "json"].contains(ext) { return true }
        if ext == "ini" { return false }
        let first = TextLines.split(text).first { line in
            let t = line.trimmingCharacters(in: .whitespaces)
            return !t.isEmpty && !t.hasPrefix("#") && !t.hasPrefix(";")
        }
        guard let first else { return false }
        return first.hasPrefix("---") || (first.hasSuffix(":") && !first.hasPrefix("["))
    }

    /// Ansible's host_group_vars: `group_vars/NAME`, `NAME.yml|.yaml|.json`, or a directory
    /// `NAME/` whose files are read in sorted order.
    mutating func loadVarsDirectories(base: String, playbook: Bool = false) throws(CohortError) {
        for group in groupOrder {
            let vars = try Self.varsFiles(base: base, kind: "group_vars", name: group)
            if !vars.isEmpty { setFileVars(group: group, vars, playbook: playbook) }
        }
        for host in hostOrder {
            let vars = try Self.varsFiles(base: base, kind: "host_vars", name: host)
            if !vars.isEmpty { setFileVars(host: host, vars, playbook: playbook) }
        }
        let folder = (base as NSString).appendingPathComponent("group_vars")
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        let names = Set(entries.filter { !$0.hasPrefix(".") }.map { name -> String in
            let ext = (name as NSString).pathExtension
            return ["yml", "yaml", "json"].contains(ext) ? (name as NSString).deletingPathExtension : name
        })
        for name in names.sorted() where groups[name] == nil {
            let vars = try Self.varsFiles(base: base, kind: "group_vars", name: name)
            if vars.isEmpty { continue }
            if playbook { spareGroupVars[name, default: SpareVars()].playbook += vars } else { spareGroupVars[name, default: SpareVars()].file += vars }
        }
    }

    /// `group_vars/` and `host_vars/` beside a playbook, as Ansible's host_group_vars plugin
    /// reads them for the play's base directory: each above the same kind beside the inventory.
    public mutating func loadPlaybookVars(directory: String) throws(CohortError) {
        try loadVarsDirectories(base: directory, playbook: true)
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
            let text = try readText(path, what: "vars")
            let node: Node?
            do { node = try Yams.compose(yaml: text) } catch let error as YamlError {
                throw YAMLInventoryParser.yamlError(error, file: path)
            } catch { throw CohortError(.invalidInput, "\(error)", file: path) }
            guard let node else { continue }
            try YAMLInventoryParser.checkSize(node, file: path)
            guard case .dict(let items) = try YAMLInventoryParser.convert(node, path) else {
                throw CohortError(.invalidInput, "a vars file must hold a mapping", file: path, line: YAMLInventoryParser.line(node))
            }
            for (k, v) in items {
                try Inventory.check(k, v, file: path, line: nil)
                Inventory.set(&vars, k, v)
            }
        }
        return vars
    }
}
