@testable import Cohort
import CohortTemplate
import Testing

/// The `mounts` fact's bind mounts and UUIDs, read from recorded `findmnt` and `lsblk` output
/// as Ansible's Linux hardware facts read them.
struct MountCompletionTests {
    @Test func bindMountsAndUUIDs() {
        let mounts: Value = .list([
            ["mount": "/", "device": "/dev/vda1", "options": "rw,relatime", "uuid": "N/A"],
            ["mount": "/srv/data", "device": "/dev/vda1", "options": "rw", "uuid": "N/A"],
            ["mount": "/mnt/quoted", "device": "/dev/vdb", "options": "rw,bind,\"x\"", "uuid": "N/A"],
        ])
        let findmnt = "/ /dev/vda1 ext4 rw,relatime\n/srv/data /dev/vda1[/data] ext4 rw\n/mnt/quoted /dev/vdb[/q] ext4 rw\n"
        let lsblk = "/dev/vda\n/dev/vda1 0b6c-uuid\n/dev/vda1 later-uuid\n/dev/vdb \n"
        guard case .list(let out) = MountCompletion.complete(mounts, findmnt: findmnt, lsblk: lsblk) else {
            Issue.record("not a list")
            return
        }
        #expect(out.map { $0.dict?["options"]?.pythonString } == ["rw,relatime", "rw,bind", "rw,bind,\"x\""])
        #expect(out.map { $0.dict?["uuid"]?.pythonString } == ["0b6c-uuid", "0b6c-uuid", "N/A"])
    }
}
