import CohortPlaybook
import Testing

/// `IniFile` against community.general 12.3.0's own `do_ini`, run on the same text with the
/// same arguments: each row is the file it wrote, its `changed` and its `msg`.
@Suite struct IniFileTests {
    struct Row: Sendable {
        var text: String
        var section: String?
        var option: String?
        var values: [String]
        var noExtraSpaces = false
        var modifyInactive = true
        var expected: String
        var message: String
    }

    static let rows: [Row] = [
        Row(text: "[a]\nx = 1\n", section: "a", option: "x", values: ["2"], expected: "[a]\nx = 2\n", message: "option changed"),
        Row(text: "[a]\r\n;x=1\r\n", section: "a", option: "x", values: ["3"], noExtraSpaces: true, expected: "[a]\nx=3\n", message: "option changed"),
        Row(text: "", section: "s", option: "o", values: ["v"], expected: "\n[s]\no = v\n", message: "section and option added"),
        Row(text: "top=1", section: nil, option: "top", values: ["1"], expected: "top = 1\n", message: "option changed"),
        Row(text: "[a]\nx = 1\nx = 2\n[b]\n", section: "a", option: "x", values: ["2", "3"], expected: "[a]\nx = 3\nx = 2\n[b]\n", message: "option changed"),
        Row(text: "[a]\n# x = 1\n", section: "a", option: "x", values: ["1"], modifyInactive: false, expected: "[a]\nx = 1\n# x = 1\n", message: "option added"),
    ]

    @Test(arguments: rows.indices)
    func editsAsCommunityGeneral(_ index: Int) {
        let row = Self.rows[index]
        var request = IniFile.Request(section: row.section, option: row.option, values: row.values)
        request.noExtraSpaces = row.noExtraSpaces
        request.modifyInactiveOption = row.modifyInactive
        let got = IniFile.edit(IniFile.lines(row.text), request)
        #expect(got.text == row.expected && got.changed && got.message == row.message, "\(got)")
    }
}
