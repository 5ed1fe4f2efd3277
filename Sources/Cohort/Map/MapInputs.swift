import CohortCore

/// The tasks of a map: the cross product of its input sources, never built in memory. Task
/// `i`'s values are computed from `i` (the last source varying fastest, as GNU parallel orders
/// them), so `::: $(seq 10000) ::: $(seq 10000)` holds 20,000 values, not 10^8 rows.
public struct MapInputs: Sendable {
    /// Most bytes of input values held in memory (docs/map.md).
    public static let byteLimit = 1 << 30

    /// Groups of linked columns (`:::+` links a source to the one before it): a group gives
    /// one row per index, its columns side by side; groups combine as a cross product.
    let groups: [[[String]]]
    /// `--link`: a group is as long as its longest column, shorter ones wrap around; without
    /// it as long as its shortest (GNU parallel's two rules).
    let wraps: Bool
    public let count: Int
    /// `-N n`: tasks take n values at a time from the one source (the last may take fewer).
    let perTask: Int
    /// `--colsep`: each value split into columns, `{1}`, `{2}`... in order.
    let columns: (@Sendable (String) -> [String])?

    public init(sources: [[String]]) throws(CohortError) {
        try self.init(groups: sources.map { [$0] }, wraps: false)
    }

    public init(
        groups: [[[String]]], wraps: Bool, perTask: Int = 1, columns: (@Sendable (String) -> [String])? = nil
    ) throws(CohortError) {
        guard perTask >= 1 else { throw CohortError(.invalidInput, "-N must be at least 1") }
        guard perTask == 1 || (groups.count == 1 && groups[0].count == 1) else {
            throw CohortError(.invalidInput, "-N takes its values from one input source; this map has several")
        }
        var count = 1
        var bytes = 0
        for group in groups {
            let length = Self.length(of: group, wraps: wraps)
            let (product, overflow) = count.multipliedReportingOverflow(by: length)
            // No other limit: tasks are computed from their number and never held (docs/map.md).
            guard !overflow else {
                throw CohortError(.invalidInput, "the inputs make more than \(Int.max) tasks (the sources' sizes multiply)")
            }
            count = product
            for column in group { for value in column { bytes += value.utf8.count } }
        }
        guard bytes <= Self.byteLimit else {
            throw CohortError(.invalidInput, "the input values hold more than \(Self.byteLimit >> 20) MiB; split the map")
        }
        self.groups = groups
        self.wraps = wraps
        self.perTask = perTask
        self.columns = columns
        // -N: a division rounding up, written so that no -N (up to Int.max) can overflow it.
        self.count = groups.isEmpty ? 0 : perTask == 1 ? count : count / perTask + (count % perTask == 0 ? 0 : 1)
    }

    static func length(of group: [[String]], wraps: Bool) -> Int {
        let counts = group.map(\.count)
        guard let shortest = counts.min(), shortest > 0 else { return 0 }
        return wraps ? counts.max()! : shortest
    }

    public var indices: Range<Int> { 0..<count }

    public subscript(index: Int) -> [String] {
        let values = perTask == 1 ? row(index) : chunk(index)
        guard let columns else { return values }
        return values.flatMap(columns)
    }

    private func chunk(_ index: Int) -> [String] {
        let column = groups[0][0]
        let start = index * perTask
        return Array(column[start..<min(start + perTask, column.count)])
    }

    private func row(_ index: Int) -> [String] {
        var rest = index
        var values: [[String]] = Array(repeating: [], count: groups.count)
        for position in groups.indices.reversed() {
            let group = groups[position]
            let length = Self.length(of: group, wraps: wraps)
            let row = rest % length
            values[position] = group.map { $0[row % $0.count] }
            rest /= length
        }
        return Array(values.joined())
    }
}
