import CohortPlaybook
import Testing

/// The apt module's reading of dpkg and apt: version order as `dpkg --compare-versions`
/// answers it (the rows' third column is its answer on Debian 12), and `dpkg-query` and
/// `apt-cache policy` text recorded on a test host after the apt oracle ran.
@Suite struct AptStateTests {
    @Test(arguments: [
        ("1.0", "1.1", -1), ("1.0~rc1", "1.0", -1), ("1:0.9", "2.0", 1), ("1.0-1", "1.0-1+deb12u1", -1),
        ("1.9.13p3-1+deb12u4", "1.9.13p3-1", 1), ("2.0a", "2.0", 1), ("1.00", "1.0", 0), ("1.0-10", "1.0-9", 1),
        ("1.0~", "1.0~~", 1), ("a", "1", 1), ("1.0+b1", "1.0", 1), ("0:1.0", "1.0", 0), ("1.0.0", "1.0", 1),
        ("3.0pl1-162", "3.0pl1-16", 1), ("1.2-3~bpo12+1", "1.2-3", -1),
    ])
    func versionsOrderAsDpkg(_ a: String, _ b: String, _ expected: Int) {
        #expect(DebianVersion.compare(a, b) == expected)
        #expect(DebianVersion.compare(b, a) == -expected)
    }

    static let dpkg = "cohort-hello\tinstalled\t1.1\ncohort-local\tinstalled\t2.0\ncohort-gone\tconfig-files\t1.0\n"
    static let policy = """
        cohort-hello:
          Installed: 1.1
          Candidate: 1.1
          Version table:
         *** 1.1 500
                500 http://127.0.0.1:44459 ./ Packages
                100 /var/lib/dpkg/status
             1.0 500
                500 http://127.0.0.1:44459 ./ Packages
        cohort-conf:
          Installed: (none)
          Candidate: 1.0
          Version table:
             1.0 500
                500 http://127.0.0.1:44459 ./ Packages
        cohort-local:
          Installed: 2.0
          Candidate: 2.0
          Version table:
         *** 2.0 100
                100 /var/lib/dpkg/status
        cohort-gone:
          Installed: (none)
          Candidate: (none)
          Version table:

        """

    @Test func policyAndStatusAreMerged() {
        let packages = AptState.parse(dpkg: Self.dpkg, policy: Self.policy)
        #expect(packages["cohort-hello"]?.versions == ["1.1", "1.0"])
        #expect(packages["cohort-hello"]?.installedVersion == "1.1")
        #expect(packages["cohort-conf"]?.installed == false)
        #expect(packages["cohort-conf"]?.candidate == "1.0")
        #expect(packages["cohort-local"]?.versions == ["2.0"])
        // Config files left but no version anywhere: python-apt's cache has no such package.
        #expect(packages["cohort-gone"]?.known == false)
        #expect(packages["cohort-gone"]?.hasFiles == true)
    }

    /// What ansible-core's package_status gives for this cache, by its rules (the apt oracle
    /// playbooks check the same decisions against the module itself).
    @Test func packageStatusAsAnsible() throws {
        let packages = AptState.parse(dpkg: Self.dpkg, policy: Self.policy)
        let hello = try #require(packages["cohort-hello"])
        #expect(hello.status(nil, nil) == (true, true, nil, true))
        #expect(hello.status("=", "1.0") == (true, false, "1.0", true))
        #expect(hello.status("=", "1.*") == (true, true, nil, true))
        #expect(hello.status("=", "7.*") == (true, false, nil, true))
        #expect(hello.status(">=", "1.0") == (true, true, nil, true))
        #expect(hello.status(">=", "2") == (true, false, nil, true))
        let conf = try #require(packages["cohort-conf"])
        #expect(conf.status(nil, nil) == (false, false, "1.0", false))
        #expect(conf.status("=", "2.0") == (false, false, nil, false))
    }

    @Test(arguments: [
        ("nginx", "nginx", nil, nil), ("nginx=1.2*", "nginx", "=", "1.2*"), ("nginx>=1.2", "nginx", ">=", "1.2"), ("a=b=c", "a", "=", "b=c"),
    ] as [(String, String, String?, String?)])
    func specsSplitAsAnsible(_ spec: String, _ name: String, _ comparison: String?, _ version: String?) {
        let got = AptState.split(spec)
        #expect(got.name == name && got.comparison == comparison && got.version == version)
    }

    /// package_facts' origin: the Release `Origin` of the installed version's first package
    /// file; "" when dpkg's status file alone has it (as python-apt gave on the same host).
    @Test func packageFactsNameTheOrigin() {
        let files = """
            Package files:
             100 /var/lib/dpkg/status
                 release a=now
             500 http://127.0.0.1:44459 ./ Packages
                 release o=cohort-test,a=test,n=test,l=cohort-test,c=
                 origin 127.0.0.1
            Pinned packages:
            """
        let dpkg = "cohort-hello\t1.1\tall\tmisc\tinstalled\ncohort-local\t2.0\tall\tmisc\tinstalled\nlibc6:amd64\t2.36-9\tamd64\tlibs\tinstalled\ncohort-gone\t1.0\tall\tmisc\tconfig-files\n"
        let policy = Self.policy + "libc6:\n  Installed: 2.36-9\n  Candidate: 2.36-9\n  Version table:\n *** 2.36-9 100\n        100 /var/lib/dpkg/status\n"
        let facts = AptState.packageFacts(dpkg: dpkg, files: files, policy: policy)
        #expect(facts.map(\.name) == ["cohort-hello", "cohort-local", "libc6"])
        #expect(facts.map { $0.details.first { $0.key == "origin" }?.value } == ["cohort-test", "", ""])
        #expect(facts[2].details.map(\.key) == ["name", "version", "arch", "category", "origin", "source"])
        #expect(facts[2].details.map(\.value) == ["libc6", "2.36-9", "amd64", "libs", "", "apt"])
    }

    /// `service --status-all` as ansible-core's regular expression reads it: `[ ? ]` lines and
    /// anything else left out, a name's trailing spaces kept.
    @Test func serviceStatusLinesAsAnsible() {
        let output = " [ - ]  cron\n [ ? ]  hwclock.sh\n [ + ]  procps \nnoise\n[ + ]nospace\n\t[ + ]\tssh\n"
        let got = ServiceStatusList.parse(output)
        #expect(got.map(\.name) == ["cron", "procps ", "ssh"])
        #expect(got.map(\.state) == ["stopped", "running", "running"])
    }
}
