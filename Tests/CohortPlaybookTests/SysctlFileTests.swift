import CohortPlaybook
import Testing

/// `SysctlFile` against ansible.posix 12.3.0's `sysctl` module: each row is what its own
/// `read_sysctl_file`, `fix_lines` (written as `write_sysctl` writes), `_parse_value` and
/// `_values_is_equal` gave.
@Suite struct SysctlFileTests {
    @Test(arguments: [
        ("vm.swappiness=10\n", "vm.swappiness", "20", true, ["vm.swappiness": "10"], "vm.swappiness=20\n"),
        ("", "vm.swappiness", "20", true, [:], "vm.swappiness=20\n"),
        ("# c\n; semi\n  kernel.x = 1 \n\nkernel.x=2\nfoo\nnet.a = b c\n", "kernel.x", "3", true, ["kernel.x": "2", "net.a": "b c"], "# c\n; semi\nkernel.x=3\n\nfoo\nnet.a=b c\n"),
        ("# c\nkernel.x = 1\nkernel.y=2\nkernel.y = 5\n", "kernel.x", "", false, ["kernel.x": "1", "kernel.y": "5"], "# c\nkernel.y=2\n"),
        ("kernel.y=2\n=5\n a=b=c \n", "kernel.z", "1", true, ["kernel.y": "2", "": "5", "a": "b=c"], "kernel.y=2\n=5\na=b=c\nkernel.z=1\n"),
        ("kernel.y=2", "kernel.y", "2", false, ["kernel.y": "2"], ""),
        ("\tk\t=\tv v\t\r\n", "k", "w", true, ["k": "v v"], "k=w\n"),
    ] as [(String, String, String, Bool, [String: String], String)])
    func readAndRewrittenAsTheModule(_ text: String, _ name: String, _ value: String, _ present: Bool, _ values: [String: String], _ expected: String) {
        let file = SysctlFile(text)
        #expect(file.values == values)
        #expect(file.fixed(name: name, value: value, present: present) == expected)
    }

    @Test(arguments: [
        (nil, ""),
        ("yes", "1"),
        ("On", "1"),
        ("TRUE", "1"),
        ("t", "1"),
        ("0", "0"),
        ("off", "0"),
        (" 1 2 ", "1 2"),
        ("maybe", "maybe"),
        ("1 ", "1"),
    ] as [(String?, String)])
    func valuesParseAsTheModule(_ value: String?, _ expected: String) {
        #expect(SysctlFile.parseValue(value) == expected)
    }

    @Test(arguments: [
        ("1\n", "1", true),
        ("4096 87380 6291456\n", "4096\t87380  6291456", true),
        ("1 2", "1", false),
        ("", "", true),
        ("a", "b", false),
    ] as [(String, String, Bool)])
    func valuesCompareAsTheModule(_ a: String, _ b: String, _ expected: Bool) {
        #expect(SysctlFile.equal(a, b) == expected)
    }
}
