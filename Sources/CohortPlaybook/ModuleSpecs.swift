import CohortTemplate

/// The modules `cohort play` runs and the arguments each takes, checked before anything
/// runs: an unknown module, argument or choice, or a value of the wrong type, is a load error.
public struct ModuleSpec: Sendable {
    public enum Kind: Sendable {
        case string, bool, int, list, dict, raw, path
    }

    public struct Argument: Sendable {
        var kind: Kind
        var required = false
        var aliases: [String] = []
        var choices: [String] = []
    }

    /// Where a module runs: on the host's worker, on the coordinator (no connection needed,
    /// as Ansible's own actions `debug` or `set_fact`), or nowhere: the loader replaces it
    /// (`import_tasks`, `import_role`).
    public enum Placement: Sendable {
        case host, coordinator, load
    }

    public var placement: Placement = .host
    /// Renders its own arguments when it needs them (`debug`'s `var`, `assert`'s `that`).
    public var rendersItself = false
    /// Where a relative `src` is looked for on the coordinator (`templates/`, `files/`), unless
    /// `remote_src` says the source is on the host.
    public var sourceFolder: String? = nil
    /// Takes `module: free text` (`command: ls -l`), kept as `_raw_params`.
    var freeForm = false
    /// Takes any argument names (`set_fact`).
    var anyArguments = false
    var arguments: [String: Argument]
    /// Exactly one of these must be given.
    var oneOf: [[String]] = []
    /// At most one of these may be given.
    var exclusive: [[String]] = []
    /// Arguments Ansible's module has that Cohort does not carry out yet: refused at load by
    /// name, never ignored.
    var unsupported: Set<String> = []

    static func a(_ kind: Kind, required: Bool = false, aliases: [String] = [], choices: [String] = []) -> Argument {
        Argument(kind: kind, required: required, aliases: aliases, choices: choices)
    }

    static let ownership: [String: Argument] = ["mode": a(.raw), "owner": a(.string), "group": a(.string)]

    public static let all: [String: ModuleSpec] = [
        "command": ModuleSpec(
            freeForm: true,
            arguments: [
                "_raw_params": a(.string), "cmd": a(.string), "argv": a(.list), "chdir": a(.path), "creates": a(.path), "removes": a(.path),
                "stdin": a(.string), "stdin_add_newline": a(.bool), "strip_empty_ends": a(.bool),
            ], oneOf: [["_raw_params", "cmd", "argv"]]),
        "shell": ModuleSpec(
            freeForm: true,
            arguments: [
                "_raw_params": a(.string), "cmd": a(.string), "chdir": a(.path), "creates": a(.path), "removes": a(.path), "stdin": a(.string),
                "stdin_add_newline": a(.bool), "executable": a(.path),
            ], oneOf: [["_raw_params", "cmd"]]),
        "raw": ModuleSpec(freeForm: true, arguments: ["_raw_params": a(.string, required: true), "executable": a(.path)]),
        "copy": ModuleSpec(
            sourceFolder: "files",
            arguments: ownership.merging([
                "src": a(.path), "content": a(.raw), "dest": a(.path, required: true), "backup": a(.bool), "force": a(.bool, aliases: ["thirsty"]),
                "directory_mode": a(.raw), "validate": a(.string),
            ]) { $1 }, oneOf: [["src", "content"]]),
        "template": ModuleSpec(
            sourceFolder: "templates",
            arguments: ownership.merging([
                "src": a(.path, required: true), "dest": a(.path, required: true), "backup": a(.bool), "force": a(.bool), "validate": a(.string),
            ]) { $1 }),
        "file": ModuleSpec(
            arguments: ownership.merging([
                "path": a(.path, required: true, aliases: ["dest", "name"]),
                "state": a(.string, choices: ["file", "directory", "absent", "touch", "link", "hard"]), "recurse": a(.bool), "src": a(.path),
                "force": a(.bool), "follow": a(.bool), "access_time": a(.string), "modification_time": a(.string),
                "access_time_format": a(.string), "modification_time_format": a(.string),
            ]) { $1 }),
        "lineinfile": ModuleSpec(
            arguments: ownership.merging([
                "path": a(.path, required: true, aliases: ["dest", "destfile", "name"]), "regexp": a(.string, aliases: ["regex"]),
                "search_string": a(.string), "line": a(.string, aliases: ["value"]), "insertafter": a(.string), "insertbefore": a(.string),
                "backrefs": a(.bool), "state": a(.string, choices: ["present", "absent"]), "create": a(.bool), "backup": a(.bool),
                "firstmatch": a(.bool), "validate": a(.string),
            ]) { $1 }, exclusive: [["insertbefore", "insertafter"], ["regexp", "search_string"]]),
        "blockinfile": ModuleSpec(
            arguments: ownership.merging([
                "path": a(.path, required: true, aliases: ["dest", "destfile", "name"]), "state": a(.string, choices: ["absent", "present"]),
                "marker": a(.string), "block": a(.string, aliases: ["content"]), "insertafter": a(.string), "insertbefore": a(.string),
                "create": a(.bool), "backup": a(.bool), "marker_begin": a(.string), "marker_end": a(.string), "append_newline": a(.bool),
                "prepend_newline": a(.bool), "validate": a(.string),
            ]) { $1 }, exclusive: [["insertbefore", "insertafter"]]),
        "replace": ModuleSpec(
            arguments: ownership.merging([
                "path": a(.path, required: true, aliases: ["dest", "destfile", "name"]), "regexp": a(.string, required: true),
                "replace": a(.string), "after": a(.string), "before": a(.string), "backup": a(.bool), "validate": a(.string),
            ]) { $1 }),
        "fetch": ModuleSpec(arguments: [
            "src": a(.path, required: true), "dest": a(.path, required: true), "flat": a(.bool), "fail_on_missing": a(.bool),
            "validate_checksum": a(.bool),
        ]),
        "find": ModuleSpec(arguments: [
            "paths": a(.list, required: true, aliases: ["name", "path"]), "patterns": a(.list, aliases: ["pattern"]), "excludes": a(.list, aliases: ["exclude"]),
            "recurse": a(.bool), "file_type": a(.string, choices: ["any", "directory", "file", "link"]), "hidden": a(.bool),
            "contains": a(.string), "use_regex": a(.bool), "depth": a(.int), "age": a(.string), "size": a(.string),
            "age_stamp": a(.string, choices: ["atime", "ctime", "mtime"]),
        ]),
        "wait_for": ModuleSpec(arguments: [
            "host": a(.string), "port": a(.int), "path": a(.path), "search_regex": a(.string), "timeout": a(.int), "delay": a(.int),
            "sleep": a(.int), "state": a(.string, choices: ["absent", "present", "started", "stopped"]), "msg": a(.string),
        ]),
        "script": ModuleSpec(
            freeForm: true,
            arguments: ["_raw_params": a(.string), "cmd": a(.string), "chdir": a(.path), "creates": a(.path), "removes": a(.path), "executable": a(.string)],
            oneOf: [["_raw_params", "cmd"]]),
        "stat": ModuleSpec(arguments: [
            "path": a(.path, required: true, aliases: ["dest", "name"]), "follow": a(.bool), "get_checksum": a(.bool),
            "checksum_algorithm": a(.string, choices: ["sha1"]),
        ]),
        "slurp": ModuleSpec(arguments: ["src": a(.path, required: true, aliases: ["path"])]),
        "group": ModuleSpec(arguments: [
            "name": a(.string, required: true), "state": a(.string, choices: ["absent", "present"]), "force": a(.bool), "gid": a(.int),
            "system": a(.bool), "non_unique": a(.bool), "gid_min": a(.int), "gid_max": a(.int),
        ]),
        "user": ModuleSpec(
            arguments: [
                "name": a(.string, required: true, aliases: ["user"]), "state": a(.string, choices: ["absent", "present"]), "uid": a(.int),
                "non_unique": a(.bool), "group": a(.string), "groups": a(.list), "comment": a(.string), "home": a(.path), "shell": a(.path),
                "password": a(.string), "force": a(.bool), "remove": a(.bool), "create_home": a(.bool, aliases: ["createhome"]),
                "skeleton": a(.string), "system": a(.bool), "move_home": a(.bool), "append": a(.bool),
                "update_password": a(.string, choices: ["always", "on_create"]), "expires": a(.raw), "password_lock": a(.bool),
                "umask": a(.string), "uid_min": a(.int), "uid_max": a(.int),
            ],
            unsupported: [
                "generate_ssh_key", "ssh_key_bits", "ssh_key_type", "ssh_key_file", "ssh_key_comment", "ssh_key_passphrase", "login_class",
                "password_expire_max", "password_expire_min", "password_expire_warn", "password_expire_account_disable", "hidden", "seuser",
                "local", "profile", "authorization", "role",
            ]),
        "getent": ModuleSpec(arguments: [
            "database": a(.string, required: true), "key": a(.string), "service": a(.string), "split": a(.string), "fail_key": a(.bool),
        ]),
        "apt": ModuleSpec(
            arguments: [
                "state": a(.string, choices: ["absent", "build-dep", "fixed", "latest", "present"]), "update_cache": a(.bool, aliases: ["update-cache"]),
                "update_cache_retries": a(.int), "update_cache_retry_max_delay": a(.int), "cache_valid_time": a(.int), "purge": a(.bool),
                "package": a(.list, aliases: ["pkg", "name"]), "deb": a(.path), "default_release": a(.string, aliases: ["default-release"]),
                "install_recommends": a(.bool, aliases: ["install-recommends"]), "force": a(.bool),
                "upgrade": a(.string, choices: ["dist", "full", "no", "safe", "yes"]), "dpkg_options": a(.string), "autoremove": a(.bool),
                "autoclean": a(.bool), "fail_on_autoremove": a(.bool), "policy_rc_d": a(.int), "only_upgrade": a(.bool), "force_apt_get": a(.bool),
                "clean": a(.bool), "allow_unauthenticated": a(.bool, aliases: ["allow-unauthenticated"]),
                "allow_downgrade": a(.bool, aliases: ["allow-downgrade", "allow_downgrades", "allow-downgrades"]), "allow_change_held_packages": a(.bool),
                "lock_timeout": a(.int), "auto_install_module_deps": a(.bool),
            ],
            // build-dep and fixed (the state names) and these are refused by name at load.
            unsupported: ["default_release", "policy_rc_d"]),
        "package_facts": ModuleSpec(arguments: ["manager": a(.list), "strategy": a(.string, choices: ["first", "all"])]),
        "apt_repository": ModuleSpec(arguments: [
            "repo": a(.string, required: true), "state": a(.string, choices: ["absent", "present"]), "mode": a(.raw),
            "update_cache": a(.bool, aliases: ["update-cache"]), "update_cache_retries": a(.int), "update_cache_retry_max_delay": a(.int),
            "filename": a(.string), "install_python_apt": a(.bool), "validate_certs": a(.bool), "codename": a(.string),
        ]),
        "service": ModuleSpec(arguments: [
            "name": a(.string, required: true), "state": a(.string, choices: ["started", "stopped", "reloaded", "restarted"]), "sleep": a(.int),
            "pattern": a(.string), "enabled": a(.bool), "runlevel": a(.string), "arguments": a(.string, aliases: ["args"]), "use": a(.string),
        ]),
        "hostname": ModuleSpec(arguments: [
            "name": a(.string, required: true),
            "use": a(.string, choices: ["alpine", "debian", "freebsd", "generic", "macos", "macosx", "darwin", "openbsd", "openrc", "redhat", "sles", "solaris", "systemd"]),
        ]),
        "service_facts": ModuleSpec(arguments: [:]),
        "authorized_key": ModuleSpec(arguments: [
            "user": a(.string, required: true), "key": a(.string, required: true), "path": a(.path), "manage_dir": a(.bool),
            "state": a(.string, choices: ["absent", "present"]), "key_options": a(.string), "exclusive": a(.bool), "comment": a(.string),
            "validate_certs": a(.bool), "follow": a(.bool),
        ]),
        "ini_file": ModuleSpec(
            arguments: [
                "path": a(.path, required: true, aliases: ["dest"]), "section": a(.string), "section_has_values": a(.list), "option": a(.string),
                "value": a(.string), "values": a(.list), "backup": a(.bool), "state": a(.string, choices: ["absent", "present"]),
                "exclusive": a(.bool), "no_extra_spaces": a(.bool), "ignore_spaces": a(.bool), "allow_no_value": a(.bool),
                "modify_inactive_option": a(.bool), "create": a(.bool), "follow": a(.bool),
            ].merging(ownership) { $1 }, unsupported: ["attributes", "seuser", "serole", "setype", "selevel", "unsafe_writes"]),
        // `package` hands its arguments to the host's package manager's module (apt here).
        "package": ModuleSpec(anyArguments: true, arguments: ["name": a(.list, required: true), "state": a(.string, required: true), "use": a(.string)]),
        "alternatives": ModuleSpec(
            arguments: [
                "name": a(.string, required: true), "path": a(.path), "family": a(.string), "link": a(.path), "priority": a(.int),
                "state": a(.string, choices: ["present", "selected", "absent", "auto"]), "subcommands": a(.list, aliases: ["slaves"]),
            ]),
        "sysctl": ModuleSpec(arguments: [
            "name": a(.string, required: true, aliases: ["key"]), "value": a(.string, aliases: ["val"]), "state": a(.string, choices: ["present", "absent"]),
            "reload": a(.bool), "sysctl_set": a(.bool), "ignoreerrors": a(.bool), "sysctl_file": a(.path),
        ]),
        "timezone": ModuleSpec(arguments: ["name": a(.string), "hwclock": a(.string, aliases: ["rtc"], choices: ["local", "UTC"])]),
        "locale_gen": ModuleSpec(arguments: ["name": a(.list, required: true), "state": a(.string, choices: ["absent", "present"])]),
        "dpkg_selections": ModuleSpec(arguments: [
            "name": a(.string, required: true), "selection": a(.string, required: true, choices: ["install", "hold", "deinstall", "purge"]),
        ]),
        "debconf": ModuleSpec(arguments: [
            "name": a(.string, required: true, aliases: ["pkg"]), "question": a(.string, aliases: ["selection", "setting"]),
            "vtype": a(.string, choices: ["boolean", "error", "multiselect", "note", "password", "seen", "select", "string", "text", "title"]),
            "value": a(.raw, aliases: ["answer"]), "unseen": a(.bool),
        ]),
        "assemble": ModuleSpec(
            arguments: ownership.merging([
                "src": a(.path, required: true), "dest": a(.path, required: true), "delimiter": a(.string), "backup": a(.bool),
                "remote_src": a(.bool), "regexp": a(.string), "ignore_hidden": a(.bool), "validate": a(.string), "decrypt": a(.bool),
            ]) { $1 }),
        "unarchive": ModuleSpec(
            sourceFolder: "files",
            arguments: ownership.merging([
                "src": a(.path, required: true), "dest": a(.path, required: true), "remote_src": a(.bool), "copy": a(.bool), "creates": a(.path),
                "list_files": a(.bool), "keep_newer": a(.bool), "exclude": a(.list), "include": a(.list), "extra_opts": a(.list),
                "validate_certs": a(.bool), "io_buffer_size": a(.int), "decrypt": a(.bool),
            ]) { $1 }, unsupported: ["attributes", "seuser", "serole", "setype", "selevel"]),
        "get_url": ModuleSpec(
            arguments: ownership.merging([
                "url": a(.string, required: true), "dest": a(.path, required: true), "backup": a(.bool), "checksum": a(.string), "timeout": a(.int),
                "headers": a(.dict), "tmp_dest": a(.path), "force": a(.bool), "url_username": a(.string, aliases: ["username"]),
                "url_password": a(.string, aliases: ["password"]), "force_basic_auth": a(.bool), "http_agent": a(.string), "validate_certs": a(.bool),
                "use_proxy": a(.bool), "decompress": a(.bool), "use_netrc": a(.bool),
            ]) { $1 },
            unsupported: ["unredirected_headers", "ciphers", "client_cert", "client_key", "use_gssapi", "attributes", "seuser", "serole", "setype", "selevel", "unsafe_writes"]),
        "uri": ModuleSpec(
            arguments: ownership.merging([
                "url": a(.string, required: true), "dest": a(.path), "url_username": a(.string, aliases: ["user"]), "url_password": a(.string, aliases: ["password"]),
                "body": a(.raw), "body_format": a(.string, choices: ["form-urlencoded", "json", "raw", "form-multipart"]), "method": a(.string),
                "return_content": a(.bool), "follow_redirects": a(.string, choices: ["all", "no", "none", "safe", "urllib2", "yes"]), "creates": a(.path),
                "removes": a(.path), "status_code": a(.raw), "timeout": a(.int), "headers": a(.dict), "force": a(.bool), "force_basic_auth": a(.bool),
                "http_agent": a(.string), "validate_certs": a(.bool), "use_proxy": a(.bool), "decompress": a(.bool), "use_netrc": a(.bool),
            ]) { $1 },
            unsupported: [
                "src", "remote_src", "unix_socket", "ca_path", "unredirected_headers", "ciphers", "client_cert", "client_key", "use_gssapi", "attributes",
                "seuser", "serole", "setype", "selevel", "unsafe_writes",
            ]),
        "cron": ModuleSpec(arguments: [
            "name": a(.string, required: true), "user": a(.string), "job": a(.string, aliases: ["value"]), "cron_file": a(.path),
            "state": a(.string, choices: ["present", "absent"]), "backup": a(.bool), "minute": a(.string), "hour": a(.string),
            "day": a(.string, aliases: ["dom"]), "month": a(.string), "weekday": a(.string, aliases: ["dow"]),
            "special_time": a(.string, choices: ["reboot", "yearly", "annually", "monthly", "weekly", "daily", "hourly"]), "disabled": a(.bool),
            "env": a(.bool), "insertafter": a(.string), "insertbefore": a(.string),
        ], exclusive: [["insertafter", "insertbefore"]]),
        "known_hosts": ModuleSpec(arguments: [
            "name": a(.string, required: true, aliases: ["host"]), "key": a(.string), "path": a(.path), "hash_host": a(.bool),
            "state": a(.string, choices: ["absent", "present"]),
        ]),
        "setup": ModuleSpec(arguments: setupArguments),
        "gather_facts": ModuleSpec(arguments: setupArguments.merging(["parallel": a(.bool)]) { $1 }),
        "ping": ModuleSpec(arguments: ["data": a(.string)]),
        "wait_for_connection": ModuleSpec(arguments: ["connect_timeout": a(.int), "delay": a(.int), "sleep": a(.int), "timeout": a(.int)]),
        "tempfile": ModuleSpec(arguments: [
            "state": a(.string, choices: ["file", "directory"]), "path": a(.path), "prefix": a(.string), "suffix": a(.string),
        ]),
        "async_status": ModuleSpec(
            placement: .coordinator,
            arguments: ["jid": a(.string, required: true), "mode": a(.string, choices: ["status", "cleanup"])]),
        "debug": ModuleSpec(placement: .coordinator, rendersItself: true, arguments: ["msg": a(.raw), "var": a(.raw), "verbosity": a(.int)], exclusive: [["msg", "var"]]),
        "set_fact": ModuleSpec(placement: .coordinator, freeForm: true, anyArguments: true, arguments: ["cacheable": a(.bool)]),
        "assert": ModuleSpec(placement: .coordinator, rendersItself: true, arguments: [
            "that": a(.list, required: true), "fail_msg": a(.raw, aliases: ["msg"]), "success_msg": a(.raw), "quiet": a(.bool),
        ]),
        "group_by": ModuleSpec(placement: .coordinator, arguments: ["key": a(.string, required: true), "parents": a(.raw)]),
        "add_host": ModuleSpec(
            placement: .coordinator, freeForm: true, anyArguments: true,
            arguments: ["name": a(.string), "hostname": a(.string), "host": a(.string), "groups": a(.raw), "groupname": a(.raw), "group": a(.raw)]),
        "set_stats": ModuleSpec(placement: .coordinator, arguments: ["data": a(.raw), "per_host": a(.raw), "aggregate": a(.raw)]),
        "fail": ModuleSpec(placement: .coordinator, arguments: ["msg": a(.raw)]),
        "pause": ModuleSpec(placement: .coordinator, arguments: ["seconds": a(.int), "minutes": a(.int)], oneOf: [["seconds", "minutes"]]),
        "meta": ModuleSpec(placement: .coordinator, rendersItself: true, freeForm: true, arguments: ["_raw_params": a(.string, required: true)]),
        // Includes and imports: the loader (static) and the runner (dynamic) read them.
        "include_tasks": ModuleSpec(placement: .coordinator, freeForm: true, arguments: ["_raw_params": a(.string), "file": a(.string)], oneOf: [["_raw_params", "file"]]),
        "import_tasks": ModuleSpec(placement: .load, freeForm: true, arguments: ["_raw_params": a(.string), "file": a(.string)], oneOf: [["_raw_params", "file"]]),
        "include_role": ModuleSpec(placement: .coordinator, arguments: roleArguments),
        "include_vars": ModuleSpec(
            placement: .coordinator,
            freeForm: true,
            arguments: [
                "_raw_params": a(.string), "file": a(.string), "dir": a(.string), "name": a(.string), "files_matching": a(.string),
                "ignore_files": a(.list), "depth": a(.int), "extensions": a(.list), "ignore_unknown_extensions": a(.bool),
            ], oneOf: [["_raw_params", "file", "dir"]]),
        "import_role": ModuleSpec(placement: .load, arguments: roleArguments),
    ]

    static let setupArguments: [String: Argument] = [
        "filter": a(.list), "gather_subset": a(.list), "gather_timeout": a(.int), "fact_path": a(.path),
    ]

    static let roleArguments: [String: Argument] = [
        "name": a(.string, required: true), "tasks_from": a(.string), "vars_from": a(.string), "defaults_from": a(.string),
        "handlers_from": a(.string), "public": a(.bool), "allow_duplicates": a(.bool),
    ]

    public static var names: [String] { all.keys.sorted() }

    /// Arguments that are data written or matched, not paths, names or command lines: a NUL
    /// byte there is content (Python writes it); anywhere else Python refuses it ("embedded
    /// null byte") and a C call on the host would cut the text at it (`keep\0.tmp` is `keep`).
    static let dataArguments: Set<String> = [
        "content", "line", "block", "replace", "msg", "fail_msg", "success_msg", "that", "marker", "marker_begin", "marker_end",
        "stdin", "regexp", "search_string", "insertafter", "insertbefore", "after", "before", "search_regex", "contains", "var",
    ]

    /// The first argument of `module` whose value holds a NUL byte where none may be.
    public static func argumentWithNUL(_ module: String, _ args: Dict) -> String? {
        guard let spec = all[module], !spec.anyArguments, !["debug", "assert", "fail"].contains(module) else { return nil }
        for (key, value) in args.pairs where !dataArguments.contains(key.pythonString) && holdsNUL(value) {
            return key.pythonString == "_raw_params" ? "the command" : key.pythonString
        }
        return nil
    }

    public static func holdsNUL(_ value: Value) -> Bool {
        switch value {
        case .string(let s): s.utf8.contains(0)
        case .list(let items): items.contains(where: holdsNUL)
        case .dict(let dict): dict.keys.contains(where: holdsNUL) || dict.values.contains(where: holdsNUL)
        default: false
        }
    }

    static let metaActions = ["flush_handlers", "end_play", "end_host", "noop", "clear_host_errors", "refresh_inventory", "reset_connection"]
}
