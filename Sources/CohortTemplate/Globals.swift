/// The functions a template can call by name: `range`, `lookup`/`query`, `dict`.
enum Globals {
    static func call(_ name: String, _ args: [Value], _ kwargs: [String: Value], environment: Environment, line: Int) throws(TemplateError) -> Value {
        switch name {
        case "range":
            let ints = args.compactMap { v -> Int? in if case .int(let i) = v { i } else { nil } }
            guard ints.count == args.count, (1...3).contains(ints.count) else { throw TemplateError("range() takes 1 to 3 integers", line: line) }
            let (start, stop, step) = ints.count == 1 ? (0, ints[0], 1) : (ints[0], ints[1], ints.count == 3 ? ints[2] : 1)
            guard step != 0 else { throw TemplateError("range() arg 3 must not be zero", line: line) }
            // The distance fits a UInt whatever the ends; the count is checked before the list is built.
            let distance: UInt = step > 0 ? (stop > start ? UInt(bitPattern: stop &- start) : 0) : (start > stop ? UInt(bitPattern: start &- stop) : 0)
            let count = distance == 0 ? 0 : (distance - 1) / step.magnitude + 1
            guard count <= UInt(environment.maxSize) else { throw TemplateError("range() of \(count) items is over the limit of \(environment.maxSize)", line: line) }
            var items: [Value] = []
            items.reserveCapacity(Int(count))
            var value = start
            for index in 0..<Int(count) {
                if index > 0 { value = value &+ step }
                items.append(.int(value))
            }
            return .list(items)
        case "lookup", "query", "q":
            guard case .string(let plugin)? = args.first else { throw TemplateError("\(name)() needs a lookup name", line: line) }
            guard let lookup = environment.lookups[plugin] else {
                throw TemplateError("lookup plugin '\(plugin)' is not supported (supported: \((Array(environment.lookups.keys) + environment.variableLookups.keys).sorted().joined(separator: ", ")))", line: line)
            }
            let values: Value
            do { values = try lookup(Array(args.dropFirst()), kwargs) } catch let error as TemplateError {
                throw TemplateError(error.message, line: error.line ?? line)
            } catch {
                throw TemplateError("\(error)", line: line)
            }
            guard case .list(let items) = values else { return values }
            return lookupResult(name, items, kwargs)
        case "dict":
            var dict = Dict()
            if let first = args.first {
                for pair in try first.elements() {
                    let parts = try pair.elements()
                    guard parts.count == 2 else { throw TemplateError("dict() needs pairs", line: line) }
                    dict[parts[0]] = parts[1]
                }
            }
            for key in kwargs.keys.sorted() { dict[key] = kwargs[key] }
            return .dict(dict)
        default:
            throw TemplateError("'\(name)' is undefined (not a function this engine knows)", line: line)
        }
    }

    /// What `lookup()` gives for a plugin's list, as ansible-core 2.19 shapes it: `query()` and
    /// `wantlist=True` give the list; otherwise none stays an empty list, one is that value, and
    /// several join with commas only when every one is a string (Python's `','.join`).
    static func lookupResult(_ function: String, _ items: [Value], _ kwargs: [String: Value]) -> Value {
        guard function == "lookup", kwargs["wantlist"]?.truthy != true, !items.isEmpty else { return .list(items) }
        if items.count == 1 { return items[0] }
        let strings = items.compactMap { if case .string(let text) = $0 { text } else { nil } }
        return strings.count == items.count ? .string(strings.joined(separator: ",")) : .list(items)
    }
}
