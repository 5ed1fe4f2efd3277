import Synchronization

/// Templates and expressions parsed once per source text: a playbook renders the same few
/// hundred texts for every host, task and loop item, and parsing was most of the work.
/// Bounded (entries and bytes of source): when full it starts afresh, so hostile or
/// generated texts cannot grow it without limit.
enum ParseCache {
    static let maxEntries = 8_192
    static let maxBytes = 16 << 20

    private struct Store {
        var templates: [String: Template] = [:]
        var expressions: [String: Expression] = [:]
        var bytes = 0
    }
    private static let store = Mutex(Store())

    static func template(_ source: String) -> Template? { store.withLock { $0.templates[source] } }

    /// Entries and bytes held now (for the tests of its bound).
    static var size: (entries: Int, bytes: Int) { store.withLock { ($0.templates.count + $0.expressions.count, $0.bytes) } }
    static func expression(_ source: String) -> Expression? { store.withLock { $0.expressions[source] } }

    static func keep(_ template: Template) {
        store.withLock { store in
            makeRoom(&store, template.source.utf8.count)
            store.templates[template.source] = template
        }
    }

    static func keep(_ expression: Expression) {
        store.withLock { store in
            makeRoom(&store, expression.source.utf8.count)
            store.expressions[expression.source] = expression
        }
    }

    private static func makeRoom(_ store: inout Store, _ size: Int) {
        if store.templates.count + store.expressions.count >= maxEntries || store.bytes + size > maxBytes {
            store = Store()
        }
        store.bytes += size
    }
}

extension Template {
    /// The parsed template for `source`, from the cache when it was parsed before.
    public static func parsed(_ source: String) throws(TemplateError) -> Template {
        if let cached = ParseCache.template(source) { return cached }
        let template = try Template(source)
        ParseCache.keep(template)
        return template
    }
}

extension Expression {
    public static func parsed(_ source: String) throws(TemplateError) -> Expression {
        if let cached = ParseCache.expression(source) { return cached }
        let expression = try Expression(source)
        ParseCache.keep(expression)
        return expression
    }
}
