import Synchronization

/// The steps one evaluation may take, shared by every render inside it: a variable that
/// renders another variable draws from the same budget, so a hostile chain of variables
/// (each using the previous one twice) runs out instead of running 2^40 renders, each with
/// fresh fuel. The first fatal error (fuel gone, a recursive variable) is kept: a render
/// that caught it inside a variable's lookup still fails when it looks again.
public final class Fuel: Sendable {
    public let steps: Int
    private let remaining: Atomic<Int>
    private let fatal: Mutex<TemplateError?>

    public init(_ steps: Int) {
        self.steps = steps
        remaining = Atomic(steps)
        fatal = Mutex(nil)
    }

    /// One step; past the budget the error is kept and thrown.
    func burn(_ line: Int?) throws(TemplateError) {
        let left = remaining.subtract(1, ordering: .relaxed).newValue
        if left < 0 {
            let error = TemplateError("the template took more than \(steps) steps", line: line)
            fail(error)
            throw failure ?? error
        }
    }

    /// Marks the whole evaluation as failed (the first reason wins).
    public func fail(_ error: TemplateError) {
        fatal.withLock { if $0 == nil { $0 = error } }
    }

    public var failure: TemplateError? { fatal.withLock { $0 } }
}
