import CohortTemplate
import Foundation

/// `async` tasks: each runs against its time limit (stopped there; Ansible's wrapper looks
/// every 5 seconds, so it may stop a job a little later); with `poll: 0` it goes on in the
/// background while the play does, and `async_status` asks after it by job id. A job is a
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

    /// What Ansible's async wrapper records when the limit stops a background job.
    static let timeout: Value = ["failed": true, "changed": false, "msg": "Timeout exceeded"]

    /// The module, stopped at `seconds` (its command ended on the host): its result, or nil.
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
