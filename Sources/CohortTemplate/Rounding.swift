#if canImport(Glibc)
import Glibc
#endif

/// Jinja's `round` filter: `common` is Python's `round()` (an int stays an int, rounded to a
/// multiple of ten when the precision is negative; a float is rounded half to even on its
/// exact binary value), `ceil` and `floor` are `math.ceil(x * 10**p) / 10**p`, a float.
/// The precision comes from a template: any Int must give a value or an error, never a
/// trap or a loop of that many steps.
enum Rounding {
    static func round(_ input: Value, precision: Int, method: String, line: Int) throws(TemplateError) -> Value {
        guard method == "common" || method == "ceil" || method == "floor" else {
            throw TemplateError("method must be 'common', 'ceil' or 'floor'", line: line)
        }
        let number: Value
        switch input {
        case .bool(let b): number = .int(b ? 1 : 0)
        case .int, .float: number = input
        default: throw TemplateError("type \(input.typeName) doesn't define __round__ method", line: line)
        }
        if method != "common" {
            guard let x = number.number else { return number }
            // 10**p as Python's float (overflowing past 308, as Python's OverflowError).
            guard precision <= 308 else { throw TemplateError("int too large to convert to float", line: line) }
            let scale = precision < -400 ? 0 : tenPower(precision)
            guard scale != 0 else { throw TemplateError("float division by zero", line: line) }
            return .float((x * scale).rounded(method == "ceil" ? .up : .down) / scale)
        }
        switch number {
        case .int(let i): return try roundInt(i, precision, line: line)
        case .float(let d): return .float(roundFloat(d, precision))
        default: return number
        }
    }

    /// round(int, p): unchanged for p >= 0; else the nearest multiple of 10**-p, ties to even.
    static func roundInt(_ i: Int, _ precision: Int, line: Int) throws(TemplateError) -> Value {
        guard precision < 0 else { return .int(i) }
        // 10**19 is past Int: every Int rounds to 0 there (|i| < 5 * 10**18 is not needed:
        // 9.2e18 is under half of 10**19).
        guard precision >= -18 else { return .int(0) }
        var unit = 1
        for _ in 0..<(-precision) { unit *= 10 }
        let magnitude = i.magnitude
        let unitU = UInt(unit)
        var quotient = magnitude / unitU
        let remainder = magnitude % unitU
        if remainder * 2 > unitU || (remainder * 2 == unitU && quotient % 2 == 1) { quotient += 1 }
        let (rounded, overflow) = quotient.multipliedReportingOverflow(by: unitU)
        guard !overflow, let value = Int(exactly: rounded) else {
            if i < 0, !overflow, rounded == Int.min.magnitude { return .int(.min) }
            throw TemplateError("integer result too large", line: line)
        }
        return .int(i < 0 ? -value : value)
    }

    /// round(float, p) as CPython: past 323 digits nothing changes; below -308 it is zero;
    /// otherwise the C library writes the exact value rounded half to even and reads it back.
    static func roundFloat(_ d: Double, _ precision: Int) -> Double {
        guard d.isFinite, d != 0 else { return d }
        if precision > 323 { return d }
        if precision < -308 { return 0 * d }
        if precision >= 0 {
            let text = PythonFormat.cFormat("%.\(precision)f", d, capacity: precision + 330)
            return strtod(text, nil)
        }
        let scale = tenPower(-precision)
        let y = (d / scale).rounded(.toNearestOrEven) * scale
        return y.isFinite ? y : 0 * d
    }

    /// 10**p as a double, exact for 0...22.
    static func tenPower(_ p: Int) -> Double {
        pow(10.0, Double(p))
    }
}
