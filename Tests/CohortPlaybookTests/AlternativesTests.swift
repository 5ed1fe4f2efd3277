import CohortPlaybook
import Testing

/// `AlternativesDisplay.parse` against community.general 12.3.0's `alternatives` module's own
/// `parse()`: each row is what it read from the same text (Debian 12's update-alternatives
/// for `editor` and `pager`, and texts made to reach its other branches).
@Suite struct AlternativesTests {
    static func summary(_ d: AlternativesDisplay) -> String {
        var parts = [d.mode ?? "None", d.currentPath ?? "None", d.currentLink ?? "None"]
        for path in d.order {
            let a = d.alternatives[path]!
            let followers = a.subcommands.map { "\($0.name)=\($0.path)>\($0.link ?? "None")" }.joined(separator: ",")
            parts.append("\(path):\(a.priority):\(a.family):[\(followers)]")
        }
        return parts.joined(separator: " | ")
    }

    @Test(arguments: [
        ("editor", "editor - auto mode\n  link best version is /usr/bin/vim.basic\n  link currently points to /usr/bin/vim.basic\n  link editor is /usr/bin/editor\n  slave editor.1.gz is /usr/share/man/man1/editor.1.gz\n  slave editor.da.1.gz is /usr/share/man/da/man1/editor.1.gz\n  slave editor.de.1.gz is /usr/share/man/de/man1/editor.1.gz\n  slave editor.fr.1.gz is /usr/share/man/fr/man1/editor.1.gz\n  slave editor.it.1.gz is /usr/share/man/it/man1/editor.1.gz\n  slave editor.ja.1.gz is /usr/share/man/ja/man1/editor.1.gz\n  slave editor.pl.1.gz is /usr/share/man/pl/man1/editor.1.gz\n  slave editor.ru.1.gz is /usr/share/man/ru/man1/editor.1.gz\n  slave editor.tr.1.gz is /usr/share/man/tr/man1/editor.1.gz\n/bin/ed - priority -100\n  slave editor.1.gz: /usr/share/man/man1/ed.1.gz\n/usr/bin/vim.basic - priority 30\n  slave editor.1.gz: /usr/share/man/man1/vim.1.gz\n  slave editor.da.1.gz: /usr/share/man/da/man1/vim.1.gz\n  slave editor.de.1.gz: /usr/share/man/de/man1/vim.1.gz\n  slave editor.fr.1.gz: /usr/share/man/fr/man1/vim.1.gz\n  slave editor.it.1.gz: /usr/share/man/it/man1/vim.1.gz\n  slave editor.ja.1.gz: /usr/share/man/ja/man1/vim.1.gz\n  slave editor.pl.1.gz: /usr/share/man/pl/man1/vim.1.gz\n  slave editor.ru.1.gz: /usr/share/man/ru/man1/vim.1.gz\n  slave editor.tr.1.gz: /usr/share/man/tr/man1/vim.1.gz\n", [:], "auto | /usr/bin/vim.basic | /usr/bin/editor | /usr/bin/vim.basic:30::[editor.1.gz=/usr/share/man/man1/vim.1.gz>/usr/share/man/man1/editor.1.gz,editor.da.1.gz=/usr/share/man/da/man1/vim.1.gz>/usr/share/man/da/man1/editor.1.gz,editor.de.1.gz=/usr/share/man/de/man1/vim.1.gz>/usr/share/man/de/man1/editor.1.gz,editor.fr.1.gz=/usr/share/man/fr/man1/vim.1.gz>/usr/share/man/fr/man1/editor.1.gz,editor.it.1.gz=/usr/share/man/it/man1/vim.1.gz>/usr/share/man/it/man1/editor.1.gz,editor.ja.1.gz=/usr/share/man/ja/man1/vim.1.gz>/usr/share/man/ja/man1/editor.1.gz,editor.pl.1.gz=/usr/share/man/pl/man1/vim.1.gz>/usr/share/man/pl/man1/editor.1.gz,editor.ru.1.gz=/usr/share/man/ru/man1/vim.1.gz>/usr/share/man/ru/man1/editor.1.gz,editor.tr.1.gz=/usr/share/man/tr/man1/vim.1.gz>/usr/share/man/tr/man1/editor.1.gz]"),
        ("pager", "pager - auto mode\n  link best version is /usr/bin/less\n  link currently points to /usr/bin/less\n  link pager is /usr/bin/pager\n  slave pager.1.gz is /usr/share/man/man1/pager.1.gz\n/bin/more - priority 50\n  slave pager.1.gz: /usr/share/man/man1/more.1.gz\n/usr/bin/less - priority 77\n  slave pager.1.gz: /usr/share/man/man1/less.1.gz\n", [:], "auto | /usr/bin/less | /usr/bin/pager | /bin/more:50::[pager.1.gz=/usr/share/man/man1/more.1.gz>/usr/share/man/man1/pager.1.gz] | /usr/bin/less:77::[pager.1.gz=/usr/share/man/man1/less.1.gz>/usr/share/man/man1/pager.1.gz]"),
        ("manual, a follower without a path, a family", "cohort - manual mode\n  link best version is /usr/bin/tac\n  link currently points to /usr/bin/cat\n  link cohort is /usr/local/bin/cohort\n  slave cohort.conf is /usr/local/etc/cohort.conf\n/usr/bin/cat - family cats priority 10\n  slave cohort.conf: /etc/debian_version\n/usr/bin/tac - priority 20\n  slave cohort.conf: (null)\n", [:], "manual | /usr/bin/cat | /usr/local/bin/cohort | /usr/bin/cat:10:cats:[cohort.conf=/etc/debian_version>/usr/local/etc/cohort.conf] | /usr/bin/tac:20::[]"),
        ("RHEL wording (status is, follower)", "cohort - status is manual.\n link currently points to /usr/bin/cat\n link cohort is /usr/local/bin/cohort\n follower cohort.conf is /usr/local/etc/cohort.conf\n/usr/bin/cat - family cats priority 10\n follower cohort.conf: /etc/debian_version\nCurrent `best' version is /usr/bin/cat.\n", [:], "manual | /usr/bin/cat | /usr/local/bin/cohort | /usr/bin/cat:10:cats:[cohort.conf=/etc/debian_version>/usr/local/etc/cohort.conf]"),
        ("no follower links: the task's", "cohort - auto mode\n  link currently points to /usr/bin/cat\n/usr/bin/cat - priority 10\n  slave cohort.conf: /etc/debian_version\n", ["cohort.conf": "/given/link"], "auto | /usr/bin/cat | None | /usr/bin/cat:10::[cohort.conf=/etc/debian_version>/given/link]"),
        ("no mode line", "nothing here\n/usr/bin/cat - priority 10\n", [:], "None | None | None"),
        ("empty", "", [:], "None | None | None"),
        ("a path listed twice keeps the last", "g - auto mode\n/usr/bin/cat - priority 10\n/usr/bin/cat - priority 30\n", [:], "auto | None | None | /usr/bin/cat:30::[]"),
    ])
    func readsAsTheModule(_ name: String, _ text: String, _ given: [String: String], _ expected: String) throws {
        #expect(Self.summary(try AlternativesDisplay.parse(text, given: given)) == expected, "\(name)")
    }

    /// Python holds any priority; past Int's range it is an error here, never a trap.
    @Test func aHugePriorityIsAnError() {
        #expect(throws: (any Error).self) { try AlternativesDisplay.parse("g - auto mode\n/usr/bin/cat - priority 99999999999999999999999\n") }
    }
}
