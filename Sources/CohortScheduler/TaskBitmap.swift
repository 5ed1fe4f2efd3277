/// A set of task numbers as one bit each: what a map holds of the tasks it will not run (done
/// in an earlier run) or has passed, so that 10^8 tasks cost 12.5 MB, not a hash set's ~40
/// bytes per task. Grows to the highest number inserted; the caller bounds the numbers.
public struct TaskBitmap: Sendable, Equatable {
    private var words: [UInt64] = []
    /// How many numbers are in the set.
    public private(set) var count = 0

    public init() {}

    public init(_ numbers: some Sequence<Int>) {
        for number in numbers { insert(number) }
    }

    public var isEmpty: Bool { count == 0 }

    public func contains(_ number: Int) -> Bool {
        guard number >= 0 else { return false }
        let word = number >> 6
        return word < words.count && words[word] & (1 << UInt64(number & 63)) != 0
    }

    /// Adds `number` (not negative); returns whether it was new.
    @discardableResult
    public mutating func insert(_ number: Int) -> Bool {
        precondition(number >= 0, "a task number is never negative")
        let word = number >> 6
        if word >= words.count { words.append(contentsOf: repeatElement(0, count: word + 1 - words.count)) }
        let bit: UInt64 = 1 << UInt64(number & 63)
        guard words[word] & bit == 0 else { return false }
        words[word] |= bit
        count += 1
        return true
    }

    public mutating func remove(_ number: Int) {
        guard contains(number) else { return }
        words[number >> 6] &= ~(1 << UInt64(number & 63))
        count -= 1
    }

    /// How many numbers of `range` are in the set.
    public func count(in range: Range<Int>) -> Int {
        var total = 0
        var number = max(0, range.lowerBound)
        let end = min(range.upperBound, words.count << 6)
        while number < end {
            if number & 63 == 0, number + 64 <= end {
                total += words[number >> 6].nonzeroBitCount
                number += 64
            } else {
                if contains(number) { total += 1 }
                number += 1
            }
        }
        return total
    }

    /// The set joined with `other`.
    public func union(_ other: TaskBitmap) -> TaskBitmap {
        var (long, short) = words.count >= other.words.count ? (self, other) : (other, self)
        for index in short.words.indices { long.words[index] |= short.words[index] }
        long.count = long.words.reduce(0) { $0 + $1.nonzeroBitCount }
        return long
    }
}

/// The tasks of `range` that are not in `skip`, in order: those a map has not started when it
/// halts or is abandoned, ended one by one without a list of them ever being made.
public struct UnstartedTasks: Sequence, Sendable, Equatable {
    public let range: Range<Int>
    public let skip: TaskBitmap

    public func makeIterator() -> AnyIterator<Int> {
        var next = range.lowerBound
        let end = range.upperBound
        let skip = skip
        return AnyIterator {
            while next < end, skip.contains(next) { next += 1 }
            guard next < end else { return nil }
            defer { next += 1 }
            return next
        }
    }

    public var count: Int { range.count - skip.count(in: range) }
}
