/// How big a value is once written out, counted before it is built: a list may hold the same
/// 1 MB string a million times at the cost of one, and `str()` of it would need a terabyte.
/// Every place that turns a value into text (output, `~`, `string`, `join`, `%s`, JSON)
/// asks first and refuses past the limit.
extension Value {
    /// An upper estimate of `pythonRepr`'s length in bytes, or `limit + 1` as soon as it is
    /// known to be over `limit`.
    public func reprSize(limit: Int) -> Int {
        var total = 0
        var stack: [Value] = [self]
        while let value = stack.popLast() {
            switch value {
            case .none, .undefined: total += 4
            case .bool: total += 5
            case .int: total += 20
            case .float: total += 24
            case .temporal: total += 64
            // Quotes, and escapes at four bytes each at worst.
            case .string(let s): total += s.utf8.count <= limit ? s.utf8.count + 2 : limit + 1
            case .list(let items):
                total += 2 + 2 * items.count
                stack.append(contentsOf: items)
            case .dict(let dict):
                total += 2 + 4 * dict.count
                stack.append(contentsOf: dict.keys)
                stack.append(contentsOf: dict.values)
            }
            if total > limit { return limit + 1 }
        }
        return total
    }

    /// `str(self)`, refused when it would be over `maxSize` bytes.
    func boundedString(_ maxSize: Int, line: Int?) throws(TemplateError) -> String {
        if case .string(let s) = self { return s }
        guard reprSize(limit: maxSize) <= maxSize else { throw TemplateError("a string over \(maxSize) bytes", line: line) }
        return pythonString
    }
}

