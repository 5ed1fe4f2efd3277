import CohortPlaybook
import Testing

/// `TimezoneConfig` against community.general 12.3.0's `timezone` module: each row is what
/// its own regular expressions, `_edit_file` and link reading gave for the same text.
@Suite struct TimezoneConfigTests {
    @Test(arguments: [
        (.name, "Europe/Paris\n", "Europe/Paris"),
        (.hwclock, "Europe/Paris\n", nil),
        (.adjtime, "Europe/Paris\n", nil),
        (.name, "  Europe/Paris\nAsia/Tokyo\n", "Asia/Tokyo"),
        (.hwclock, "  Europe/Paris\nAsia/Tokyo\n", nil),
        (.adjtime, "  Europe/Paris\nAsia/Tokyo\n", nil),
        (.name, "# hand\nUTC\n", "#"),
        (.hwclock, "# hand\nUTC\n", nil),
        (.adjtime, "# hand\nUTC\n", "UTC"),
        (.name, "", nil),
        (.hwclock, "", nil),
        (.adjtime, "", nil),
        (.name, "\n\n", nil),
        (.hwclock, "\n\n", nil),
        (.adjtime, "\n\n", nil),
        (.name, "UTC=yes\n", "UTC=yes"),
        (.hwclock, "UTC=yes\n", "yes"),
        (.adjtime, "UTC=yes\n", nil),
        (.name, "# x\nUTC = no\n", "#"),
        (.hwclock, "# x\nUTC = no\n", "no"),
        (.adjtime, "# x\nUTC = no\n", nil),
        (.name, "UTCX=1\n", "UTCX=1"),
        (.hwclock, "UTCX=1\n", nil),
        (.adjtime, "UTCX=1\n", nil),
        (.name, "0.0 0 0.0\n0\nLOCAL\n", "0.0"),
        (.hwclock, "0.0 0 0.0\n0\nLOCAL\n", nil),
        (.adjtime, "0.0 0 0.0\n0\nLOCAL\n", "LOCAL"),
        (.name, "0.0 0 0.0\n0\nUTC", "0.0"),
        (.hwclock, "0.0 0 0.0\n0\nUTC", nil),
        (.adjtime, "0.0 0 0.0\n0\nUTC", "UTC"),
        (.name, "LOCALTIME\n", "LOCALTIME"),
        (.hwclock, "LOCALTIME\n", nil),
        (.adjtime, "LOCALTIME\n", nil),
        (.name, "Etc/UTC\r\nX\r\n", "Etc/UTC"),
        (.hwclock, "Etc/UTC\r\nX\r\n", nil),
        (.adjtime, "Etc/UTC\r\nX\r\n", nil),
        (.name, "\tTab\nA\tB\n", "A"),
        (.hwclock, "\tTab\nA\tB\n", nil),
        (.adjtime, "\tTab\nA\tB\n", nil),
    ] as [(TimezoneConfig.Key, String, String?)])
    func valuesReadAsTheModule(_ key: TimezoneConfig.Key, _ text: String, _ expected: String?) throws {
        #expect(try TimezoneConfig.value(key, in: text) == expected)
    }

    @Test(arguments: [
        (.name, "Europe/Paris\n", "Asia/Tokyo\n", "Asia/Tokyo\n", 1),
        (.name, "# hand\n  Europe/Paris\nAsia/Tokyo\n\nUTC\n", "Asia/Tokyo\n", "Asia/Tokyo\n  Europe/Paris\n\n", 3),
        (.name, "", "UTC\n", "UTC\n", 0),
        (.name, "   \n", "UTC\n", "UTC\n   \n", 0),
        (.hwclock, "A=1\nUTC=yes\nB=2\nUTC=no\n", "UTC=no\n", "A=1\nUTC=no\nB=2\n", 2),
        (.hwclock, "A=1\nB=2", "UTC=yes\n", "UTC=yes\nA=1\nB=2", 0),
        (.name, "no newline at end", "X\n", "X\n", 1),
    ] as [(TimezoneConfig.Key, String, String, String, Int)])
    func editsAsTheModule(_ key: TimezoneConfig.Key, _ text: String, _ line: String, _ expected: String, _ deleted: Int) throws {
        let edited = try TimezoneConfig.edit(text, key: key, line: line)
        #expect(edited.text == expected)
        #expect(edited.deleted == deleted)
    }

    @Test(arguments: [
        ("/usr/share/zoneinfo/Europe/Paris", "Europe/Paris"),
        ("../usr/share/zoneinfo/Etc/UTC", "Etc/UTC"),
        ("/etc/zoneinfo/UTC", "UTC"),
        ("/opt/zones/UTC", nil),
        ("/usr/share/zoneinfo/", ""),
    ] as [(String, String?)])
    func linkTargetsNameTheirZone(_ target: String, _ expected: String?) throws {
        #expect(try TimezoneConfig.zone(ofLinkTarget: target) == expected)
    }

    /// Python's text read: universal newlines.
    @Test func filesAreReadAsPythonReadsText() {
        #expect(PythonText.text(Array("Etc/UTC\r\nX\rY\n".utf8)) == "Etc/UTC\nX\nY\n")
    }
}
