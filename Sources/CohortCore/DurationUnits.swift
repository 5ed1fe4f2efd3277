/// `Duration` in the units that reports and the scheduler use, written once.
extension Duration {
    /// Whole nanoseconds, 0 for a negative duration (the scheduler's clock is unsigned).
    public var nanoseconds: UInt64 {
        let (seconds, attoseconds) = components
        guard seconds >= 0, attoseconds >= 0 else { return 0 }
        return UInt64(seconds) * 1_000_000_000 + UInt64(attoseconds / 1_000_000_000)
    }

    /// Seconds as a Double, for printing and rates.
    public var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
