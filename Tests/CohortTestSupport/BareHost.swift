import Foundation
import CohortWire

/// A stand-in for a host that has nothing but the C library: a chroot holding one executable
/// and exactly the shared libraries `ldd` says it loads. A program that starts there needs no
/// Swift runtime, no Foundation, no libssh2 and no OpenSSL on the host.
public enum BareHost {
    /// What any Linux host has: glibc, and the C++ and unwinder runtimes gcc ships with it.
    public static let cRuntime = [
        "linux-vdso", "libc.so", "libm.so", "libdl.so", "libpthread.so", "librt.so", "ld-linux",
        "libgcc_s.so", "libstdc++.so", "libutil.so",
    ]

    /// The shared libraries `binary` loads, per `ldd`: absolute paths, plus the vDSO's name
    /// when `includeVirtual`.
    public static func libraries(of binary: String, includeVirtual: Bool = false) async throws -> [String] {
        let ldd = try await Shell.run("/usr/bin/ldd", [binary])
        guard ldd.status == 0 || ldd.stdout.contains("statically linked") else { throw FleetError("ldd \(binary) failed: \(ldd.stderr)") }
        return ldd.stdout.split(separator: "\n").compactMap { line in
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            if let arrow = words.firstIndex(of: "=>"), arrow + 1 < words.count, words[arrow + 1].hasPrefix("/") { return String(words[arrow + 1]) }
            if let first = words.first, first.hasPrefix("/") { return String(first) }
            return includeVirtual ? words.first.map(String.init) : nil
        }
    }

    /// The libraries `binary` loads that are not part of the C runtime (empty for a program
    /// that starts on a bare host).
    public static func foreignLibraries(of binary: String) async throws -> [String] {
        try await libraries(of: binary, includeVirtual: true).filter { library in !cRuntime.contains { library.contains($0) } }
    }

    /// A fresh chroot directory holding `binary` as `/program` and the libraries it loads; the
    /// caller removes it.
    public static func root(for binary: String) async throws -> String {
        let root = NSTemporaryDirectory() + "cohort-bare-" + UUID().uuidString.prefix(8)
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        for library in try await libraries(of: binary) {
            let target = root + library
            try FileManager.default.createDirectory(atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            // The file itself, not a symlink that would point outside the chroot.
            try FileManager.default.copyItem(atPath: URL(fileURLWithPath: library).resolvingSymlinksInPath().path, toPath: target)
        }
        // Copied by cp, in a process of its own: a write descriptor opened here could leak into a
        // child another test spawns at that moment, and exec would then fail with ETXTBSY.
        let copied = try await Shell.run("/bin/cp", [binary, root + "/program"])
        guard copied.status == 0 else { throw FleetError("cp \(binary): \(copied.stderr)") }
        return root
    }
}

extension BareHost {
    /// Starts `binary arguments` in a bare chroot as a worker and returns the first frame it
    /// writes (its hello), or nil with what it printed on stderr. `withProc` mounts /proc there,
    /// as every real host has it: a Swift program reads its arguments from /proc/self/cmdline.
    public static func firstFrame(of binary: String, _ arguments: [String] = [], withProc: Bool = false) async throws -> (frame: WireMessage?, stderr: String) {
        let root = try await root(for: binary)
        var mounted = false
        defer {
            // Unmounted before anything under the root is removed.
            if mounted { _ = try? Shell.run("/bin/umount", ["-l", root + "/proc"]) }
            try? FileManager.default.removeItem(atPath: root)
        }
        if withProc {
            try FileManager.default.createDirectory(atPath: root + "/proc", withIntermediateDirectories: true)
            let mount = try await Shell.run("/bin/mount", ["-t", "proc", "proc", root + "/proc"])
            guard mount.status == 0 else { throw FleetError("mount proc: \(mount.stderr)") }
            mounted = true
        }
        let child = try ChildProcess("/usr/sbin/chroot", [root, "/program"] + arguments)
        return try await offPool {
            var decoder = FrameDecoder()
            var frame: WireMessage?
            while frame == nil {
                let bytes = ChildProcess.readSome(child.stdoutFD)
                if bytes.isEmpty { break }
                decoder.feed(bytes)
                frame = try decoder.next()
            }
            child.closeStdin()
            let status = child.wait()
            let errors = String(decoding: ChildProcess.readAll(child.stderrFD), as: UTF8.self)
            return (frame, frame == nil ? "exit \(status): \(errors)" : errors)
        }
    }
}
