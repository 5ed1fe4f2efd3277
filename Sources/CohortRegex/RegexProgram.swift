import CohortValue

/// A parsed pattern compiled to instructions for `RegexMachine`: a backtracking program as
/// Python's `sre` runs one, so that matches (leftmost, greedy or lazy, groups) are Python's.
struct RegexProgram: Sendable {
    enum Op: Sendable {
        case scalar(Unicode.Scalar, fold: Bool)
        case any(dotAll: Bool)
        case set(Int)
        /// Try `first`; on failure come back and try `second`.
        case split(first: Int, second: Int)
        case jump(Int)
        case save(Int)
        case assert(RegexAssertion)
        case backreference(Int, fold: Bool)
        case look(Int, ahead: Bool, negated: Bool, width: Int)
        /// A loop whose body can match nothing: remember where an iteration began, and fail
        /// an iteration that ends where it began (Python stops such a loop there too).
        case mark(Int)
        case progress(Int)
        case match
    }

    /// The largest program a pattern may compile to (counted repeats copy their body).
    static let maxOps = 100_000

    var ops: [Op] = []
    var sets: [ScalarSet] = []
    /// Lookaround bodies, each a program of its own.
    var subprograms: [RegexProgram] = []
    var registers = 0
    /// Two slots a group, group 0 the whole match.
    let slots: Int

    init(_ node: RegexNode, groups: Int) throws(RegexSyntaxError) {
        slots = 2 * (groups + 1)
        var compiler = Compiler(groups: groups)
        try compiler.emit(.save(0))
        try compiler.compile(node)
        try compiler.emit(.save(1))
        try compiler.emit(.match)
        ops = compiler.ops
        sets = compiler.sets
        subprograms = compiler.subprograms
        registers = compiler.registers
    }

    private init(ops: [Op], sets: [ScalarSet], subprograms: [RegexProgram], registers: Int, slots: Int) {
        self.ops = ops
        self.sets = sets
        self.subprograms = subprograms
        self.registers = registers
        self.slots = slots
    }

    struct Compiler {
        var ops: [Op] = []
        var sets: [ScalarSet] = []
        var subprograms: [RegexProgram] = []
        var registers = 0
        let groups: Int

        init(groups: Int) { self.groups = groups }

        mutating func emit(_ op: Op) throws(RegexSyntaxError) {
            guard ops.count < RegexProgram.maxOps else { throw RegexSyntaxError(message: "the pattern is too large (over \(RegexProgram.maxOps) steps once its repeats are counted)") }
            ops.append(op)
        }

        mutating func compile(_ node: RegexNode) throws(RegexSyntaxError) {
            switch node {
            case .empty: break
            case .scalar(let c, let fold): try emit(.scalar(c, fold: fold))
            case .any(let dotAll): try emit(.any(dotAll: dotAll))
            case .set(let set):
                sets.append(set)
                try emit(.set(sets.count - 1))
            case .concat(let items):
                for item in items { try compile(item) }
            case .alternation(let branches):
                // split L1, next; L1: branch; jump end; next: split …
                var jumps: [Int] = []
                for (i, branch) in branches.enumerated() {
                    if i < branches.count - 1 {
                        let split = ops.count
                        try emit(.split(first: split + 1, second: -1))
                        try compile(branch)
                        jumps.append(ops.count)
                        try emit(.jump(-1))
                        ops[split] = .split(first: split + 1, second: ops.count)
                    } else {
                        try compile(branch)
                    }
                }
                for j in jumps { ops[j] = .jump(ops.count) }
            case .group(let body, let index):
                if let index { try emit(.save(2 * index)) }
                try compile(body)
                if let index { try emit(.save(2 * index + 1)) }
            case .repetition(let body, let min, let max, let lazy):
                for _ in 0..<min { try compile(body) }
                if let max {
                    // Optional copies, nested: (body (body …)?)?
                    var exits: [Int] = []
                    for _ in min..<max {
                        let split = ops.count
                        try emit(.split(first: split + 1, second: -1))
                        exits.append(split)
                        try compile(body)
                    }
                    for split in exits { ops[split] = lazy ? .split(first: ops.count, second: split + 1) : .split(first: split + 1, second: ops.count) }
                } else {
                    let nullable = Self.canBeEmpty(body)
                    let register = registers
                    if nullable { registers += 1 }
                    let loop = ops.count
                    try emit(.split(first: loop + 1, second: -1))
                    if nullable { try emit(.mark(register)) }
                    try compile(body)
                    if nullable { try emit(.progress(register)) }
                    try emit(.jump(loop))
                    ops[loop] = lazy ? .split(first: ops.count, second: loop + 1) : .split(first: loop + 1, second: ops.count)
                }
            case .assertion(let a): try emit(.assert(a))
            case .backreference(let n, let fold): try emit(.backreference(n, fold: fold))
            case .look(let body, let ahead, let negated):
                var width = 0
                if !ahead {
                    guard let fixed = Self.width(body) else { throw RegexSyntaxError(message: "look-behind requires fixed-width pattern") }
                    width = fixed
                }
                var sub = Compiler(groups: groups)
                sub.registers = 0
                try sub.compile(body)
                try sub.emit(.match)
                guard ops.count + sub.ops.count < RegexProgram.maxOps else { throw RegexSyntaxError(message: "the pattern is too large") }
                subprograms.append(RegexProgram(ops: sub.ops, sets: sub.sets, subprograms: sub.subprograms, registers: sub.registers, slots: 2 * (groups + 1)))
                try emit(.look(subprograms.count - 1, ahead: ahead, negated: negated, width: width))
            }
        }

        /// Whether the node can match the empty string (a loop over it needs a progress check).
        static func canBeEmpty(_ node: RegexNode) -> Bool {
            switch node {
            case .empty, .assertion, .look, .backreference: true
            case .scalar, .any, .set: false
            case .concat(let items): items.allSatisfy(canBeEmpty)
            case .alternation(let branches): branches.contains(where: canBeEmpty)
            case .group(let body, _): canBeEmpty(body)
            case .repetition(let body, let min, _, _): min == 0 || canBeEmpty(body)
            }
        }

        /// The number of scalars the node always matches, nil when it varies.
        static func width(_ node: RegexNode) -> Int? {
            switch node {
            case .empty, .assertion, .look: return 0
            case .scalar, .any, .set: return 1
            case .backreference: return nil
            case .concat(let items):
                var total = 0
                for item in items {
                    guard let w = width(item) else { return nil }
                    total += w
                }
                return total
            case .alternation(let branches):
                let widths = branches.map(width)
                guard let first = widths.first ?? nil, widths.allSatisfy({ $0 == first }) else { return nil }
                return first
            case .group(let body, _): return width(body)
            case .repetition(let body, let min, let max, _):
                guard max == min, let w = width(body) else { return nil }
                return w * min
            }
        }
    }
}
