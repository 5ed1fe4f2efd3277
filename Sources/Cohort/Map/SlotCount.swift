import Foundation

/// How many workers a host runs, as GNU parallel's `-j` says it: a number, or relative to
/// the host's cores (`+N`, `-N`, `N%`, rounded up as parallel rounds). Pure: resolved once the
/// host's core count is known, never below one and never past `maximum`, whatever the input.
public enum SlotCount: Sendable, Equatable {
    case exactly(Int)
    case coresPlus(Int)
    case percentOfCores(Double)

    /// A bound on a count computed from cores, so that `+9223372036854775807` or `1e300%`
    /// cannot overflow (or open a million channels).
    public static let maximum = 65_536

    /// `N`, `+N`, `-N`, `N%` or `N.M%`; nil for anything else (`0` included: Cohort has no
    /// "as many as possible").
    public init?(parsing text: String) {
        let digits = { (s: Substring) in !s.isEmpty && s.allSatisfy { $0.isASCII && $0.isNumber } }
        if text.hasSuffix("%") {
            let number = text.dropLast()
            let parts = number.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
            guard digits(parts[0]), parts.count == 1 || digits(parts[1]), let percent = Double(number), percent.isFinite, percent > 0 else { return nil }
            self = .percentOfCores(percent)
        } else if let sign = text.first, sign == "+" || sign == "-" {
            let number = text.dropFirst()
            guard digits(number) else { return nil }
            let magnitude = Int(number) ?? Int.max
            self = .coresPlus(sign == "+" ? magnitude : -magnitude)
        } else {
            guard digits(Substring(text)), let count = Int(text), count > 0 else { return nil }
            self = .exactly(count)
        }
    }

    /// The workers for a host of `cores` cores.
    public func resolve(cores: Int) -> Int {
        switch self {
        case .exactly(let count): return count
        case .coresPlus(let delta):
            let (sum, overflow) = cores.addingReportingOverflow(delta)
            if overflow { return delta > 0 ? Self.maximum : 1 }
            return min(max(1, sum), Self.maximum)
        case .percentOfCores(let percent):
            let wanted = (Double(cores) * percent / 100).rounded(.up)
            guard wanted.isFinite, wanted < Double(Self.maximum) else { return Self.maximum }
            return max(1, Int(wanted))
        }
    }
}
