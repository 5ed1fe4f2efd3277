import CohortPlaybook
import Testing

/// `AptSources` against ansible-core 2.19's own `SourcesList._suggest_filename` and `_parse`:
/// each row here is what those functions gave for the same line.
@Suite struct AptSourcesTests {
    @Test(arguments: [
        ("deb [trusted=yes] http://127.0.0.1:33755/ ./", "127_0_0_1_33755.list"),
        ("deb http://user:pw@127.0.0.1:3/x y z", "127_0_0_1_3_x.list"),
        ("deb-src https://deb.example.org/debian bookworm main", "deb_example_org_debian.list"),
        ("deb [arch=amd64 signed-by=/k.gpg] http://apt.example.com:8080/repo stable main", "apt_example_com_8080_repo.list"),
        ("deb file:/srv/repo ./", "file_srv_repo.list"),
        ("deb http://ünicode.example/ x", "nicode_example.list"),
    ])
    func filesAreNamedAsAnsible(_ line: String, _ expected: String) {
        #expect(AptSources.suggestedFile(line, filename: nil) == expected)
    }

    @Test(arguments: [
        ("#deb http://x/ y z", true, false, "deb http://x/ y z", ""),
        ("deb   http://x/   y z # note", true, true, "deb http://x/ y z", "note"),
        ("   # just a comment", false, false, "just a comment", ""),
        ("", false, true, "", ""),
        ("deb-src\thttp://x y", true, true, "deb-src http://x y", ""),
        ("rpm http://x", false, true, "rpm http://x", ""),
        ("#  # x", false, false, "", "x"),
        ("deb http://x y#z", true, true, "deb http://x y", "z"),
    ])
    func linesParseAsAnsible(_ line: String, _ valid: Bool, _ enabled: Bool, _ source: String, _ comment: String) {
        let got = AptSources.parse(line)
        #expect(got.valid == valid && got.enabled == enabled && got.source == source && got.comment == comment)
    }

    /// A disabled copy of the source is enabled in place (the file rewritten as the module
    /// writes it); removing pops the line; a file left without lines is no longer dumped.
    @Test func editsRewriteTheFilesAsTheModule() throws {
        var sources = AptSources([("/etc/apt/sources.list.d/extra.list", "#deb http://127.0.0.1:1/ ./\n\n#   a comment\ndeb-src   http://127.0.0.1:1/  ./ # old\n")])
        try sources.add("deb http://127.0.0.1:1/ ./", filename: nil)
        #expect(sources.dump() == ["/etc/apt/sources.list.d/extra.list": "deb http://127.0.0.1:1/ ./\n\n# a comment\ndeb-src http://127.0.0.1:1/ ./ # old\n"])
        #expect(sources.newRepositories.isEmpty)
        try sources.add("deb http://127.0.0.1:2/ ./", filename: "two")
        #expect(sources.dump()["/etc/apt/sources.list.d/two.list"] == "deb http://127.0.0.1:2/ ./\n")
        try sources.remove("deb http://127.0.0.1:2/ ./")
        #expect(sources.dump()["/etc/apt/sources.list.d/two.list"] == nil)
        #expect(throws: AptSources.EditError.invalid("rpm http://x ")) { try sources.add("rpm http://x # c", filename: nil) }
    }
}
