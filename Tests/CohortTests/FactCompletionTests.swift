@testable import Cohort
import CohortTemplate
import Testing

/// The `mounts` fact's bind mounts and UUIDs, read from recorded `findmnt` and `lsblk` output
/// as Ansible's Linux hardware facts read them; `lsb` from `lsb_release -a` or
/// /etc/lsb-release (rows from ansible-core 2.19's LSBFactCollector on the same text).
struct FactCompletionTests {
    @Test func lsbAsAnsiblesCollectorReadsIt() throws {
        let debian = "Distributor ID:\tDebian\nDescription:\tDebian GNU/Linux 12 (bookworm)\nRelease:\t12\nCodename:\tbookworm\n"
        #expect(FactCompletion.lsb(release: debian, file: "") == (try Value(json:
            #"{"id": "Debian", "description": "Debian GNU/Linux 12 (bookworm)", "release": "12", "codename": "bookworm", "major_release": "12"}"#)))
        #expect(FactCompletion.lsb(release: "LSB Version:\tcore-4.1\nDistributor ID:\t\"Ubuntu\"\nRelease:\t22.04\n", file: "") == (try Value(json:
            #"{"release": "22.04", "id": "Ubuntu", "major_release": "22"}"#)))
        // lsb_release failed (nil): the file's lines.
        let file = "DISTRIB_ID=\"Ubuntu\"\nDISTRIB_RELEASE=20.04\nDISTRIB_CODENAME=focal\nDISTRIB_DESCRIPTION=\"Ubuntu 20.04.6 LTS\"\n"
        #expect(FactCompletion.lsb(release: nil, file: file) == (try Value(json:
            #"{"id": "Ubuntu", "release": "20.04", "codename": "focal", "description": "Ubuntu 20.04.6 LTS", "major_release": "20"}"#)))
        #expect(FactCompletion.lsb(release: nil, file: "") == .dict(Dict()))
    }

    @Test func bindMountsAndUUIDs() {
        let mounts: Value = .list([
            ["mount": "/", "device": "/dev/vda1", "options": "rw,relatime", "uuid": "N/A"],
            ["mount": "/srv/data", "device": "/dev/vda1", "options": "rw", "uuid": "N/A"],
            ["mount": "/mnt/quoted", "device": "/dev/vdb", "options": "rw,bind,\"x\"", "uuid": "N/A"],
        ])
        let findmnt = "/ /dev/vda1 ext4 rw,relatime\n/srv/data /dev/vda1[/data] ext4 rw\n/mnt/quoted /dev/vdb[/q] ext4 rw\n"
        let lsblk = "/dev/vda\n/dev/vda1 0b6c-uuid\n/dev/vda1 later-uuid\n/dev/vdb \n"
        guard case .list(let out) = FactCompletion.complete(mounts, findmnt: findmnt, lsblk: lsblk) else {
            Issue.record("not a list")
            return
        }
        #expect(out.map { $0.dict?["options"]?.pythonString } == ["rw,relatime", "rw,bind", "rw,bind,\"x\""])
        #expect(out.map { $0.dict?["uuid"]?.pythonString } == ["0b6c-uuid", "0b6c-uuid", "N/A"])
    }

    /// `ip route show table local` of a host with an address on eth0, and what Ansible's
    /// `get_locally_reachable_ips` makes of the same text (run on it with a stub module).
    @Test func locallyReachableFromTheLocalTables() {
        let v4 = """
            local 127.0.0.0/8 dev lo proto kernel scope host src 127.0.0.1 
            local 127.0.0.1 dev lo proto kernel scope host src 127.0.0.1 
            broadcast 127.255.255.255 dev lo proto kernel scope link src 127.0.0.1 
            local 192.0.2.2 dev eth0 proto kernel scope host src 192.0.2.2 

            local 192.0.2.2 dev eth1 proto kernel scope host src 192.0.2.2 
            """
        let v6 = """
            local ::1 dev lo proto kernel metric 0 pref medium
            local fe80::fc:ff:fe00:1 dev eth0 proto kernel metric 0 pref medium
            multicast ff00::/8 dev eth0 proto kernel metric 256 pref medium
            """
        let facts = FactCompletion.locallyReachable([v4, v6])
        #expect(facts.dict?["ipv4"] == ["127.0.0.0/8", "127.0.0.1", "192.0.2.2"])
        #expect(facts.dict?["ipv6"] == ["::1", "fe80::fc:ff:fe00:1"])
        #expect(FactCompletion.locallyReachable(["", ""]) == ["ipv4": [], "ipv6": []])
    }
}
