/// Why a template did not parse or render, with where: `file:line: what is wrong` once the
/// playbook layer adds the file.
public struct TemplateError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    /// 1-based line in the template's source, when known.
    public var line: Int?
    /// `file:line:column` of the value the template was written in, set by the playbook
    /// layer where it knows the place.
    public var origin: String?

    public init(_ message: String, line: Int? = nil) {
        self.message = message
        self.line = line
    }

    public var description: String { line.map { "line \($0): \(message)" } ?? message }
}
