import CohortCore
import CohortPlaybook
import CohortTemplate
import Foundation

/// Whom a task runs as on its host (`become`), and the password sudo may ask for.
struct BecomeRequest: Hashable, Sendable {
    var user: String
    var password: String?
    var method: BecomeScripts.Method = .sudo
}

/// A become worker is kept per login session, user and password: a host connected again
/// (another `remote_user`) gets new ones, and a task with another password asks sudo again.
struct BecomeKey: Hashable {
    var session: ObjectIdentifier
    var user: String
    var password: String?
    var method: BecomeScripts.Method
}

extension PlayRunner {
    /// The task's become on `host`, resolved as Ansible resolves it: the connection variables
    /// (`ansible_become`, `ansible_become_user`, `ansible_become_method`, wherever set: inventory,
    /// play or task vars, `-e`) over the task's keywords, over its blocks' (a role entry's among
    /// them), over the play's, over `--become…` and ansible.cfg. nil: it runs as the login.
    func becomeRequest(_ scheduled: ScheduledTask, on host: String) throws(TemplateError) -> BecomeRequest? {
        let chain = [scheduled.task.options.become] + scheduled.blocks.reversed().map(\.become) + [play.become]
        // Most tasks of most playbooks: nothing says become anywhere, and no scope is built.
        if chain.allSatisfy(\.isEmpty), run.options.become == nil, !mentionsBecome(scheduled, on: host) { return nil }
        return try becomeRequest(chain, scope(of: scheduled, on: host))
    }

    /// Whether a variable layer of the host or the task sets one of the `ansible_become*`
    /// connection variables.
    private func mentionsBecome(_ scheduled: ScheduledTask, on host: String) -> Bool {
        let variables = states[host]!.variables
        let layers: [[String: Value]] = [variables.inventory, variables.play, variables.setFacts, variables.included, variables.extra, variables.roleDefaults]
        if layers.contains(where: { $0.keys.contains { $0.hasPrefix("ansible_become") } }) { return true }
        let taskLayers = scheduled.blocks.map(\.vars) + [scheduled.task.options.vars] + scheduled.blocks.map(\.roleDefaults) + [scheduled.task.options.roleDefaults]
        return taskLayers.contains { $0.contains { $0.0.hasPrefix("ansible_become") } }
    }

    /// The play's own become on `host` (fact gathering runs under it, as in Ansible).
    func playBecomeRequest(on host: String) throws(TemplateError) -> BecomeRequest? {
        var variables = states[host]!.variables
        variables.magic = magic(for: host, shared: sharedMagic())
        return try becomeRequest([play.become], variables.scope(task: [], defaults: [], environment: environment))
    }

    private func becomeRequest(_ chain: [BecomeKeywords], _ scope: Scope) throws(TemplateError) -> BecomeRequest? {
        let lookup = scope.lookup(depth: 0)
        func setting(_ names: [String], _ keyword: (BecomeKeywords) -> Value?) throws(TemplateError) -> Value? {
            for name in names {
                if let value = lookup(name), !value.isUndefined { return try scope.render(value) }
            }
            for keywords in chain {
                if let value = keyword(keywords) { return try scope.render(value) }
            }
            return nil
        }
        let flag = try setting(["ansible_become"], \.become)
        guard flag.map({ PlaybookLoader.boolean($0) ?? $0.truthy }) ?? run.options.become ?? false else { return nil }
        let user = try setting(["ansible_become_user"], \.user).map(\.pythonString) ?? run.options.becomeUser ?? "root"
        let method = try setting(["ansible_become_method"], \.method).map(\.pythonString) ?? run.options.becomeMethod ?? "sudo"
        guard PlaybookLoader.becomeMethods.contains(PlaybookLoader.shortName(method)) else {
            throw TemplateError("become_method '\(method)' is not supported by cohort play yet (supported: sudo, su)")
        }
        guard !user.isEmpty, !user.contains("\0"), !user.contains("\n") else { throw TemplateError("become_user must be a user name") }
        var password: String?
        for name in ["ansible_become_password", "ansible_become_pass", "ansible_sudo_pass", "ansible_sudo_password"] {
            if let value = lookup(name), !value.isUndefined {
                password = try scope.render(value).pythonString
                break
            }
        }
        if password?.contains("\n") == true || password?.contains("\0") == true {
            throw TemplateError("the become password holds a line break or NUL, which \(PlaybookLoader.shortName(method)) cannot read")
        }
        let chosen = BecomeScripts.Method(rawValue: PlaybookLoader.shortName(method)) ?? .sudo
        return BecomeRequest(user: user, password: password ?? run.options.becomePassword, method: chosen)
    }

    /// `base` (the host's own link when nil: its worker, a delegate's, the coordinator's) made
    /// to run as the request's user: a worker started through sudo on the same connection,
    /// kept for the run.
    mutating func becomeLink(for host: String, base: TaskLink?, _ request: BecomeRequest) async -> TaskLink {
        let target = base == nil ? host : base!.host
        guard let target else {
            // The coordinator (`connection: local`, implicit localhost): only as itself.
            if geteuid() == 0, request.user == "root" { return base! }
            return TaskLink(failure: "become on the coordinator (connection: local) is not supported by cohort play yet")
        }
        let session: HostSession? =
            base?.session ?? states[target]?.session ?? (try? delegates.opened[target]?.get())
        guard let session else { return TaskLink(shownAs: base?.shownAs, failure: base?.failure ?? "not connected") }
        let key = BecomeKey(session: ObjectIdentifier(session), user: request.user, password: request.password, method: request.method)
        if delegates.become[key] == nil {
            do {
                delegates.become[key] = .success(try await HostSession.openBecome(
                    on: session, user: request.user, password: request.password, method: request.method, worker: run.worker))
            } catch {
                delegates.become[key] = .failure((error as? CohortError) ?? CohortError(.io, "\(error)"))
            }
        }
        switch delegates.become[key]! {
        case .success(let become): return TaskLink(link: WorkerPlayHost(session: become), shownAs: base?.shownAs, host: target)
        case .failure(let error):
            return TaskLink(shownAs: base?.shownAs, failure: error.message, host: target, failsTask: error.code == .becomeRefused)
        }
    }
}
