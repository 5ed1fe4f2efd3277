import CohortCore
import CohortPlaybook
import CohortTemplate
import Foundation

/// `user` on Linux, as Ansible's module drives `useradd`, `usermod` and `userdel`: the same
/// words for the same state, the same result fields, check mode answering from what the host
/// holds. SSH key generation, password ageing, SELinux, libuser (`local`) and the other
/// platforms' arguments are not taken: the loader refuses them by name (`ModuleSpec.unsupported`).
struct UserModule {
    let args: Dict
    let call: ModuleCall
    let name: String

    init(_ args: Dict, _ call: ModuleCall) {
        self.args = args
        self.call = call
        self.name = args["name"]?.pythonString ?? ""
    }

    func text(_ key: String) -> String? { args[.string(key)].flatMap { $0 == .none ? nil : $0.pythonString } }
    func flag(_ key: String, _ fallback: Bool = false) -> Bool { args[.string(key)].flatMap(PlaybookLoader.boolean) ?? fallback }

    /// `groups` as the module joins them: a list, or comma-separated text, into one string.
    var groups: String? {
        switch args["groups"] {
        case nil, .none?: nil
        case .list(let items)?: items.map(\.pythonString).joined(separator: ",")
        case let other?: other.pythonString
        }
    }

    func run(_ argv: [String]) async throws -> (rc: Int, out: String, err: String) { try await SystemModules.run(argv, call) }

    /// `getent DATABASE KEY`'s fields, or nil when there is no such entry.
    func entry(_ database: String, _ key: String) async throws -> [String]? {
        let (rc, out, _) = try await run(["getent", database, key])
        guard rc == 0, let line = Strings.lines(out).first else { return nil }
        return line.components(separatedBy: ":")
    }

    /// The passwd entry with the password from shadow where passwd holds only `x`, as
    /// `user_info` reads it; and shadow's expiry day (-1 when none, as getspnam gives).
    func info() async throws -> (fields: [String], expires: Int)? {
        guard var fields = try await entry("passwd", name), fields.count >= 7 else { return nil }
        let shadow = try await entry("shadow", name)
        if fields[1].count <= 1 { fields[1] = shadow.map { $0.count > 1 ? $0[1] : "" } ?? "" }
        let expires = shadow.flatMap { $0.count > 7 ? Int($0[7]) : nil } ?? (shadow == nil ? 0 : -1)
        return (fields, expires)
    }

    /// A group by number or name, as `grp.getgrgid(int(g))` then `grp.getgrnam(g)`.
    func group(_ group: String) async throws -> [String]? { try await entry("group", group) }

    /// `YYYY-MM-DD` of a day count since 1970 (proleptic Gregorian, as `time.gmtime`).
    static func date(days: Int) -> String {
        let (year, month, day) = CivilCalendar.civil(days)
        return String(format: "%04d-%02d-%02d", year, month, day)
    }

    /// `expires` (seconds since the epoch, a float) as a day count; nil when not given.
    func expiresDay() throws(TemplateError) -> Int?? {
        guard let value = args["expires"], value != .none else { return .none }
        let seconds: Double
        switch value {
        case .int(let n): seconds = Double(n)
        case .float(let f): seconds = f
        case .string(let s):
            guard let f = Double(s.trimmingCharacters(in: .whitespaces)) else { throw TemplateError("expires: '\(s)' is not a number") }
            seconds = f
        default: throw TemplateError("expires: \(value.typeName) is not a number")
        }
        // time.gmtime refuses what a C time_t cannot hold; here nothing converts out of range.
        guard seconds.isFinite, abs(seconds) < 1e15 else { throw TemplateError("Invalid value for 'expires' \(value.pythonString): timestamp out of range for platform time_t") }
        if seconds < 0 { return .some(nil) }
        return .some(Int((seconds / 86400).rounded(.down)))
    }

    func execute() async throws -> Value {
        let state = text("state") ?? "present"
        var result: Dict = ["name": .string(name), "state": .string(state)]
        var ran: (rc: Int, out: String, err: String)?
        let existing = try await info()
        if state == "absent" {
            if existing != nil {
                if call.check { return ["changed": true] }
                let done = try await run(["userdel"] + (flag("force") ? ["-f"] : []) + (flag("remove") ? ["-r"] : []) + [name])
                if done.rc != 0 { return ["failed": true, "changed": false, "name": .string(name), "msg": .string(done.err), "rc": .int(done.rc)] }
                ran = done
                result["force"] = .bool(flag("force"))
                result["remove"] = .bool(flag("remove"))
            }
        } else {
            if existing == nil {
                if call.check { return ["changed": true] }
                switch try await create() {
                case .failure(let failure): return FileModules.failure(failure.message)
                case .success(let done): ran = done
                }
                result["system"] = .bool(flag("system"))
                result["create_home"] = .bool(flag("create_home", true))
            } else {
                switch try await modify(existing!) {
                case .failure(let failure): return FileModules.failure(failure.message)
                case .success(let done): ran = done
                }
                result["append"] = .bool(flag("append"))
                result["move_home"] = .bool(flag("move_home"))
            }
            if let ran, ran.rc != 0 { return ["failed": true, "changed": false, "name": .string(name), "msg": .string(ran.err), "rc": .int(ran.rc)] }
            if args["password"] != nil, args["password"] != Value.none { result["password"] = "NOT_LOGGING_PASSWORD" }
        }
        result["changed"] = .bool(ran != nil)
        if let ran, !ran.out.isEmpty { result["stdout"] = .string(ran.out) }
        if let ran, !ran.err.isEmpty { result["stderr"] = .string(ran.err) }
        if state == "present", let now = try await info() {
            let fields = now.fields
            result["uid"] = .int(Int(fields[2]) ?? 0)
            result["group"] = .int(Int(fields[3]) ?? 0)
            result["comment"] = .string(fields[4])
            result["home"] = .string(fields[5])
            result["shell"] = .string(fields[6])
            if let groups { result["groups"] = .string(groups) }
            let home = text("home") ?? fields[5]
            if flag("create_home", true), try await !CommandModule.exists(home, call) {
                if !call.check {
                    let made = try await createHome(home, uid: fields[2], gid: fields[3])
                    if let made { return ["failed": true, "changed": result["changed"] ?? false, "msg": .string(made)] }
                }
                result["changed"] = true
            }
        }
        return .dict(result)
    }

    func create() async throws -> Result<(rc: Int, out: String, err: String), Failure> {
        var argv = ["useradd"]
        if let uid = try SystemModules.int(args["uid"], "uid") {
            argv += ["-u", String(uid)] + (flag("non_unique") ? ["-o"] : [])
        }
        if let group = text("group") {
            guard try await self.group(group) != nil else { return .failure(Failure("Group \(group) does not exist")) }
            argv += ["-g", group]
        } else if try await self.group(name) != nil {
            argv.append("-N")
        }
        if let groups, !groups.isEmpty {
            var names: [String] = []
            for g in Set(groups.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }).sorted() {
                guard try await self.group(g) != nil else { return .failure(Failure("Group \(g) does not exist")) }
                names.append(g)
            }
            argv += ["-G", names.joined(separator: ",")]
        }
        if let comment = text("comment") { argv += ["-c", comment] }
        let createsHome = flag("create_home", true)
        var homeNeedsParents = false
        if let home = text("home") {
            if createsHome {
                let parent = (home as NSString).deletingLastPathComponent
                if try await call.host.shell("test -d " + ShellQuote.quote(parent.isEmpty ? "." : parent)).rc != 0 {
                    homeNeedsParents = true
                    if let failure = try await createHome(home, uid: nil, gid: nil) { return .failure(Failure(failure)) }
                }
            }
            argv += ["-d", home]
        }
        if let shell = text("shell") { argv += ["-s", shell] }
        if let day = try expiresDay() { argv += ["-e", day.map(Self.date) ?? ""] }
        if let password = text("password") { argv += ["-p", flag("password_lock") ? "!" + password : password] }
        if createsHome {
            argv.append("-m")
            if let skeleton = text("skeleton") { argv += ["-k", skeleton] }
            if let umask = text("umask") { argv += ["-K", "UMASK=" + umask] }
        } else {
            argv.append("-M")
        }
        if flag("system") { argv.append("-r") }
        if let low = try SystemModules.int(args["uid_min"], "uid_min") { argv += ["-K", "UID_MIN=\(low)"] }
        if let high = try SystemModules.int(args["uid_max"], "uid_max") { argv += ["-K", "UID_MAX=\(high)"] }
        let done = try await run(argv + [name])
        if homeNeedsParents, done.rc == 0, let now = try await info(), let home = text("home") {
            _ = try await call.host.shell("chown -R " + ShellQuote.quote("\(now.fields[2]):\(now.fields[3])") + " " + ShellQuote.quote(home))
        }
        return .success(done)
    }

    func modify(_ current: (fields: [String], expires: Int)) async throws -> Result<(rc: Int, out: String, err: String)?, Failure> {
        let fields = current.fields
        var argv = ["usermod"]
        if let uid = try SystemModules.int(args["uid"], "uid"), Int(fields[2]) != uid {
            argv += ["-u", String(uid)] + (flag("non_unique") ? ["-o"] : [])
        }
        if let group = text("group") {
            guard let info = try await self.group(group), info.count > 2 else { return .failure(Failure("Group \(group) does not exist")) }
            if fields[3] != info[2] { argv += ["-g", info[2]] }
        }
        if let groups {
            let (rc, out, _) = try await run(["getent", "group"])
            let membership = rc == 0 ? Strings.lines(out).compactMap { line -> String? in
                let parts = line.components(separatedBy: ":")
                return parts.count > 3 && parts[3].components(separatedBy: ",").contains(name) ? parts[0] : nil
            } : []
            var wanted: Set<String> = []
            var needed = false
            if groups.isEmpty {
                needed = !membership.isEmpty && !flag("append")
            } else {
                for g in Set(groups.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }) {
                    guard let info = try await self.group(g) else { return .failure(Failure("Group \(g) does not exist")) }
                    wanted.insert(info[0])
                }
                let difference = Set(membership).symmetricDifference(wanted)
                if !difference.isEmpty {
                    if flag("append") {
                        if wanted.contains(where: difference.contains) {
                            argv.append("-a")
                            needed = true
                        }
                    } else {
                        needed = true
                    }
                }
            }
            if needed { argv += ["-G", wanted.sorted().joined(separator: ",")] }
        }
        if let comment = text("comment"), fields[4] != comment { argv += ["-c", comment] }
        if let home = text("home"), fields[5] != home { argv += ["-d", home] + (flag("move_home") ? ["-m"] : []) }
        if let shell = text("shell"), fields[6] != shell { argv += ["-s", shell] }
        if let day = try expiresDay() {
            if let day {
                if current.expires < 0 || current.expires != day { argv += ["-e", Self.date(days: day)] }
            } else if current.expires >= 0 {
                argv += ["-e", ""]
            }
        }
        let lock = args["password_lock"].flatMap(PlaybookLoader.boolean)
        if lock == true, !fields[1].hasPrefix("!") { argv.append("-L") } else if lock == false, fields[1].hasPrefix("!") { argv.append("-U") }
        if (text("update_password") ?? "always") == "always", let password = text("password"),
            String(fields[1].drop { $0 == "!" }) != String(password.drop { $0 == "!" })
        {
            argv.removeAll { $0 == "-U" || $0 == "-L" }
            argv += ["-p", lock == true ? "!" + password : password]
        }
        guard argv.count > 1 else { return .success(nil) }
        if call.check { return .success((0, "", "")) }
        return .success(try await run(argv + [name]))
    }

    /// A home made as the module makes one: a copy of the skeleton (or an empty folder), its
    /// mode from login.defs (HOME_MODE, else from UMASK, else 0755), owned by the user when
    /// known. Nil when done, else why not.
    func createHome(_ home: String, uid: String?, gid: String?) async throws -> String? {
        let skeleton = text("skeleton") ?? "/etc/skel"
        let q = ShellQuote.quote
        let script = """
            set -e; h=\(q(home)); s=\(q(skeleton))
            if [ ! -e "$h" ]; then
              if [ -e "$s" ] && [ "$s" != /dev/null ]; then mkdir -p "$(dirname "$h")"; cp -RPp "$s" "$h"; else mkdir -p "$h"; fi
              if [ -e /etc/login.defs ]; then
                m=$(awk '$1=="HOME_MODE" && $2 ~ /^[0-9]+$/ && NF==2 {print $2; exit}' /etc/login.defs)
                if [ -z "$m" ]; then
                  u=$(awk '$1=="UMASK" && $2 ~ /^[0-9]+$/ && NF==2 {v=$2} END {print v}' /etc/login.defs)
                  if [ -n "$u" ]; then m=$(printf '%o' $(( 0777 & ~0$u ))); else m=755; fi
                fi
                chmod "$m" "$h"
              fi
            fi
            """ + ((uid != nil && gid != nil) ? "\nchown -R \(q("\(uid!):\(gid!)")) \"$h\"" : "")
        let output = try await call.host.shell(script)
        return output.rc == 0 ? nil : String(decoding: output.stderr, as: UTF8.self)
    }

    struct Failure: Error {
        var message: String
        init(_ message: String) { self.message = message }
    }
}
