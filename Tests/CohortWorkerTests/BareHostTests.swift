import CohortTestSupport
import CohortWire
import Foundation
import Testing

/// The worker must start on a host with nothing but glibc: no Swift runtime, no libssh2, no
/// Foundation. Proven by running it in a chroot that holds only the worker and the libraries
/// `ldd` says it needs, after checking that those are all C runtime libraries.
@Suite struct BareHostTests {
    @Test(.enabled(if: getuid() == 0, "chroot needs root; the ldd check below still runs"))
    func theWorkerStartsInAChrootHoldingOnlyTheCLibrary() async throws {
        let (hello, errors) = try await BareHost.firstFrame(of: LocalWorker.binary)
        guard case .hello(let facts) = hello else {
            Issue.record("no hello from the worker in a bare chroot: \(errors)")
            return
        }
        #expect(facts.protocolVersion == Wire.protocolVersion)
    }

    @Test func theWorkerNeedsNoSwiftRuntimeNorLibssh2() async throws {
        #expect(try await BareHost.foreignLibraries(of: LocalWorker.binary) == [])
    }
}
