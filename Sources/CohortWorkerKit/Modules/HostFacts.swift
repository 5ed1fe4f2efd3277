import CohortValue

#if canImport(Glibc)
import Glibc
#endif

/// The facts `gather_facts` gives, read by the worker itself from the kernel and /etc (no
/// Python on the host), named as Ansible's `setup` module names them (without `ansible_`).
enum HostFacts {
    static func gather() -> Value {
        var facts = Dict()
        var names = utsname()
        uname(&names)
        func field<T>(_ value: T) -> String {
            withUnsafeBytes(of: value) { raw in String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self) }
        }
        let nodename = field(names.nodename)
        facts["hostname"] = .string(String(nodename.split(separator: ".").first ?? ""))
        facts["nodename"] = .string(nodename)
        facts["fqdn"] = .string(fqdn(nodename))
        facts["domain"] = .string(nodename.contains(".") ? String(nodename.drop { $0 != "." }.dropFirst()) : "")
        facts["system"] = .string(field(names.sysname))
        facts["kernel"] = .string(field(names.release))
        facts["kernel_version"] = .string(field(names.version))
        let machine = field(names.machine)
        facts["machine"] = .string(machine)
        facts["architecture"] = .string(machine)
        facts["userspace_bits"] = .string(MemoryLayout<Int>.size == 8 ? "64" : "32")
        let os = osRelease()
        let id = os["ID"] ?? "linux"
        let distribution = ["debian": "Debian", "ubuntu": "Ubuntu", "centos": "CentOS", "fedora": "Fedora", "rhel": "RedHat", "alpine": "Alpine", "arch": "Archlinux"][id] ?? (os["NAME"] ?? "Linux")
        facts["distribution"] = .string(distribution)
        var version = os["VERSION_ID"] ?? ""
        if id == "debian", let exact = readText("/etc/debian_version")?.split(separator: "\n").first, exact.first?.isNumber == true {
            version = String(exact)
        }
        facts["distribution_version"] = .string(version)
        facts["distribution_major_version"] = .string(String(version.split(separator: ".").first ?? ""))
        facts["distribution_release"] = .string(os["VERSION_CODENAME"] ?? "")
        let families = ["debian": "Debian", "ubuntu": "Debian", "centos": "RedHat", "fedora": "RedHat", "rhel": "RedHat", "alpine": "Alpine", "arch": "Archlinux"]
        facts["os_family"] = .string(families[id] ?? distribution)
        let managers = ["Debian": "apt", "RedHat": "dnf", "Alpine": "apk", "Archlinux": "pacman"]
        facts["pkg_mgr"] = .string(managers[families[id] ?? ""] ?? "unknown")
        facts["service_mgr"] = .string(serviceManager())
        let cpus = processors()
        facts["processor_vcpus"] = .int(cpus.logical)
        facts["processor_count"] = .int(cpus.sockets)
        facts["processor_cores"] = .int(cpus.cores)
        facts["processor_threads_per_core"] = .int(max(1, cpus.logical / max(1, cpus.cores * cpus.sockets)))
        let memory = meminfo()
        facts["memtotal_mb"] = .int((memory["MemTotal"] ?? 0) / 1024)
        facts["memfree_mb"] = .int((memory["MemFree"] ?? 0) / 1024)
        facts["swaptotal_mb"] = .int((memory["SwapTotal"] ?? 0) / 1024)
        var env = Dict()
        var pointer = environ
        while let entry = pointer.pointee {
            let text = String(cString: entry)
            if let eq = text.firstIndex(of: "=") { env[String(text[..<eq])] = .string(String(text[text.index(after: eq)...])) }
            pointer += 1
        }
        facts["env"] = .dict(env)
        let uid = getuid()
        facts["user_id"] = .string(getpwuid(uid).map { String(cString: $0.pointee.pw_name) } ?? String(uid))
        facts["user_uid"] = .int(Int(uid))
        facts["user_gid"] = .int(Int(getgid()))
        facts["user_dir"] = .string(getpwuid(uid).map { String(cString: $0.pointee.pw_dir) } ?? "")
        facts["user_shell"] = .string(getpwuid(uid).map { String(cString: $0.pointee.pw_shell) } ?? "")
        facts["date_time"] = dateTime()
        NetworkFacts.gather(into: &facts)
        facts["dns"] = dns(readText("/etc/resolv.conf") ?? "")
        facts["mounts"] = MountFacts.gather()
        return .dict(facts)
    }

    /// Ansible's `dns` fact: /etc/resolv.conf's nameservers, domain, search, sortlist and
    /// options (a later search, sortlist or options line replaces an earlier one, as there).
    static func dns(_ text: String) -> Value {
        var out = Dict()
        for line in Strings.lines(text) {
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\u{0B}" || $0 == "\u{0C}" }).map(String.init)
            guard let first = words.first, !line.hasPrefix("#"), !line.hasPrefix(";") else { continue }
            let rest = words.dropFirst().map { Value.string($0) }
            switch first {
            case "nameserver":
                var list: [Value] = []
                if case .list(let had)? = out["nameservers"] { list = had }
                out["nameservers"] = .list(list + rest)
            case "domain": if words.count > 1 { out["domain"] = .string(words[1]) }
            case "search": out["search"] = .list(rest)
            case "sortlist": out["sortlist"] = .list(rest)
            case "options":
                var options = Dict()
                for option in words.dropFirst() {
                    let parts = option.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
                    options[.string(String(parts[0]))] = parts.count == 2 && !parts[1].isEmpty ? .string(String(parts[1])) : .bool(true)
                }
                out["options"] = .dict(options)
            default: break
            }
        }
        return .dict(out)
    }

    static func readText(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 8192)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            bytes += buffer[0..<n]
            if bytes.count > 1 << 20 { break }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func osRelease() -> [String: String] {
        var out: [String: String] = [:]
        for line in (readText("/etc/os-release") ?? readText("/usr/lib/os-release") ?? "").split(separator: "\n") {
            guard let eq = line.firstIndex(of: "=") else { continue }
            var value = line[line.index(after: eq)...]
            if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 { value = value.dropFirst().dropLast() }
            out[String(line[..<eq])] = String(value)
        }
        return out
    }

    /// Python's `socket.getfqdn()` with /etc/hosts only (a DNS query would leave the host):
    /// the node name's address, then the first line for that address; its first name with a
    /// dot among the canonical name and aliases, else the canonical name.
    static func fqdn(_ nodename: String) -> String {
        let lines = (readText("/etc/hosts") ?? "").split(separator: "\n").map { line in
            line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first.map {
                $0.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            } ?? []
        }.filter { $0.count > 1 }
        guard let address = lines.first(where: { $0.dropFirst().contains(nodename) })?.first,
            let entry = lines.first(where: { $0.first == address })
        else { return nodename }
        let names = Array(entry.dropFirst())
        return names.first { $0.contains(".") } ?? names[0]
    }

    static func serviceManager() -> String {
        if let comm = readText("/proc/1/comm")?.split(separator: "\n").first {
            switch comm {
            case "systemd": return "systemd"
            case "init": return access("/sbin/openrc", X_OK) == 0 ? "openrc" : "sysvinit"
            default: return String(comm)
            }
        }
        return "service"
    }

    static func processors() -> (logical: Int, sockets: Int, cores: Int) {
        var logical = 0
        var sockets = Set<String>()
        var cores = 0
        var physical = ""
        for line in (readText("/proc/cpuinfo") ?? "").split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1).map { $0.trimmingSpaces }
            guard parts.count == 2 else { continue }
            switch parts[0] {
            case "processor": logical += 1
            case "physical id":
                physical = parts[1]
                sockets.insert(physical)
            case "cpu cores": cores = Int(parts[1]) ?? cores
            default: break
            }
        }
        logical = max(logical, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
        return (logical, max(1, sockets.count), max(1, cores == 0 ? logical : cores))
    }

    static func meminfo() -> [String: Int] {
        var out: [String: Int] = [:]
        for line in (readText("/proc/meminfo") ?? "").split(separator: "\n") {
            let parts = line.split(whereSeparator: { $0 == ":" || $0 == " " })
            if parts.count >= 2, let kb = Int(parts[1]) { out[String(parts[0])] = kb }
        }
        return out
    }

    /// Ansible's `date_time` facts, key for key: local time, and UTC for the `iso8601` ones,
    /// through the C library's strftime (the worker runs in the C locale, as Python's
    /// default, so names are English).
    static func dateTime() -> Value {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        var now = spec.tv_sec
        let micro = String(Int(spec.tv_nsec / 1000))
        let six = String(repeating: "0", count: max(0, 6 - micro.count)) + micro
        tzset()
        var local = tm()
        var utc = tm()
        localtime_r(&now, &local)
        gmtime_r(&now, &utc)
        func format(_ pattern: String, _ time: tm) -> String {
            var time = time
            var buffer = [CChar](repeating: 0, count: 128)
            let count = strftime(&buffer, buffer.count, pattern, &time)
            return String(decoding: buffer.prefix(count).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
        var out = Dict()
        for (key, pattern) in [
            ("year", "%Y"), ("month", "%m"), ("weekday", "%A"), ("weekday_number", "%w"), ("weeknumber", "%W"), ("day", "%d"),
            ("hour", "%H"), ("minute", "%M"), ("second", "%S"), ("date", "%Y-%m-%d"), ("time", "%H:%M:%S"),
            ("iso8601_basic_short", "%Y%m%dT%H%M%S"), ("tz", "%Z"), ("tz_offset", "%z"),
        ] {
            out[.string(key)] = .string(format(pattern, local))
        }
        out["epoch"] = .string(String(now))
        out["epoch_int"] = .string(String(now))
        out["iso8601"] = .string(format("%Y-%m-%dT%H:%M:%SZ", utc))
        out["iso8601_micro"] = .string(format("%Y-%m-%dT%H:%M:%S", utc) + "." + six + "Z")
        out["iso8601_basic"] = .string(format("%Y%m%dT%H%M%S", local) + six)
        // Python's time.tzname[1]: the zone's daylight-saving name, or its standard one where
        // it has none (found at the year's two solstice months rather than in the C global).
        var dst = format("%Z", local)
        for offset in [0, 182 * 86_400] {
            var probe = now - time_t(local.tm_yday) * 86_400 + time_t(offset)
            var seen = tm()
            localtime_r(&probe, &seen)
            if seen.tm_isdst > 0 { dst = format("%Z", seen) }
        }
        out["tz_dst"] = .string(dst)
        return .dict(out)
    }
}

extension Substring {
    var trimmingSpaces: String {
        String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}
