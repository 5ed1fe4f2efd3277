import Synchronization

/// Templates and expressions parsed once per source text: a playbook renders the same few
/// hundred texts for every host, task and loop item, and parsing was most of the work.
/// Bounded (entries and bytes of source): when full it starts afresh, so hostile or
/// generated texts cannot grow it without limit.
enum ParseCache {
    static let maxEntries = 8_192
    static let maxBytes = 16 << 20

    fileprivate struct Store {
        var templates: [String: Template] = [:]
        var expressions: [String: Expression] = [:]
        var bytes = 0
    }
    private static let store = Mutex(Store())

    /// Entries and bytes held now (for the tests of its bound).
    static var size: (entries: Int, bytes: Int) { store.withLock { ($0.templates.count + $0.expressions.count, $0.bytes) } }

    /// The parse of `source` kept in `slot`, made by `parse` the first time.
    fileprivate static func parsed<T: Sendable>(
        _ source: String, _ slot: any WritableKeyPath<Store, [String: T]> & Sendable, _ parse: (String) throws(TemplateError) -> T
    ) throws(TemplateError) -> T {
        if let cached = store.withLock({ $0[keyPath: slot][source] }) { return cached }
        let value = try parse(source)
        store.withLock { store in
            makeRoom(&store, source.utf8.count)
            store[keyPath: slot][source] = value
        }
        return value
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
        try ParseCache.parsed(source, \.templates) { text throws(TemplateError) in try Template(text) }
    }
}

extension Expression {
    public static func parsed(_ source: String) throws(TemplateError) -> Expression {
        try ParseCache.parsed(source, \.expressions) { text throws(TemplateError) in try Expression(text) }
    }
}
