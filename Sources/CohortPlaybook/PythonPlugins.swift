import CohortCore
import CohortTemplate
import Yams

/// `filter_plugins/` and `test_plugins/` beside a playbook hold Python, which Cohort cannot
/// run: a filter or test that only they could provide is refused when the playbook is read
/// (exit 4, nothing contacted), named with where it is used, rather than failing every host
/// once the play has started.
enum PythonPlugins {
    /// Keys whose values are bare expressions (a list of them, for some), not templates.
    static let expressionKeys: Set<String> = ["when", "changed_when", "failed_when", "until", "that"]

    static func check(_ root: Node, file: String, directory: String, exists: (String) -> Bool) throws(CohortError) {
        let folders = ["filter_plugins", "test_plugins"].filter { exists(directory + "/" + $0) }
        guard !folders.isEmpty else { return }
        var environment = Environment()
        PlaybookFilters.install(into: &environment)
        let filters = UsedNames.builtinFilters.union(environment.filters.keys)
        try walk(root, key: nil) { node, names throws(CohortError) in
            let where_ = folders.map { "\($0)/" }.joined(separator: " and ")
            if let unknown = names.filters.first(where: { !filters.contains($0.name) }) {
                throw YAMLValues.error(
                    "filter '\(unknown.name)' is not known to cohort play; the \(where_) beside the playbook hold Python plugins, which cohort cannot run",
                    node, file)
            }
            if let unknown = names.tests.first(where: { !UsedNames.builtinTests.contains($0.name) }) {
                throw YAMLValues.error(
                    "test '\(unknown.name)' is not known to cohort play; the \(where_) beside the playbook hold Python plugins, which cohort cannot run",
                    node, file)
            }
        }
    }

    /// Every scalar under `node` that parses as a template (or, under an expression key, as
    /// an expression), with the names it uses. One that does not parse is left to the run,
    /// which reports it where it is rendered.
    private static func walk(_ node: Node, key: String?, _ visit: (Node, UsedNames) throws(CohortError) -> Void) throws(CohortError) {
        switch node {
        case .scalar(let scalar):
            let text = scalar.string
            if let key, expressionKeys.contains(key), !Template.isTemplate(text), let parsed = try? Expression(text) {
                try visit(node, parsed.usedNames)
            } else if Template.isTemplate(text), let parsed = try? Template(text) {
                try visit(node, parsed.usedNames)
            }
        case .sequence(let items):
            for item in items { try walk(item, key: key, visit) }
        case .mapping(let pairs):
            for (k, v) in pairs { try walk(v, key: k.scalar?.string, visit) }
        case .alias: break
        }
    }
}
