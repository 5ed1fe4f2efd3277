import CohortTemplate
import Foundation

/// `async` tasks, timed as Ansible's wrapper and poll loop time them: a job is stopped at the
/// first 5-second step at or past its limit; a task with `poll` waits for it through as many
/// polls as fit the limit, then gives up while the job goes on; with `poll: 0` the task
/// returns at once and `async_status` asks after the job by its id. A job is a
/// coordinator task driving the host's worker, so it lives as long as the run: the run waits
/// for its unfinished jobs before it closes the hosts (each ends by its own `async` limit).
actor AsyncJobs {
    private struct Key: Hashable {
        var host: String
        var jid: String
    }

    /// The worker a background job's own channel starts.
    let worker: WorkerBinary
    private var jobs: [Key: Task<Value, Never>] = [:]

    init(worker: WorkerBinary) {
        self.worker = worker
    }
    private var finished: [Key: Value] = [:]

    /// A job id in Ansible's shape (`j` + a random number + `.` + a process id).
    static func newID() -> String { "j\(UInt64.random(in: 0...999_999_999_999)).\(ProcessInfo.processInfo.processIdentifier)" }

    /// The longest `async` taken (ten years): a longer one is refused, not overflowed.
    static let longest = 315_360_000

    /// When a job is stopped: Ansible's async wrapper looks at its job every 5 seconds and
    /// stops it at the first look at or past the limit.
    static func stopTime(_ seconds: Int) -> Int { max(5, (seconds + 4) / 5 * 5) }

    /// When a waited-for task gives up: Ansible's loop sleeps `poll` seconds before each look,
    /// as many times as fit the limit (rounded up).
    static func pollEnd(_ seconds: Int, poll: Int) -> Int { (seconds + poll - 1) / poll * poll }

    /// The job's result when it ends within `seconds`, else nil (it goes on).
    func wait(host: String, jid: String, seconds: Int) async -> Value? {
        guard let job = jobs[Key(host: host, jid: jid)] else { return nil }
        // Giving up cancels only this wait: the job is a task of its own and goes on.
        return await Self.limited(seconds) { await job.value }
    }

    /// What Ansible's async wrapper records when the limit stops a job.
    static let timeout: Value = ["failed": true, "changed": false, "msg": "Timeout exceeded"]

    /// `body`'s value if it comes within `seconds`, else nil with `body` cancelled (a module
    /// cancelled so ends its command on the host).
    static func limited(_ seconds: Int, _ body: @escaping @Sendable () async -> Value) async -> Value? {
        await withTaskGroup(of: Value?.self) { group in
            group.addTask { await body() }
            group.addTask {
                try? await Task.sleep(for: .seconds(seconds))
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
    }

    func start(host: String, jid: String, seconds: Int, _ body: @escaping @Sendable () async -> Value) {
        jobs[Key(host: host, jid: jid)] = Task {
            let result = await Self.limited(seconds, body) ?? Self.timeout
            await self.finish(host: host, jid: jid, result)
            return result
        }
    }

    /// nil: no such job on this host; `.none` inside: still running; else its result.
    func status(host: String, jid: String) -> Value?? {
        let key = Key(host: host, jid: jid)
        if let result = finished[key] { return .some(result) }
        guard jobs[key] != nil else { return nil }
        return .some(nil)
    }

    private func finish(host: String, jid: String, _ result: Value) {
        finished[Key(host: host, jid: jid)] = result
    }

    func cleanup(host: String, jid: String) {
        let key = Key(host: host, jid: jid)
        finished[key] = nil
        jobs[key] = nil
    }

    /// Waits for every job still running (each bounded by its limit).
    func waitAll() async {
        for task in jobs.values { _ = await task.value }
    }

    /// A job's result as `async_status` gives it: the module's own fields with the job's.
    static func statusResult(_ jid: String, finished result: Value?) -> Value {
        var out = result?.dict ?? Dict()
        out["ansible_job_id"] = .string(jid)
        out["started"] = true
        out["finished"] = .bool(result != nil)
        for key in ["stdout", "stderr"] where out[.string(key)] == nil { out[.string(key)] = "" }
        for key in ["stdout_lines", "stderr_lines"] where out[.string(key)] == nil { out[.string(key)] = .list([]) }
        if out["changed"] == nil { out["changed"] = false }
        return .dict(out)
    }

    /// `async_status`: the job's state or result (`mode: cleanup` forgets it).
    func asyncStatus(host: String, _ args: Dict) -> Value {
        let jid = args["jid"]?.pythonString ?? ""
        if args["mode"]?.pythonString == "cleanup" {
            cleanup(host: host, jid: jid)
            return ["ansible_job_id": .string(jid), "changed": false, "started": false, "finished": false, "stdout": "", "stderr": "", "stdout_lines": .list([]), "stderr_lines": .list([])]
        }
        switch status(host: host, jid: jid) {
        case nil:
            var out = Self.statusResult(jid, finished: ["failed": true, "changed": false, "msg": "could not find job"]).dict ?? Dict()
            out["finished"] = true
            return .dict(out)
        case .some(let result): return Self.statusResult(jid, finished: result)
        }
    }
}
