import CohortPlaybook
import Testing

/// `unarchive`'s tar decisions, with rows from ansible-core 2.19's own `TgzArchive` and
/// `TarArchive` classes run on the same input (a stub module answering their commands).
@Suite struct TarArchiveTests {
    static func options() -> TarArchive.Options {
        var options = TarArchive.Options(dest: "/d", src: "/tmp/s.tgz", flag: "-z")
        options.extraOptions = ["--strip-components=1"]
        options.owner = "bob"
        options.group = "a b"
        options.keepNewer = true
        options.excludes = ["*.log", "tree/sub"]
        return options
    }

    @Test func commandsAreTheModulesWordForWord() {
        #expect(TarArchive.command("list", Self.options()) == [
            "tar", "--list", "-C", "/d", "-z", "--show-transformed-names", "--strip-components=1", "--exclude=*.log", "--exclude=tree/sub", "-f", "/tmp/s.tgz",
        ])
        #expect(TarArchive.command("diff", Self.options()) == [
            "tar", "--diff", "-C", "/d", "-z", "--show-transformed-names", "--strip-components=1", "--owner=bob", "--group='a b'", "--keep-newer-files",
            "--exclude=*.log", "--exclude=tree/sub", "-f", "/tmp/s.tgz",
        ])
        var plain = TarArchive.Options(dest: "/d", src: "/tmp/s.tar", flag: "")
        plain.includes = ["tree/a.txt"]
        #expect(TarArchive.command("diff", plain) == ["tar", "--diff", "-C", "/d", "-f", "/tmp/s.tar", "tree/a.txt"])
    }

    @Test func listedNamesAreDecodedAndRelative() {
        let listing = Array("tree/a.txt\n/abs/x\ntree/caf\\303\\251.txt\ntree/skip.log\ntree/sub/b\n".utf8)
        let names = TarArchive.names(listing) { $0.hasSuffix(".log") }
        #expect(names == ["tree/a.txt", "abs/x", "tree/café.txt", "tree/sub/b"])
        #expect(TarArchive.topFolders(names) == ["tree", "abs"])
    }

    @Test func diffLinesSayWhatDiffers() {
        let out = "tree/a.txt: Mod time differs\ntree/b: Uid differs\ntree/c: Gid differs\ntree/d: Mode differs\n"
        let err = "tar: tree/e: Warning: Cannot stat: No such file or directory\ntar: : Warning: Cannot stat: No such file or directory\n"
        // Owner and group set: their differences do not count; no mode: a mode difference does.
        #expect(TarArchive.differences(out: out, err: err, runUID: 0, owner: true, group: true, mode: false) == [
            "tree/a.txt: Mod time differs", "tree/d: Mode differs", "tar: tree/e: Warning: Cannot stat: No such file or directory",
        ])
        // As root with a mode and no owner: the Uid difference counts, the mode one does not.
        #expect(TarArchive.differences(out: "tree/b: Uid differs\ntree/d: Mode differs\n", err: "", runUID: 0, owner: false, group: false, mode: true)
            == ["tree/b: Uid differs"])
        // Not root: owners cannot differ in a way that matters.
        #expect(TarArchive.differences(out: "tree/b: Uid differs\n", err: "", runUID: 1000, owner: false, group: false, mode: false).isEmpty)
    }
}
