import CohortCore
import CohortSSH
import CohortInventory
import CohortPlaybook
import CohortTemplate
import Foundation

/// Where one host's task runs when it is not the host's own worker: a delegated host's, or
/// the coordinator's (`connection: local`); or why it cannot.
struct TaskLink: Sendable {
    var link: (any PlayHostLink)?
    /// The delegate's name, printed `[HOST -> DELEGATE]` (nil for `connection: local`).
    var shownAs: String?
    var failure: String?
    /// The inventory host it runs on (nil: the coordinator).
    var host: String?
    /// The failure is the task's (sudo refused the become), not the host's being unreachable.
    var failsTask = false
    /// The session the link runs on when it is not the host's own (another login), for
    /// `become` on top of it.
    var session: HostSession?
    /// `delegate_to` naming the loop's item: a link per host the items name.
    var items: [String: TaskLink]?
}

/// Sessions opened for delegation, by host name (`localhost` for the coordinator's own),
/// kept for the whole run and closed at its end.
public struct DelegateLinks {
    var opened: [String: Result<HostSession, CohortError>] = [:]
    /// Workers started through sudo (`become`), per login session and user.
    var become: [BecomeKey: Result<HostSession, CohortError>] = [:]
    /// Facts given by `delegate_facts` to hosts that no play has reached yet: their
    /// `hostvars` show them, and they become the host's own when a play opens it.
    var facts: [String: [String: Value]] = [:]

    /// The name that means the coordinator: Ansible's implicit localhost, when the inventory
    /// has no host of that name.
    public static func isImplicitLocal(_ name: String, in inventory: Inventory) -> Bool {
        ["localhost", "127.0.0.1", "::1"].contains(name) && inventory.hosts[name] == nil
    }

    func closeAll() {
        let sessions = become.values.compactMap { try? $0.get() } + opened.values.compactMap { try? $0.get() }
        Task { for session in sessions { await session.conversation.shutdown(); await session.workers.close() } }
    }
}

extension PlayRunner {
    /// The host that receives a task's facts: the one it was delegated to when
    /// `delegate_facts` (the task's, else an enclosing block's) holds, else the host itself.
    func factsTarget(_ scheduled: ScheduledTask, for name: String, link: TaskLink?) -> String {
        let task = scheduled.task
        guard let delegate = link?.host, delegate != name, task.options.delegateTo != nil || scheduled.blocks.contains(where: { $0.delegateTo != nil }),
            let value = task.options.delegateFacts ?? scheduled.blocks.reversed().lazy.compactMap(\.delegateFacts).first,
            let rendered = try? scope(of: scheduled, on: name).render(value), PlaybookLoader.boolean(rendered) == true
        else { return name }
        return delegate
    }

    /// Facts into a host's variables, or kept for it until a play opens it.
    mutating func give(_ facts: [String: Value], to target: String) {
        guard !facts.isEmpty else { return }
        if states[target] != nil {
            for (key, value) in facts { states[target]!.variables.setFacts[key] = value }
        } else {
            for (key, value) in facts { delegates.facts[target, default: [:]][key] = value }
        }
    }

    /// Whether `run_once` (the task's, else an enclosing block's) holds, rendered with the
    /// first host's variables as Ansible does.
    func runOnce(_ scheduled: ScheduledTask, on host: String) -> Bool {
        guard let value = scheduled.task.options.runOnce ?? scheduled.blocks.reversed().lazy.compactMap(\.runOnce).first else { return false }
        guard let rendered = try? scope(of: scheduled, on: host).render(value) else { return false }
        return PlaybookLoader.boolean(rendered) ?? rendered.truthy
    }

    /// The links the task runs on, for the hosts whose task is delegated, local or run as
    /// another user (`become`).
    mutating func links(for scheduled: ScheduledTask, on names: [String]) async -> [String: TaskLink] {
        var out = await placeLinks(for: scheduled, on: names)
        for name in names where out[name]?.failure == nil {
            do {
                guard let request = try becomeRequest(scheduled, on: name) else { continue }
                if let items = out[name]?.items {
                    var become: [String: TaskLink] = [:]
                    for (delegate, link) in items { become[delegate] = link.failure == nil ? await becomeLink(for: name, base: link, request) : link }
                    out[name]?.items = become
                } else {
                    out[name] = await becomeLink(for: name, base: out[name], request)
                }
            } catch {
                out[name] = TaskLink(shownAs: out[name]?.shownAs, failure: error.message, host: out[name]?.host, failsTask: true)
            }
        }
        return out
    }

    /// Whether `delegate_to` names the loop's item (`{{ item }}`, `{{ item.host }}`, the
    /// `loop_var`, `ansible_loop`): then each item is delegated on its own, as in Ansible.
    func delegatesPerItem(_ scheduled: ScheduledTask, _ value: Value) -> Bool {
        guard scheduled.task.loop != nil, case .string(let text) = value, Template.isTemplate(text) else { return false }
        let names = [scheduled.task.loopVar, "ansible_loop"] + [scheduled.task.indexVar].compactMap { $0 }
        return names.contains { name in
            text.ranges(of: name).contains { range in
                let before = range.lowerBound == text.startIndex ? nil : text[text.index(before: range.lowerBound)]
                let after = range.upperBound == text.endIndex ? nil : text[range.upperBound]
                func word(_ c: Character?) -> Bool { c.map { $0.isLetter || $0.isNumber || $0 == "_" } ?? false }
                return !word(before) && !word(after)
            }
        }
    }

    /// A link for every host the loop's items delegate to.
    private mutating func itemLinks(for scheduled: ScheduledTask, on name: String) async -> TaskLink {
        guard let executor = executors(for: scheduled, on: [name], links: [:]).first?.1 else { return TaskLink(failure: "not connected") }
        let delegates: [String]
        do { delegates = try executor.itemDelegates() } catch {
            return TaskLink(failure: executor.templateMessage(error), failsTask: true)
        }
        var items: [String: TaskLink] = [:]
        // An item delegated to the host itself is printed as the host alone.
        for delegate in delegates { items[delegate] = await link(to: delegate, shownAs: delegate == name ? nil : shownName(delegate)) }
        return TaskLink(link: states[name]?.link, host: name, items: items)
    }

    /// As ansible-playbook names a delegate: `h2(127.0.0.3)` when its address differs.
    func shownName(_ delegate: String) -> String {
        let address = run.inventory.variables(of: delegate).last { $0.0 == "ansible_host" }?.1.text
        return address.map { $0 == delegate ? delegate : "\(delegate)(\($0))" } ?? delegate
    }

    /// Where each host's task runs, for the hosts whose task is delegated or local.
    private mutating func placeLinks(for scheduled: ScheduledTask, on names: [String]) async -> [String: TaskLink] {
        let task = scheduled.task
        let delegateValue = task.options.delegateTo ?? scheduled.blocks.reversed().lazy.compactMap(\.delegateTo).first
        let connectionValue = task.options.connection ?? scheduled.blocks.reversed().lazy.compactMap(\.connection).first
        let userValue = task.options.remoteUser ?? scheduled.blocks.reversed().lazy.compactMap(\.remoteUser).first
        guard delegateValue != nil || connectionValue != nil || userValue != nil || play.connection == "local" else { return [:] }
        var out: [String: TaskLink] = [:]
        for name in names {
            let scope = scope(of: scheduled, on: name)
            do {
                if let delegateValue {
                    if delegatesPerItem(scheduled, delegateValue) {
                        out[name] = await itemLinks(for: scheduled, on: name)
                        continue
                    }
                    let delegate = try scope.text(delegateValue)
                    out[name] = await link(to: delegate, shownAs: shownName(delegate))
                    continue
                }
                let connection = try connectionValue.map { v throws(TemplateError) in try scope.text(v) } ?? play.connection ?? "ssh"
                guard PlaybookLoader.connections.contains(connection) else {
                    out[name] = TaskLink(failure: "connection '\(connection)' is not supported by cohort play (local, ssh)")
                    continue
                }
                if connection == "local" {
                    out[name] = await link(to: "localhost", shownAs: nil, local: true)
                } else if let userValue {
                    out[name] = await login(name, as: try scope.text(userValue))
                }
            } catch {
                out[name] = TaskLink(failure: error.message)
            }
        }
        return out
    }

    /// The host's task under a block's or task's `remote_user`: its own session when the login
    /// comes out the same (the inventory's `ansible_user` wins over the keyword, as in
    /// Ansible), else a session as that user, kept for the run.
    mutating func login(_ name: String, as user: String) async -> TaskLink? {
        var options = run.connection
        options.user = user
        guard run.inventory.hosts[name] != nil, let host = try? FleetHosts.resolve([name], in: run.inventory, options: options).first,
            case .ssh(let target) = host.connection, target.user != states[name]?.user
        else { return nil }
        switch await session("\(name)\u{0}user:\(target.user)", to: host) {
        case .success(let session): return TaskLink(link: WorkerPlayHost(session: session), host: name, session: session)
        case .failure(let error): return TaskLink(failure: error.message, host: name)
        }
    }

    /// The session opened under `key` for the run, opening it at first use; a failure to
    /// open is kept too, so a host that refused is not dialled again by every task.
    private mutating func session(_ key: String, to host: FleetHost) async -> Result<HostSession, CohortError> {
        if let opened = delegates.opened[key] { return opened }
        let opened: Result<HostSession, CohortError>
        do {
            opened = .success(
                try await HostSession.open(host, worker: run.worker, client: run.client, limiter: ConnectRateLimiter(perSecond: run.connection.connectRate)))
        } catch {
            opened = .failure((error as? CohortError) ?? CohortError(.transportLost, "\(error)"))
        }
        delegates.opened[key] = opened
        return opened
    }

    /// A host's own session when it has one, else a new one: an inventory host, or the
    /// coordinator for implicit localhost (and `connection: local`). No other name is looked up
    /// (that would be a DNS query).
    mutating func link(to delegate: String, shownAs: String?, local: Bool = false) async -> TaskLink {
        if !local, let state = states[delegate], let link = state.link { return TaskLink(link: link, shownAs: shownAs, host: delegate) }
        let key = local ? "\u{0}local" : delegate
        func taskLink(_ opened: Result<HostSession, CohortError>) -> TaskLink {
            switch opened {
            case .success(let session): TaskLink(link: WorkerPlayHost(session: session), shownAs: shownAs, host: local ? nil : delegate)
            case .failure(let error): TaskLink(shownAs: shownAs, failure: error.message, host: local ? nil : delegate)
            }
        }
        if let opened = delegates.opened[key] { return taskLink(opened) }
        let host: FleetHost
        if local || DelegateLinks.isImplicitLocal(delegate, in: run.inventory) {
            host = FleetHost(connection: .local(name: delegate))
        } else if run.inventory.hosts[delegate] != nil {
            do { host = try FleetHosts.resolve([delegate], in: run.inventory, options: run.connection)[0] } catch {
                delegates.opened[key] = .failure((error as? CohortError) ?? CohortError(.invalidInput, "\(error)"))
                return TaskLink(shownAs: shownAs, failure: "\(error)")
            }
        } else {
            return TaskLink(shownAs: shownAs, failure: "delegate_to: '\(delegate)' is not an inventory host (cohort play resolves no other names; add it to the inventory)")
        }
        return taskLink(await session(key, to: host))
    }
}
