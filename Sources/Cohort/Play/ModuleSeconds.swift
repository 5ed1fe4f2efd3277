import CohortTemplate

/// A number of seconds a playbook gives a module (`wait_for`'s timeout, `pause`'s minutes):
/// untrusted, so checked before it becomes a `Duration` (Swift traps converting 1e300 or NaN
/// to an integer, and on `60 * minutes` past Int).
enum ModuleSeconds {
    /// The longest wait a module accepts: about 31 years.
    static let limit = 1_000_000_000.0

    static func parse(_ value: Value?, _ name: String, default fallback: Double, scale: Double = 1) throws(TemplateError) -> Double {
        guard let value else { return fallback }
        let number: Double? =
            switch value {
            case .int(let i): Double(i)
            case .float(let d): d
            case .string(let s): Double(s)
            default: nil
            }
        guard let number, number.isFinite, number >= 0, number * scale <= limit else {
            throw TemplateError("\(name) must be a number of seconds from 0 to \(Int(limit)), not \(value.pythonRepr)")
        }
        return number * scale
    }

    static func duration(_ seconds: Double) -> Duration {
        .milliseconds(Int64(seconds * 1000))
    }
}
