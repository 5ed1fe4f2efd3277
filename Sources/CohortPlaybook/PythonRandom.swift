import CohortTemplate
import Crypto

/// Python's `random.Random(seed)` (CPython 3.11, MT19937): the `random` and `shuffle` filters
/// with a `seed` must pick what Ansible picks, since playbooks rely on it to spread cron
/// minutes or choose a host the same way on every run (`59 | random(seed=inventory_hostname)`).
struct PythonRandom {
    private var state = [UInt32](repeating: 0, count: 624)
    private var index = 625

    /// `Random(text)`: version 2 seeding, the text's UTF-8 followed by its SHA-512, read as
    /// one big-endian integer.
    init(seed text: String) {
        let bytes = Array(text.utf8)
        self.init(bigEndian: bytes + Array(SHA512.hash(data: bytes)))
    }

    /// `Random(n)`: the absolute value.
    init(seed number: Int) {
        var magnitude = number.magnitude
        var bytes: [UInt8] = []
        while magnitude > 0 {
            bytes.insert(UInt8(truncatingIfNeeded: magnitude), at: 0)
            magnitude >>= 8
        }
        self.init(bigEndian: bytes)
    }

    /// CPython's `random_seed`: the integer as 32-bit words, least significant first (one
    /// zero word for zero), through `init_by_array`.
    private init(bigEndian bytes: [UInt8]) {
        let trimmed = Array(bytes.drop { $0 == 0 })
        var key: [UInt32] = []
        var end = trimmed.count
        while end > 0 {
            let start = max(0, end - 4)
            key.append(trimmed[start..<end].reduce(0) { $0 << 8 | UInt32($1) })
            end = start
        }
        if key.isEmpty { key = [0] }
        initByArray(key)
    }

    private mutating func initGenrand(_ seed: UInt32) {
        state[0] = seed
        for i in 1..<624 {
            state[i] = 1_812_433_253 &* (state[i - 1] ^ (state[i - 1] >> 30)) &+ UInt32(i)
        }
        index = 624
    }

    private mutating func initByArray(_ key: [UInt32]) {
        initGenrand(19_650_218)
        var i = 1, j = 0
        for _ in 0..<max(624, key.count) {
            state[i] = (state[i] ^ ((state[i - 1] ^ (state[i - 1] >> 30)) &* 1_664_525)) &+ key[j] &+ UInt32(j)
            i += 1
            j += 1
            if i >= 624 { state[0] = state[623]; i = 1 }
            if j >= key.count { j = 0 }
        }
        for _ in 0..<623 {
            state[i] = (state[i] ^ ((state[i - 1] ^ (state[i - 1] >> 30)) &* 1_566_083_941)) &- UInt32(i)
            i += 1
            if i >= 624 { state[0] = state[623]; i = 1 }
        }
        state[0] = 0x8000_0000
    }

    private mutating func next() -> UInt32 {
        if index >= 624 {
            for k in 0..<624 {
                let y = (state[k] & 0x8000_0000) | (state[(k + 1) % 624] & 0x7fff_ffff)
                state[k] = state[(k + 397) % 624] ^ (y >> 1) ^ (y & 1 == 0 ? 0 : 0x9908_b0df)
            }
            index = 0
        }
        var y = state[index]
        index += 1
        y ^= y >> 11
        y ^= (y << 7) & 0x9d2c_5680
        y ^= (y << 15) & 0xefc6_0000
        y ^= y >> 18
        return y
    }

    /// `getrandbits(k)` for k ≤ 64: 32-bit draws, least significant word first.
    private mutating func bits(_ k: Int) -> UInt64 {
        if k <= 32 { return UInt64(next() >> (32 - k)) }
        let low = UInt64(next())
        return low | UInt64(next() >> (64 - k)) << 32
    }

    /// `_randbelow(n)`, n > 0: draws of n's bit length until one is below n.
    mutating func below(_ n: UInt64) -> UInt64 {
        let k = 64 - n.leadingZeroBitCount
        var r = bits(k)
        while r >= n { r = bits(k) }
        return r
    }

    /// `shuffle`: Fisher-Yates from the end, as Python's.
    mutating func shuffle<T>(_ items: inout [T]) {
        guard items.count > 1 else { return }
        for i in stride(from: items.count - 1, through: 1, by: -1) {
            items.swapAt(i, Int(below(UInt64(i + 1))))
        }
    }
}

extension PythonRandom {
    /// A seed as `Random()` takes it: text or an integer (a float or a container would need
    /// Python's own hash, which Cohort cannot reproduce: refused).
    init(value: Value) throws(TemplateError) {
        switch value {
        case .string(let text): self.init(seed: text)
        case .int(let number): self.init(seed: number)
        case .bool(let flag): self.init(seed: flag ? 1 : 0)
        default: throw TemplateError("random: a seed must be text or an integer, not \(value.typeName)")
        }
    }

    /// Ansible's `random` filter: `randrange(start, end, step)` for an integer, `choice` for a
    /// sequence; seeded as Python seeds it, or from the system's generator without a seed.
    static func randomFilter(_ input: Value, _ args: [Value], _ kwargs: [String: Value]) throws(TemplateError) -> Value {
        let start = kwargs["start"] ?? args.first
        let step = kwargs["step"] ?? (args.count > 1 ? args[1] : nil)
        var seeded: PythonRandom?
        if let seed = kwargs["seed"] ?? (args.count > 2 ? args[2] : nil), seed != .none { seeded = try PythonRandom(value: seed) }
        func below(_ n: UInt64) -> UInt64 { seeded != nil ? seeded!.below(n) : UInt64.random(in: 0..<n) }
        switch input {
        case .int(let end):
            func integer(_ value: Value?, _ fallback: Int) throws(TemplateError) -> Int {
                guard let value, value.truthy else { return fallback }
                guard case .int(let number) = value else { throw TemplateError("random: '\(value.pythonString)' cannot be interpreted as an integer") }
                return number
            }
            let (first, stride) = (try integer(start, 0), try integer(step, 1))
            let empty = TemplateError("empty range in randrange(\(first), \(end), \(stride))")
            let (width, overflow) = end.subtractingReportingOverflow(first)
            guard !overflow else { throw TemplateError("random: the range \(first)..\(end) is too wide") }
            // Python's floor division, without overflow (width and stride fit an Int).
            func floorDivide(_ a: Int, _ b: Int) -> Int {
                let (q, r) = a.quotientAndRemainder(dividingBy: b)
                return (r != 0 && (r < 0) != (b < 0)) ? q - 1 : q
            }
            let count: Int
            if stride > 0 {
                count = width > Int.max - stride ? floorDivide(width - 1, stride) + 1 : floorDivide(width + stride - 1, stride)
            } else {
                count = width < Int.min - stride ? floorDivide(width + 1, stride) + 1 : floorDivide(width + stride + 1, stride)
            }
            guard count > 0 else { throw empty }
            let pick = Int(below(UInt64(count)))
            // start + step * pick lies inside [start, end): no overflow.
            return .int(first &+ stride &* pick)
        case .list, .string:
            if start?.truthy == true || step?.truthy == true { throw TemplateError("start and step can only be used with integer values") }
            let items: [Value] = if case .list(let list) = input { list } else { input.pythonString.map { .string(String($0)) } }
            guard !items.isEmpty else { throw TemplateError("Cannot choose from an empty sequence") }
            return items[Int(below(UInt64(items.count)))]
        default:
            throw TemplateError("random can only be used on sequences and integers")
        }
    }
}
