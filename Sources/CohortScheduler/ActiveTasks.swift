/// The state of tasks handed out and not ended, by task number, at about an array's cost.
/// Tasks are handed out in rising order, so nearly all live in a dense window of numbers held
/// as an array; a task still out when `windowLimit` later ones have been handed out (a long
/// task, one given back and waiting) moves to a dictionary, so that one stuck task cannot make
/// the window, and memory, grow with the task count. (A dictionary for every task made the
/// scheduler 1.6 times slower in bench/micro.)
struct ActiveTasks<State: Sendable>: Sendable {
    private var window: [State?] = []
    /// Index in `window` of the task numbered `base`; entries before it are dropped.
    private var head = 0
    private var base = 0
    private var stragglers: [Int: State] = [:]
    let windowLimit: Int

    init(windowLimit: Int = 1 << 20) {
        self.windowLimit = windowLimit
    }

    private var windowCount: Int { window.count - head }

    subscript(task: Int) -> State? {
        get {
            let offset = task - base
            if offset >= 0, offset < windowCount { return window[head + offset] }
            return stragglers[task]
        }
        set {
            let offset = task - base
            if offset >= 0, offset < windowCount {
                window[head + offset] = newValue
                if newValue == nil, offset == 0 { trimFront() }
                return
            }
            if let newValue, stragglers[task] == nil, offset >= windowCount {
                append(task, newValue)
                return
            }
            stragglers[task] = newValue
        }
    }

    @discardableResult
    mutating func removeValue(forKey task: Int) -> State? {
        let value = self[task]
        if value != nil { self[task] = nil }
        return value
    }

    /// Every task and its state, in rising order.
    var sorted: [(task: Int, state: State)] {
        var out: [(task: Int, state: State)] = stragglers.map { ($0.key, $0.value) }
        for index in head..<window.count { if let state = window[index] { out.append((base + index - head, state)) } }
        return out.sorted { $0.task < $1.task }
    }

    mutating func removeAll() {
        window = []
        head = 0
        stragglers = [:]
    }

    /// A task numbered past the window: appended, with empty places for the numbers between
    /// (a short gap: tasks skipped as done before); after a long gap the window starts again
    /// there, what it held moved to the dictionary.
    private mutating func append(_ task: Int, _ state: State) {
        if windowCount == 0 {
            window.removeAll(keepingCapacity: true)
            head = 0
            base = task
        } else if task - base - windowCount > 64 {
            for index in head..<window.count { if let kept = window[index] { stragglers[base + index - head] = kept } }
            window.removeAll(keepingCapacity: true)
            head = 0
            base = task
        }
        while base + windowCount < task { window.append(nil) }
        window.append(state)
        while windowCount > windowLimit {
            if let kept = window[head] { stragglers[base] = kept }
            head += 1
            base += 1
        }
        trimFront()
    }

    private mutating func trimFront() {
        while head < window.count, window[head] == nil {
            head += 1
            base += 1
        }
        if head > 1024, head * 2 > window.count {
            window.removeFirst(head)
            head = 0
        }
    }
}
