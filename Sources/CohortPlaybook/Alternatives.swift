import CohortTemplate

/// What `update-alternatives --display NAME` says, read with the regular expressions of
/// community.general's `alternatives` module (collection 12.3.0, its `parse`), through
/// Cohort's Python `re` engine, so that a group's state is decided on the same reading.
public struct AlternativesDisplay: Sendable, Equatable {
    public struct Subcommand: Sendable, Equatable {
        public var name: String
        public var path: String
        /// The follower's link, from its `slave NAME is LINK` line (nil when none was shown).
        public var link: String?
        public init(name: String, path: String, link: String?) {
            self.name = name
            self.path = path
            self.link = link
        }
    }

    public struct Alternative: Sendable, Equatable {
        public var priority: Int
        /// "" when the alternative has no family, as the module's `findall` gives it.
        public var family: String
        public var subcommands: [Subcommand]
    }

    /// `auto` or `manual`; nil when the text has no mode line (then nothing else is read).
    public var mode: String?
    public var currentPath: String?
    public var currentLink: String?
    /// Keyed by path, in the order listed.
    public var alternatives: [String: Alternative] = [:]
    public var order: [String] = []

    public init() {}

    /// `parse()`: `given` are the task's `subcommands` (name → link), used for the followers'
    /// links when the text shows none. A priority past Int's range is an error where Python
    /// would hold it.
    public static func parse(_ text: String, given: [String: String] = [:]) throws(TemplateError) -> AlternativesDisplay {
        var display = AlternativesDisplay()
        func regex(_ pattern: String) throws(TemplateError) -> PythonRegex { try PythonRegex(pattern, multiline: true) }
        guard let mode = try regex(#"\s-\s(?:status\sis\s)?(\w*)(?:\smode|.)$"#).firstMatch(text) else { return display }
        display.mode = String(mode.group(1) ?? "")
        display.currentPath = try regex(#"^\s*link currently points to (.*)$"#).firstMatch(text)?.group(1).map(String.init)
        display.currentLink = try regex(#"^\s*link \w+ is (.*)$"#).firstMatch(text)?.group(1).map(String.init)
        // dict(findall(...)): a name seen twice keeps its last link.
        var links: [String: String] = [:]
        for pair in try regex(#"^\s*(?:slave|follower) (\S+) is (.*)$"#).allMatches(text) { links[pair[0]] = pair[1] }
        if links.isEmpty { links = given }
        let follower = try regex(#"^\s+(?:slave|follower) (.*): (.*)$"#)
        for found in try regex(#"^(\/.*)\s-\s(?:family\s(\S+)\s)?priority\s(\d+)((?:\s+(?:slave|follower).*)*)"#).allMatches(text) {
            guard let priority = Int(found[2]) else { throw TemplateError("alternatives: priority \(found[2]) of \(found[0]) is out of range") }
            let subcommands = try follower.allMatches(found[3]).filter { $0[1] != "(null)" }.map {
                Subcommand(name: $0[0], path: $0[1], link: links[$0[0]])
            }
            if display.alternatives[found[0]] == nil { display.order.append(found[0]) }
            display.alternatives[found[0]] = Alternative(priority: priority, family: found[1], subcommands: subcommands)
        }
        return display
    }
}
