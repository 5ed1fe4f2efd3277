import CohortValue

#if canImport(Glibc)
import Glibc
#endif

/// The network facts of Ansible's Linux collector, read from /sys/class/net, getifaddrs and
/// /proc/net's route tables instead of `ip` output: `interfaces`, one fact per interface,
/// `default_ipv4`, `default_ipv6`, `all_ipv4_addresses`, `all_ipv6_addresses`. As Ansible,
/// none at all on a host without the `ip` command (its collector stops there).
enum NetworkFacts {
    /// Ansible's `INTERFACE_TYPE` (the sysfs `type` number).
    static let types = ["1": "ether", "32": "infiniband", "512": "ppp", "772": "loopback", "65534": "tunnel"]

    struct Address {
        var label: String
        var family: Int32
        var address: String
        var prefix: Int
        var broadcast: String
    }

    static func gather(into facts: inout Dict) {
        guard hasIP() else { return }
        let addresses = interfaceAddresses()
        var order: [String] = []
        var interfaces: [String: Dict] = [:]
        for device in devices() {
            let info = describe(device)
            order.append(device)
            interfaces[device] = info
        }
        let route4 = defaultRoute4()
        let route6 = defaultRoute6()
        var default4 = Dict()
        var default6 = Dict()
        if let route4, let source = addresses.first(where: { $0.family == AF_INET && interfaceName($0.label) == route4.interface }) {
            // In the order of `ip route get`'s words: via, dev, src.
            if let gateway = route4.gateway { default4["gateway"] = .string(gateway) }
            default4["interface"] = .string(route4.interface)
            default4["address"] = .string(source.address)
        }
        if let route6, let source = addresses.first(where: { $0.family == AF_INET6 && $0.label == route6.interface && scope(of: $0.address) == "global" }) {
            if let gateway = route6.gateway { default6["gateway"] = .string(gateway) }
            default6["interface"] = .string(route6.interface)
            default6["address"] = .string(source.address)
        }
        var all4: [Value] = []
        var all6: [Value] = []
        for device in order {
            let mac = interfaces[device]?["macaddress"] ?? "unknown"
            let mtu = interfaces[device]?["mtu"] ?? Value.none
            let type = interfaces[device]?["type"] ?? "unknown"
            // IPv4 under each label (`eth0:1` becomes an interface of its own, as `ip` shows it).
            for address in addresses where address.family == AF_INET && interfaceName(address.label) == device {
                let netmask = mask4(address.prefix)
                let entry: Value = [
                    "address": .string(address.address), "broadcast": .string(address.broadcast), "netmask": .string(netmask),
                    "network": .string(network4(address.address, netmask)), "prefix": .string(String(address.prefix)),
                ]
                let label = address.label
                if label != device, interfaces[label] == nil {
                    interfaces[label] = Dict()
                    order.append(label)
                }
                if interfaces[label]?["ipv4"] == nil {
                    interfaces[label]?["ipv4"] = entry
                } else {
                    var more: [Value] = []
                    if case .list(let had)? = interfaces[label]?["ipv4_secondaries"] { more = had }
                    more.append(entry)
                    interfaces[label]?["ipv4_secondaries"] = .list(more)
                }
                if default4["address"] == .string(address.address) {
                    for key in ["broadcast", "netmask", "network", "prefix"] { default4[.string(key)] = entry.dict?[.string(key)] }
                    default4["macaddress"] = mac
                    default4["mtu"] = mtu
                    default4["type"] = type
                    default4["alias"] = .string(label)
                }
                if !address.address.hasPrefix("127.") { all4.append(.string(address.address)) }
            }
            for address in addresses where address.family == AF_INET6 && address.label == device {
                let scope = scope(of: address.address)
                var list: [Value] = []
                if case .list(let had)? = interfaces[device]?["ipv6"] { list = had }
                list.append(["address": .string(address.address), "prefix": .string(String(address.prefix)), "scope": .string(scope)])
                interfaces[device]?["ipv6"] = .list(list)
                if default6["address"] == .string(address.address) {
                    default6["prefix"] = .string(String(address.prefix))
                    default6["scope"] = .string(scope)
                    default6["macaddress"] = mac
                    default6["mtu"] = mtu
                    default6["type"] = type
                }
                if address.address != "::1" { all6.append(.string(address.address)) }
            }
        }
        // A `:` in a name is `_` in the fact, as Ansible renames them for templates.
        var names: [Value] = []
        for name in order {
            let fact = name.replacingColons
            names.append(.string(fact))
            facts[.string(fact)] = .dict(interfaces[name] ?? Dict())
        }
        facts["interfaces"] = .list(names)
        facts["default_ipv4"] = .dict(default4)
        facts["default_ipv6"] = .dict(default6)
        facts["all_ipv4_addresses"] = .list(all4)
        facts["all_ipv6_addresses"] = .list(all6)
    }

    /// `ip` where Ansible's `get_bin_path` looks: the PATH, then the sbin folders.
    static func hasIP() -> Bool {
        let path = getenv("PATH").map { String(cString: $0) } ?? "/usr/bin:/bin"
        let folders = path.split(separator: ":").map(String.init) + ["/sbin", "/usr/sbin", "/usr/local/sbin"]
        return folders.contains { access($0 + "/ip", X_OK) == 0 }
    }

    /// /sys/class/net's entries in directory order (Python's glob order).
    static func devices() -> [String] {
        entries("/sys/class/net").filter { name in
            var info = stat()
            return stat("/sys/class/net/" + name, &info) == 0 && info.st_mode & S_IFMT == S_IFDIR
        }
    }

    /// A sysfs file's text, stripped; nil when it cannot be read (`speed` of a loopback).
    static func content(_ path: String) -> String? {
        guard let text = HostFacts.readText(path) else { return nil }
        let blank: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        return String(text.drop(while: blank).reversed().drop(while: blank).reversed())
    }

    static func describe(_ device: String) -> Dict {
        let path = "/sys/class/net/" + device
        var out: Dict = ["device": .string(device)]
        if let mac = content(path + "/address"), !mac.isEmpty, mac != "00:00:00:00:00:00" { out["macaddress"] = .string(mac) }
        if let mtu = content(path + "/mtu").flatMap({ Int($0) }) { out["mtu"] = .int(mtu) }
        if let state = content(path + "/operstate") { out["active"] = .bool(state != "down") }
        if let module = FsOps.realPath(path + "/device/driver/module") { out["module"] = .string(basename(module)) }
        if let type = content(path + "/type") { out["type"] = .string(types[type] ?? "unknown") }
        if exists(path + "/bridge") {
            out["type"] = "bridge"
            out["interfaces"] = .list(entries(path + "/brif").map { .string($0) })
            out["id"] = .string(content(path + "/bridge/bridge_id") ?? "")
            out["stp"] = .bool(content(path + "/bridge/stp_state") == "1")
        }
        if let device = HostFiles.readLink(path + "/device") { out["pciid"] = .string(basename(device)) }
        if let speed = content(path + "/speed").flatMap({ Int($0) }) { out["speed"] = .int(speed) }
        if let flags = content(path + "/flags"), let value = Int(flags.hasPrefix("0x") ? String(flags.dropFirst(2)) : flags, radix: 16) {
            out["promisc"] = .bool(value & 0x100 != 0)
        }
        return out
    }

    static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    static func basename(_ path: String) -> String { String(path.split(separator: "/").last ?? "") }

    static func entries(_ path: String) -> [String] {
        guard let folder = opendir(path) else { return [] }
        defer { closedir(folder) }
        var out: [String] = []
        while let entry = readdir(folder) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self) }
            if name != ".", name != ".." { out.append(name) }
        }
        return out
    }

    /// The device an address label belongs to (`eth0:1` → `eth0`).
    static func interfaceName(_ label: String) -> String { String(label.split(separator: ":", maxSplits: 1).first ?? Substring(label)) }

    /// Every interface address from the kernel, in its order.
    static func interfaceAddresses() -> [Address] {
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0 else { return [] }
        defer { freeifaddrs(list) }
        var out: [Address] = []
        var cursor = list
        while let entry = cursor {
            defer { cursor = entry.pointee.ifa_next }
            guard let address = entry.pointee.ifa_addr else { continue }
            let family = Int32(address.pointee.sa_family)
            guard family == AF_INET || family == AF_INET6 else { continue }
            let name = String(cString: entry.pointee.ifa_name)
            let text = numeric(address)
            let prefix = entry.pointee.ifa_netmask.map(prefixLength) ?? (family == AF_INET ? 32 : 128)
            var broadcast = ""
            if family == AF_INET, entry.pointee.ifa_flags & UInt32(IFF_BROADCAST) != 0,
                let other = entry.pointee.ifa_ifu.ifu_broadaddr
            {
                broadcast = numeric(other)
            }
            out.append(Address(label: name, family: family, address: text, prefix: prefix, broadcast: broadcast))
        }
        return out
    }

    static func numeric(_ address: UnsafeMutablePointer<sockaddr>) -> String {
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        if address.pointee.sa_family == sa_family_t(AF_INET) {
            address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { inet in
                var raw = inet.pointee.sin_addr
                _ = inet_ntop(AF_INET, &raw, &text, socklen_t(text.count))
            }
        } else {
            address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { inet in
                var raw = inet.pointee.sin6_addr
                _ = inet_ntop(AF_INET6, &raw, &text, socklen_t(text.count))
            }
        }
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The count of leading one bits of a netmask.
    static func prefixLength(_ mask: UnsafeMutablePointer<sockaddr>) -> Int {
        var bytes: [UInt8] = []
        if mask.pointee.sa_family == sa_family_t(AF_INET6) {
            mask.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { inet in
                bytes = withUnsafeBytes(of: inet.pointee.sin6_addr) { Array($0) }
            }
        } else {
            mask.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { inet in
                bytes = withUnsafeBytes(of: inet.pointee.sin_addr) { Array($0) }
            }
        }
        var count = 0
        for byte in bytes {
            if byte == 0xFF {
                count += 8
                continue
            }
            count += byte.leadingZeroBitCount == 0 ? (~byte).leadingZeroBitCount : 0
            break
        }
        return count
    }

    static func mask4(_ prefix: Int) -> String {
        let bits: UInt32 = prefix <= 0 ? 0 : prefix >= 32 ? .max : ~(UInt32.max >> UInt32(prefix))
        return [24, 16, 8, 0].map { String((bits >> UInt32($0)) & 0xFF) }.joined(separator: ".")
    }

    static func network4(_ address: String, _ netmask: String) -> String {
        let a = address.split(separator: ".").compactMap { UInt8($0) }
        let m = netmask.split(separator: ".").compactMap { UInt8($0) }
        guard a.count == 4, m.count == 4 else { return "" }
        return zip(a, m).map { String($0 & $1) }.joined(separator: ".")
    }

    /// The scope `ip` prints for an address.
    static func scope(of address: String) -> String {
        let lower = address.lowercased()
        if lower == "::1" { return "host" }
        if lower.hasPrefix("fe8") || lower.hasPrefix("fe9") || lower.hasPrefix("fea") || lower.hasPrefix("feb") { return "link" }
        if lower.hasPrefix("fec") || lower.hasPrefix("fed") || lower.hasPrefix("fee") || lower.hasPrefix("fef") { return "site" }
        return "global"
    }

    /// The IPv4 default route with the lowest metric: its interface and gateway.
    static func defaultRoute4() -> (interface: String, gateway: String?)? {
        var best: (String, String?, Int)?
        for line in (HostFacts.readText("/proc/net/route") ?? "").split(separator: "\n").dropFirst() {
            let f = line.split(whereSeparator: { $0 == "\t" || $0 == " " })
            guard f.count > 7, f[1] == "00000000", f[7] == "00000000", let flags = Int(f[3], radix: 16), flags & 0x1 != 0,
                let metric = Int(f[6])
            else { continue }
            var gateway: String?
            if flags & 0x2 != 0, let raw = UInt32(f[2], radix: 16) {
                gateway = [0, 8, 16, 24].map { String((raw >> UInt32($0)) & 0xFF) }.joined(separator: ".")
            }
            if best == nil || metric < best!.2 { best = (String(f[0]), gateway, metric) }
        }
        return best.map { ($0.0, $0.1) }
    }

    /// The IPv6 default route (not a reject route) with the lowest metric.
    static func defaultRoute6() -> (interface: String, gateway: String?)? {
        var best: (String, String?, Int)?
        for line in (HostFacts.readText("/proc/net/ipv6_route") ?? "").split(separator: "\n") {
            let f = line.split(separator: " ", omittingEmptySubsequences: true)
            guard f.count >= 10, f[0].allSatisfy({ $0 == "0" }), f[1] == "00", let flags = Int(f[8], radix: 16), flags & 0x200 == 0, flags & 0x1 != 0,
                let metric = Int(f[5], radix: 16)
            else { continue }
            var gateway: String?
            if !f[4].allSatisfy({ $0 == "0" }) {
                var raw = in6_addr()
                let hex = Array(f[4])
                withUnsafeMutableBytes(of: &raw) { bytes in
                    for i in 0..<16 where 2 * i + 1 < hex.count { bytes[i] = UInt8(String(hex[2 * i...2 * i + 1]), radix: 16) ?? 0 }
                }
                var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
                _ = inet_ntop(AF_INET6, &raw, &text, socklen_t(text.count))
                gateway = String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            }
            if best == nil || metric < best!.2 { best = (String(f[9]), gateway, metric) }
        }
        return best.map { ($0.0, $0.1) }
    }
}

extension String {
    fileprivate var replacingColons: String { String(map { $0 == ":" ? "_" : $0 }) }
}
