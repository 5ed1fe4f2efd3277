import CohortCore
import CohortWire
import Foundation
import Testing

@testable import Cohort

/// What a hostile host could send a fetch, checked without any host: names that climb out,
/// absolute paths, names with `/` or NUL, a symlink planted and then written "through".
@Suite struct FetchSafetyTests {
    static func scratch() throws -> String {
        let dir = NSTemporaryDirectory() + "cohort-fetch-safety-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    @Test func unsafeEntriesAreRecognised() {
        for components in [[".."], ["a", ".."], ["/etc"], ["a/b"], ["a\u{0}b"], [""], ["."]] {
            #expect(!FileEntry(components: components, kind: .file, mode: 0o644).isSafe, "\(components)")
        }
        #expect(FileEntry(components: ["a", "b c", "é"], kind: .file, mode: 0o644).isSafe)
        #expect(!FileEntry(components: ["l"], kind: .symlink, mode: 0o777, linkTarget: "x\u{0}y").isSafe)
    }

    @Test func remotePathsMapBelowTheHostFolder() throws {
        #expect(try FileFetch.components(of: "/etc/hosts") == ["etc", "hosts"])
        #expect(try FileFetch.components(of: "~/logs/./a.log") == ["logs", "a.log"])
        #expect(try FileFetch.components(of: "/var/log/../tmp/x") == ["var", "tmp", "x"])
        #expect(throws: CohortError.self) { try FileFetch.components(of: "/../../etc/passwd") }
        #expect(throws: CohortError.self) { try FileFetch.components(of: "/") }
    }

    @Test func theLocalFolderRefusesEveryEscape() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let outside = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: outside) }
        let root = try LocalFolder.open(dir)
        defer { root.close() }
        for bad in [["h1", ".."], ["h1", "a/b"], ["h1", "a\u{0}b"], ["..", "x"]] {
            #expect(throws: CohortError.self, "\(bad)") { try root.folder(bad) }
        }
        #expect(throws: CohortError.self) { try root.landing("../escape") }
        #expect(throws: CohortError.self) { try root.landing("a/b") }
        // A link the host planted (a fetched symlink) is never written through.
        let host = try root.folder(["h1"])
        defer { host.close() }
        try host.symlink("planted", to: outside)
        let through = #expect(throws: CohortError.self) { try root.folder(["h1", "planted"]) }
        #expect(through?.message.contains("not a real directory") == true, "\(String(describing: through))")
        #expect(try FileManager.default.contentsOfDirectory(atPath: outside).isEmpty)
        // A file written the normal way lands whole, under its own name only.
        let landing = try host.landing("ok.txt")
        try landing.write(Array("fine\n".utf8))
        try landing.land(mode: 0o640)
        #expect(try String(contentsOfFile: dir + "/h1/ok.txt", encoding: .utf8) == "fine\n")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir + "/h1").sorted() == ["ok.txt", "planted"])
    }
}
