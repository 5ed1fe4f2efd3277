import CohortTestSupport
import CohortWire
import Foundation
import Testing

/// The worker must start on a host with nothing but glibc: no Swift runtime, no libssh2, no
/// Foundation. Proven by running it in a chroot that holds only the worker and the libraries
/// `ldd` says it needs, after checking that those are all C runtime libraries.
@Suite struct BareHostTests {
    static let allowed = ["linux-vdso", "libc.so", "libm.so", "libdl.so", "libpthread.so", "librt.so", "ld-linux", "libgcc_s.so", "libstdc++.so", "libutil.so"]

    @Test(.enabled(if: getuid() == 0, "chroot needs root; the ldd check below still runs"))
    func theWorkerStartsInAChrootHoldingOnlyTheCLibrary() async throws {
        let root = NSTemporaryDirectory() + "cohort-bare-" + UUID().uuidString.prefix(8)
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        for library in try Self.libraries() {
            let target = root + library
            try FileManager.default.createDirectory(atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            // The file itself, not a symlink that would point outside the chroot.
            try FileManager.default.copyItem(atPath: URL(fileURLWithPath: library).resolvingSymlinksInPath().path, toPath: target)
        }
        // Copied by cp, in a process of its own: a write descriptor opened here could leak into a
        // child another test spawns at that moment, and exec would then fail with ETXTBSY.
        let copied = try await Shell.run("/bin/cp", [LocalWorker.binary, root + "/cohort-worker"])
        try #require(copied.status == 0, "\(copied.stderr)")
        let child = try ChildProcess("/usr/sbin/chroot", [root, "/cohort-worker"])
        var decoder = FrameDecoder()
        var hello: WireMessage?
        while hello == nil {
            let bytes = ChildProcess.readSome(child.stdoutFD)
            if bytes.isEmpty { break }
            decoder.feed(bytes)
            hello = try decoder.next()
        }
        child.closeStdin()
        let status = child.wait()
        let errors = String(decoding: ChildProcess.readAll(child.stderrFD), as: UTF8.self)
        guard case .hello(let facts) = hello else {
            Issue.record("no hello from the worker in a bare chroot (exit \(status)): \(errors)")
            return
        }
        #expect(facts.protocolVersion == Wire.protocolVersion)
    }

    @Test func theWorkerNeedsNoSwiftRuntimeNorLibssh2() throws {
        for library in try Self.libraries(includeVirtual: true) {
            #expect(Self.allowed.contains { library.contains($0) }, "the worker needs \(library)")
        }
    }

    /// Absolute paths of the shared libraries the worker loads, per `ldd`.
    static func libraries(includeVirtual: Bool = false) throws -> [String] {
        let ldd = try Shell.run("/usr/bin/ldd", [LocalWorker.binary])
        try #require(ldd.status == 0 || ldd.stdout.contains("statically linked"), "ldd failed: \(ldd.stderr)")
        return ldd.stdout.split(separator: "\n").compactMap { line in
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            if let arrow = words.firstIndex(of: "=>"), arrow + 1 < words.count, words[arrow + 1].hasPrefix("/") { return String(words[arrow + 1]) }
            if let first = words.first, first.hasPrefix("/") { return String(first) }
            return includeVirtual ? words.first.map(String.init) : nil
        }
    }
}
