import CohortValue

#if canImport(Glibc)
import Glibc
#endif

/// The `mounts` fact as Ansible's Linux hardware facts read it: /etc/mtab (else
/// /proc/mounts), octal escapes decoded, only mounts of a device path (`/…`, `\…`) or a
/// network source (`host:/…`) and not of type `none`; sizes from statvfs. The coordinator
/// adds what needs `findmnt` and `lsblk` (bind mounts, UUIDs); here each has `uuid` "N/A".
enum MountFacts {
    static func gather() -> Value {
        let text = HostFacts.readText("/etc/mtab") ?? HostFacts.readText("/proc/mounts") ?? ""
        var order: [String] = []
        var byMount: [String: Dict] = [:]
        for line in text.split(separator: "\n") {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map { unescaped(String($0)) }
            guard fields.count >= 6, let dump = Int(fields[4]), let passno = Int(fields[5]) else { continue }
            let (device, mount, fstype, options) = (fields[0], fields[1], fields[2], fields[3])
            if (!device.hasPrefix("/") && !device.hasPrefix("\\") && !device.contains(":/")) || fstype == "none" { continue }
            var info: Dict = [
                "mount": .string(mount), "device": .string(device), "fstype": .string(fstype), "options": .string(options),
                "dump": .int(dump), "passno": .int(passno),
            ]
            for (key, value) in size(of: mount).pairs { info[key] = value }
            info["uuid"] = "N/A"
            if byMount[mount] == nil { order.append(mount) }
            byMount[mount] = info
        }
        return .list(order.map { .dict(byMount[$0]!) })
    }

    /// `\040` and the like: three digits read in base 8 (Python's `chr(int(d, 8))`); digits
    /// that are not octal stay as written.
    static func unescaped(_ field: String) -> String {
        guard field.contains("\\") else { return field }
        var out = String.UnicodeScalarView()
        let scalars = Array(field.unicodeScalars)
        var index = 0
        while index < scalars.count {
            if scalars[index] == "\\", index + 3 < scalars.count,
                scalars[(index + 1)..<(index + 4)].allSatisfy({ ("0"..."7").contains($0) }),
                let value = UInt32(String(String.UnicodeScalarView(scalars[(index + 1)..<(index + 4)])), radix: 8),
                let scalar = Unicode.Scalar(value)
            {
                out.append(scalar)
                index += 4
            } else {
                out.append(scalars[index])
                index += 1
            }
        }
        return String(out)
    }

    /// Ansible's `get_mount_size`: nothing when statvfs fails.
    static func size(of mount: String) -> Dict {
        var info = statvfs()
        guard statvfs(mount, &info) == 0 else { return Dict() }
        let (frsize, blocks, available) = (Int(clamping: info.f_frsize), Int(clamping: info.f_blocks), Int(clamping: info.f_bavail))
        let (total, availableBytes) = (frsize.multipliedReportingOverflow(by: blocks), frsize.multipliedReportingOverflow(by: available))
        guard !total.overflow, !availableBytes.overflow else { return Dict() }
        return [
            "size_total": .int(total.partialValue), "size_available": .int(availableBytes.partialValue), "block_size": .int(Int(clamping: info.f_bsize)),
            "block_total": .int(blocks), "block_available": .int(available), "block_used": .int(blocks - available),
            "inode_total": .int(Int(clamping: info.f_files)), "inode_available": .int(Int(clamping: info.f_favail)), "inode_used": .int(Int(clamping: info.f_files) - Int(clamping: info.f_favail)),
        ]
    }
}
