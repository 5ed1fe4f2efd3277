import CohortCore
import CohortPlaybook
import CohortTemplate

/// What a module's implementation receives: its arguments (rendered, unless its spec says it
/// renders them itself), the task's scope, the executor (for the task's paths and host), and
/// the host's worker when the module runs there.
struct ModuleInvocation {
    var args: Dict
    var scope: Scope
    var executor: TaskExecutor
    /// Nil for a module placed on the coordinator whose host has no connection.
    var hostCall: ModuleCall?

    /// The host's worker; a host module without one is a transport loss, never a result.
    var call: ModuleCall {
        get throws {
            guard let hostCall else { throw CohortError(.transportLost, "no connection to the host") }
            return hostCall
        }
    }
}

typealias ModuleImplementation = @Sendable (ModuleInvocation) async throws -> Value

/// Every module's implementation by name: the one place a new module is added, beside its
/// argument spec (`ModuleSpec.all`, which says where it runs). A test checks that the two
/// name the same modules.
enum ModuleRegistry {
    static let implementations: [String: ModuleImplementation] = [
        "command": { try await CommandModule.run("command", $0.args, try $0.call) },
        "shell": { try await CommandModule.run("shell", $0.args, try $0.call) },
        "raw": { try await CommandModule.run("raw", $0.args, try $0.call) },
        "script": { try await MoreModules.script($0.args, try $0.call) },
        "copy": { try await FileModules.copy($0.args, try $0.call) },
        "template": { try await FileModules.template($0.args, try $0.call) },
        "file": { try await FileModules.file($0.args, try $0.call) },
        "lineinfile": { try await FileModules.lineinfile($0.args, try $0.call) },
        "blockinfile": { try await MoreModules.blockinfile($0.args, try $0.call) },
        "replace": { try await MoreModules.replace($0.args, try $0.call) },
        "stat": { try await FileModules.stat($0.args, try $0.call) },
        "slurp": { try await FileModules.slurp($0.args, try $0.call) },
        "find": { try await MoreModules.find($0.args, try $0.call) },
        "wait_for": { try await MoreModules.waitFor($0.args, try $0.call) },
        "fetch": { try await MoreModules.fetch($0.args, try $0.call, host: $0.executor.inventoryHostname) },
        "group": { try await SystemModules.group($0.args, try $0.call) },
        "user": { try await UserModule($0.args, try $0.call).execute() },
        "getent": { try await SystemModules.getent($0.args, try $0.call) },
        "assemble": { try await AssembleModule.run($0.args, try $0.call) },
        "unarchive": { try await UnarchiveModule($0.args, try $0.call).execute() },
        "get_url": { try await GetURLModule(args: $0.args, call: try $0.call).execute() },
        "uri": { try await URIModule(args: $0.args, call: try $0.call).execute() },
        "cron": { try await CronModule($0.args, try $0.call).execute() },
        "known_hosts": { try await KnownHostsModule($0.args, try $0.call).execute() },
        "setup": { try await HostProbeModules.setup($0.args, try $0.call) },
        "gather_facts": { try await HostProbeModules.setup($0.args, try $0.call) },
        "ping": { try await HostProbeModules.ping($0.args, try $0.call) },
        "wait_for_connection": { try await HostProbeModules.waitForConnection($0.args, try $0.call) },
        "tempfile": { try await HostProbeModules.tempfile($0.args, try $0.call) },
        "alternatives": { try await AlternativesModule.run($0.args, try $0.call) },
        "sysctl": { try await SysctlModule.run($0.args, try $0.call) },
        "timezone": { try await TimezoneModule.run($0.args, try $0.call) },
        "locale_gen": { try await LocaleGenModule.run($0.args, try $0.call) },
        "dpkg_selections": { try await DpkgSelectionsModule.run($0.args, try $0.call) },
        "apt": { try await AptModule.run($0.args, try $0.call) },
        "package": { try await AptModule.package($0.args, $0.scope, try $0.call) },
        "package_facts": { try await AptModule.packageFacts($0.args, try $0.call) },
        "apt_repository": { try await AptRepositoryModule.run($0.args, try $0.call) },
        "service": { try await ServiceModule.run($0.args, try $0.call) },
        "hostname": { try await HostnameModule.run($0.args, try $0.call) },
        "service_facts": { try await ServiceFactsModule.run($0.args, try $0.call) },
        "authorized_key": { try await AuthorizedKeyModule.run($0.args, try $0.call) },
        "ini_file": { try await IniFileModule.run($0.args, try $0.call) },
        "debconf": { try await DebconfModule.run($0.args, try $0.call) },
        "async_status": { await $0.executor.jobs.asyncStatus(host: $0.executor.inventoryHostname, $0.args) },
        "debug": { try ControlModules.debug($0.args, $0.scope, verbosity: $0.executor.options.verbosity, locations: $0.executor.task.argumentLocations) },
        "assert": { try ControlModules.assert($0.args, $0.scope, locations: $0.executor.task.argumentLocations) },
        "meta": { _ in ["changed": false] },
        "add_host": { AddHost.add($0.args, in: $0.executor.inventory) },
        "group_by": { GroupBy.join($0.args, host: $0.executor.inventoryHostname, in: $0.executor.inventory) },
        "set_stats": { SetStats.run($0.args) },
        "set_fact": { ControlModules.setFact($0.args) },
        "fail": { ["failed": true, "changed": false, "msg": $0.args["msg"] ?? "Failed as requested from task"] },
        "pause": { try await ControlModules.pause($0.args) },
        "include_tasks": { $0.executor.includeTasks($0.args) },
        "include_vars": { try $0.executor.includeVars($0.args) },
        "include_role": { ["changed": false, "include": .string($0.args["name"]?.pythonString ?? "")] },
    ]
}
