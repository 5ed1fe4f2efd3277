import CohortValue

/// Runs a `RegexProgram` over a text's scalars by backtracking, with a step budget: a
/// pattern that backtracks catastrophically (`(a+)+$` on 34 `a`s and a `!`) stops with an
/// error instead of running for hours. The budget grows with the text, so that a simple
/// pattern over a large file is never refused, while exponential work always is.
struct RegexMachine {
    let program: RegexProgram
    let text: [Unicode.Scalar]
    private(set) var steps = 0
    let budget: Int

    /// Steps allowed per search: a fixed base and a number per scalar of the text.
    static func budget(for length: Int) -> Int {
        Checked.sum(1_000_000, Checked.product(length, 200) ?? .max) ?? .max
    }

    init(_ program: RegexProgram, _ text: [Unicode.Scalar]) {
        self.program = program
        self.text = text
        budget = Self.budget(for: text.count)
    }

    struct BudgetExceeded: Error {}

    private enum Undo {
        case branch(pc: Int, position: Int)
        case slot(Int, Int)
        case register(Int, Int)
    }

    /// The first match at or after `from` (at `from` only when `anchored`): its slots.
    /// `notEmptyAt` refuses an empty match there (Python's rule after an empty match).
    mutating func search(from: Int, anchored: Bool, notEmptyAt: Int? = nil) throws(RegexError) -> [Int]? {
        var start = from
        let first: Unicode.Scalar? = if case .scalar(let c, fold: false) = program.ops.dropFirst().first { c } else { nil }
        while start <= text.count {
            if let first, !anchored {
                while start < text.count, text[start] != first { start += 1 }
                if start == text.count { return nil }
            }
            var slots = [Int](repeating: -1, count: program.slots)
            if try run(program, at: start, slots: &slots, requiredEnd: nil, notEmptyAt: notEmptyAt) { return slots }
            if anchored { return nil }
            start += 1
        }
        return nil
    }

    /// One attempt of `program` at `position`; on success `slots` holds its groups.
    private mutating func run(_ program: RegexProgram, at position: Int, slots: inout [Int], requiredEnd: Int?, notEmptyAt: Int?) throws(RegexError) -> Bool {
        var registers = [Int](repeating: -1, count: program.registers)
        var stack: [Undo] = []
        var pc = 0
        var pos = position
        let ops = program.ops
        while true {
            steps += 1
            if steps > budget { throw RegexError(message: "the regular expression took more than \(budget) steps on a text of \(text.count) characters (catastrophic backtracking)") }
            var ok = true
            switch ops[pc] {
            case .scalar(let c, let fold):
                if pos < text.count, text[pos] == c || (fold && CaseFold.equal(text[pos], c)) {
                    pos += 1
                    pc += 1
                } else {
                    ok = false
                }
            case .any(let dotAll):
                if pos < text.count, dotAll || text[pos] != "\n" {
                    pos += 1
                    pc += 1
                } else {
                    ok = false
                }
            case .set(let index):
                if pos < text.count, program.sets[index].contains(text[pos]) {
                    pos += 1
                    pc += 1
                } else {
                    ok = false
                }
            case .split(let first, let second):
                stack.append(.branch(pc: second, position: pos))
                pc = first
            case .jump(let target):
                pc = target
            case .save(let slot):
                stack.append(.slot(slot, slots[slot]))
                slots[slot] = pos
                pc += 1
            case .assert(let assertion):
                if holds(assertion, at: pos) { pc += 1 } else { ok = false }
            case .backreference(let group, let fold):
                let start = slots[2 * group], end = slots[2 * group + 1]
                if start < 0 || end < 0 {
                    ok = false
                } else {
                    let length = end - start
                    if pos + length <= text.count, (0..<length).allSatisfy({ i in
                        text[start + i] == text[pos + i] || (fold && CaseFold.equal(text[start + i], text[pos + i]))
                    }) {
                        pos += length
                        pc += 1
                    } else {
                        ok = false
                    }
                }
            case .look(let index, let ahead, let negated, let width):
                var inner = slots
                let from = ahead ? pos : pos - width
                var found = false
                if from >= 0 {
                    found = try run(program.subprograms[index], at: from, slots: &inner, requiredEnd: ahead ? nil : pos, notEmptyAt: nil)
                }
                if found != negated {
                    if found, !negated {
                        for slot in inner.indices where inner[slot] != slots[slot] {
                            stack.append(.slot(slot, slots[slot]))
                            slots[slot] = inner[slot]
                        }
                    }
                    pc += 1
                } else {
                    ok = false
                }
            case .mark(let register):
                stack.append(.register(register, registers[register]))
                registers[register] = pos
                pc += 1
            case .progress(let register):
                if registers[register] == pos { ok = false } else { pc += 1 }
            case .match:
                if let requiredEnd, pos != requiredEnd {
                    ok = false
                } else if let notEmptyAt, position == notEmptyAt, pos == position {
                    ok = false
                } else {
                    return true
                }
            }
            if ok { continue }
            // Back to the last choice, undoing what was written since.
            var resumed = false
            while let undo = stack.popLast() {
                switch undo {
                case .slot(let slot, let old): slots[slot] = old
                case .register(let register, let old): registers[register] = old
                case .branch(let target, let position):
                    pc = target
                    pos = position
                    resumed = true
                }
                if resumed { break }
            }
            if !resumed { return false }
        }
    }

    private func holds(_ assertion: RegexAssertion, at pos: Int) -> Bool {
        switch assertion {
        case .textStart: return pos == 0
        case .textEnd: return pos == text.count
        case .lineStart(let multiline): return pos == 0 || (multiline && text[pos - 1] == "\n")
        case .lineEnd(let multiline):
            if pos == text.count { return true }
            if multiline { return text[pos] == "\n" }
            return pos == text.count - 1 && text[pos] == "\n"
        case .wordBoundary, .notWordBoundary:
            let before = pos > 0 && CharacterClass.isWord(text[pos - 1].value)
            let after = pos < text.count && CharacterClass.isWord(text[pos].value)
            return (before != after) == (assertion == .wordBoundary)
        }
    }
}

/// A regular expression that did not compile or ran out of steps.
public struct RegexError: Error, Sendable {
    public var message: String
}
