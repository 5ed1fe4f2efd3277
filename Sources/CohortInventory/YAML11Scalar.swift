import Foundation

/// Plain YAML scalars typed by YAML 1.1 rules, as PyYAML (Ansible's loader) types them:
/// `yes`/`on` are booleans, `017` is octal, `0o17` and `1e3` (no dot) are strings.
/// Yams follows YAML 1.2, whose answers differ, so plain scalars are resolved here.
public enum YAML11Scalar {
    public static func resolve(_ text: String) -> InventoryValue {
        switch text {
        case "", "~", "null", "Null", "NULL": return .null
        case "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON": return .bool(true)
        case "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF": return .bool(false)
        default: break
        }
        if let int = integer(text) { return .int(int) }
        if let double = float(text) { return .double(double) }
        return .string(text)
    }

    private static func integer(_ text: String) -> Int? {
        var body = Substring(text)
        var sign = 1
        if let first = body.first, first == "-" || first == "+" {
            sign = first == "-" ? -1 : 1
            body = body.dropFirst()
        }
        guard let first = body.first, first.isASCII, first.isNumber else { return nil }
        let digits = body.filter { $0 != "_" }
        let value: Int?
        if digits.hasPrefix("0b") {
            value = Int(digits.dropFirst(2), radix: 2)
        } else if digits.hasPrefix("0x") {
            value = Int(digits.dropFirst(2), radix: 16)
        } else if digits.count > 1, digits.hasPrefix("0") {
            value = Int(digits.dropFirst(), radix: 8)
        } else if body.contains(":") {
            // Sexagesimal: 1:30 == 90.
            let parts = body.split(separator: ":").map { Int($0.filter { $0 != "_" }) }
            guard parts.count > 1, parts.allSatisfy({ $0 != nil }), parts.dropFirst().allSatisfy({ $0! < 60 }) else { return nil }
            value = parts.reduce(0) { $0 * 60 + $1! }
        } else {
            value = digits.allSatisfy { $0.isASCII && $0.isNumber } ? Int(digits) : nil
        }
        return value.map { $0 * sign }
    }

    private static func float(_ text: String) -> Double? {
        switch text {
        case ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF": return .infinity
        case "-.inf", "-.Inf", "-.INF": return -.infinity
        case ".nan", ".NaN", ".NAN": return .nan
        default: break
        }
        // YAML 1.1 floats need a dot; an exponent needs an explicit sign.
        let pattern = #"^[-+]?([0-9][0-9_]*)?\.[0-9_]*([eE][-+][0-9]+)?$"#
        guard text.range(of: pattern, options: .regularExpression) != nil, text.contains(where: \.isNumber) else { return nil }
        return Double(text.filter { $0 != "_" })
    }
}
