/// Folds host names into ClusterShell-style node sets (`web[01-03,07],db1`), so that
/// `--gather` can show which hosts produced one output without listing hundreds of names.
public enum NodeSet {
    private struct Key: Hashable {
        var prefix: String
        var suffix: String
        /// Digit count for zero-padded numbers, 0 for unpadded ones.
        var padding: Int
    }

    public static func fold(_ names: [String]) -> String {
        var groups: [Key: [Int]] = [:]
        var order: [Key] = []
        var plain: [String] = []
        for name in Set(names) {
            guard let (key, number) = split(name) else {
                plain.append(name)
                continue
            }
            if groups[key] == nil { order.append(key) }
            groups[key, default: []].append(number)
        }
        var parts = plain
        for key in order {
            let numbers = groups[key]!.sorted()
            if numbers.count == 1 {
                parts.append(key.prefix + pad(numbers[0], key.padding) + key.suffix)
                continue
            }
            parts.append(key.prefix + "[" + ranges(numbers, key.padding) + "]" + key.suffix)
        }
        return parts.sorted().joined(separator: ",")
    }

    /// Splits at the last run of digits: `web01.dc` → ("web", 1, ".dc", padding 2).
    private static func split(_ name: String) -> (Key, Int)? {
        let chars = Array(name)
        guard let end = chars.lastIndex(where: \.isASCIIDigit) else { return nil }
        var start = end
        while start > 0, chars[start - 1].isASCIIDigit { start -= 1 }
        let digits = String(chars[start...end])
        guard digits.count <= 18, let number = Int(digits) else { return nil }
        let padding = digits.count > 1 && digits.first == "0" ? digits.count : 0
        let key = Key(prefix: String(chars[..<start]), suffix: String(chars[(end + 1)...]), padding: padding)
        return (key, number)
    }

    private static func ranges(_ numbers: [Int], _ padding: Int) -> String {
        var out: [String] = []
        var i = 0
        while i < numbers.count {
            var j = i
            while j + 1 < numbers.count, numbers[j + 1] == numbers[j] + 1 { j += 1 }
            out.append(i == j ? pad(numbers[i], padding) : pad(numbers[i], padding) + "-" + pad(numbers[j], padding))
            i = j + 1
        }
        return out.joined(separator: ",")
    }

    private static func pad(_ number: Int, _ width: Int) -> String {
        let digits = String(number)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}
