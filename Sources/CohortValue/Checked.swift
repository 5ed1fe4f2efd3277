/// Checked arithmetic for counts and sizes that come from a template.
package enum Checked {
    /// `a * b`, or nil when it overflows.
    package static func product(_ a: Int, _ b: Int) -> Int? {
        let (value, overflow) = a.multipliedReportingOverflow(by: b)
        return overflow ? nil : value
    }

    /// `a + b`, or nil when it overflows.
    package static func sum(_ a: Int, _ b: Int) -> Int? {
        let (value, overflow) = a.addingReportingOverflow(b)
        return overflow ? nil : value
    }

    /// A size that must lie in 0...maxSize before anything of that size is built.
    package static func size(_ n: Int?, _ maxSize: Int, _ what: String, line: Int?) throws(TemplateError) -> Int {
        guard let n, n <= maxSize else { throw TemplateError("\(what) over \(maxSize) bytes", line: line) }
        return max(0, n)
    }
}
