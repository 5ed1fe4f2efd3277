import CohortCore

/// Losses that share one cause at a bastion, said once: 500 hosts behind a bastion that went
/// are one line, `t[1-500]: UNREACHABLE: lost through bastion b1: …`, printed at the end.
struct BastionNotes {
    private var hosts: [String: [String]] = [:]
    private var order: [String] = []

    /// Keeps `text` for the end if it is about a bastion (returns true), else leaves it to the caller.
    mutating func hold(_ host: String, _ text: String) -> Bool {
        guard text.contains("through bastion ") else { return false }
        if hosts[text] == nil { order.append(text) }
        hosts[text, default: []].append(host)
        return true
    }

    /// One line per cause, its hosts folded.
    var lines: [String] {
        order.map { "\(Printable.escaped(NodeSet.fold(hosts[$0]!))): \($0)" }
    }
}
