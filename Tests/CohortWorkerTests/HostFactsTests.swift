import CohortTemplate
import Testing

@testable import CohortWorkerKit

/// Facts the worker reads from files, on given text (rows from ansible-core 2.19's own
/// collectors run on the same text).
@Suite struct HostFactsTests {
    @Test func dnsIsResolvConfAsAnsibleReadsIt() throws {
        let text = "# c\n; c\nnameserver 10.0.0.1 10.0.0.2\nnameserver 10.0.0.3\ndomain example.test\nsearch a.test b.test\nsearch c.test\n"
            + "sortlist 10.0.0.0/255.0.0.0\noptions ndots:2 rotate timeout: edns0\n\n  \nbogus x\n"
        let expected = try Value(json: 
            #"{"nameservers": ["10.0.0.1", "10.0.0.2", "10.0.0.3"], "domain": "example.test", "search": ["c.test"], "sortlist": ["10.0.0.0/255.0.0.0"], "options": {"ndots": "2", "rotate": true, "timeout": true, "edns0": true}}"#)
        #expect(HostFacts.dns(text) == expected)
        #expect(HostFacts.dns("") == .dict(Dict()))
    }

    @Test func netmasksAndNetworks() {
        #expect(NetworkFacts.mask4(24) == "255.255.255.0" && NetworkFacts.mask4(8) == "255.0.0.0" && NetworkFacts.mask4(32) == "255.255.255.255")
        #expect(NetworkFacts.mask4(0) == "0.0.0.0" && NetworkFacts.mask4(20) == "255.255.240.0")
        #expect(NetworkFacts.network4("192.0.2.77", "255.255.255.192") == "192.0.2.64")
        #expect(NetworkFacts.scope(of: "::1") == "host" && NetworkFacts.scope(of: "fe80::1") == "link" && NetworkFacts.scope(of: "fd00::2") == "global")
        #expect(NetworkFacts.interfaceName("eth0:1") == "eth0")
    }
}
