import CohortCore

/// The tasks of a map: the cross product of its input sources, never built in memory. Task
/// `i`'s values are computed from `i` (the last source varying fastest, as GNU parallel orders
/// them), so `::: $(seq 10000) ::: $(seq 10000)` holds 20,000 values, not 10^8 rows.
public struct MapInputs: Sendable {
    /// Most tasks one map may have (docs/map.md): the scheduler keeps a few words per task.
    public static let taskLimit = 10_000_000
    /// Most bytes of input values held in memory (docs/map.md).
    public static let byteLimit = 1 << 30

    let sources: [[String]]
    public let count: Int

    public init(sources: [[String]]) throws(CohortError) {
        var count = 1
        var bytes = 0
        for source in sources {
            let (product, overflow) = count.multipliedReportingOverflow(by: source.count)
            guard !overflow, product <= Self.taskLimit else {
                throw CohortError(.invalidInput, "the inputs make more than \(Self.taskLimit) tasks (the sources' sizes multiply)")
            }
            count = product
            for value in source { bytes += value.utf8.count }
        }
        guard bytes <= Self.byteLimit else {
            throw CohortError(.invalidInput, "the input values hold more than \(Self.byteLimit >> 20) MiB; split the map")
        }
        self.sources = sources
        self.count = sources.isEmpty ? 0 : count
    }

    public var indices: Range<Int> { 0..<count }

    public subscript(index: Int) -> [String] {
        var rest = index
        var values = [String](repeating: "", count: sources.count)
        for position in sources.indices.reversed() {
            let source = sources[position]
            values[position] = source[rest % source.count]
            rest /= source.count
        }
        return values
    }
}
