// swift-tools-version:6.1
import PackageDescription

// Dependencies point one way: CLI → Cohort (coordinator) → {CohortSSH, CohortInventory} → CohortCore;
// CohortPlaybook and CohortInventory open vault files through CohortVault.
// Only CohortSSH imports CLibSSH2.
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "Cohort",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "cohort", targets: ["CohortCLI"]),
        .executable(name: "cohort-worker", targets: ["CohortWorker"]),
        .library(name: "Cohort", targets: ["Cohort"]),
        // An example program on the library (docs/library.md).
        .executable(name: "cohort-primes", targets: ["CohortExamplePrimes"]),
        // W5 of bench/run: a million tiny library jobs.
        .executable(name: "cohort-bench-hash", targets: ["CohortBenchHash"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        // -v / -vv diagnostics (connections, keys, authentication, deployment), as ssh -v gives.
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        // SHA-256 fingerprints and HMAC-SHA1 for hashed known_hosts entries.
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
    ],
    targets: [
        // No pkgConfig and no `link` in the module map: CohortSSH links Debian's archives
        // (libssh2.a, libssl.a, libcrypto.a, libz.a) by name, so that every program built on the
        // library, which is its own worker, starts on hosts without libssh2 or OpenSSL.
        .systemLibrary(
            name: "CLibSSH2",
            providers: [.apt(["libssh2-1-dev"])]
        ),
        .target(name: "CohortCore", swiftSettings: swiftSettings),
        // The wire protocol: pure Swift, no Foundation, so the worker links only the stdlib.
        .target(name: "CohortWire", swiftSettings: swiftSettings),
        .target(name: "CohortScheduler", swiftSettings: swiftSettings),
        // Python's values as templates and modules see them (None, int, str, list, an ordered
        // dict, datetime) and their JSON: what the worker shares with the template engine.
        .target(name: "CohortValue", swiftSettings: swiftSettings),
        // Python's `re`, for templates and for the worker's `find`.
        .target(name: "CohortRegex", dependencies: ["CohortValue"], swiftSettings: swiftSettings),
        // Jinja2 as Ansible evaluates it: pure Swift, no IO, no Foundation.
        .target(name: "CohortTemplate", dependencies: ["CohortValue", "CohortRegex"], swiftSettings: swiftSettings),
        // Ansible Vault: the envelope, its keys and its cipher (AES-256-CTR, PBKDF2, HMAC).
        .target(
            name: "CohortVault",
            dependencies: [
                "CohortCore", .product(name: "Crypto", package: "swift-crypto"), .product(name: "_CryptoExtras", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings),
        // Playbooks: loading and checking, the play iterator and the modules' logic; pure.
        .target(
            name: "CohortPlaybook",
            dependencies: [
                "CohortCore", "CohortInventory", "CohortTemplate", "CohortVault", .product(name: "Yams", package: "Yams"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings),
        // The worker links no libssh2 and no Foundation: it must start on a bare host.
        .target(name: "CohortWorkerKit", dependencies: ["CohortWire", "CohortValue", "CohortRegex"], swiftSettings: swiftSettings),
        // Linked with the Swift standard library inside: the host needs no Swift runtime.
        .executableTarget(
            name: "CohortWorker", dependencies: ["CohortWorkerKit"], swiftSettings: swiftSettings,
            linkerSettings: [.unsafeFlags(["-static-stdlib"])]
        ),
        .target(
            name: "CohortSSH",
            dependencies: [
                "CLibSSH2", "CohortCore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings,
            linkerSettings: [":libssh2.a", ":libssl.a", ":libcrypto.a", ":libz.a"].map { .linkedLibrary($0) }
        ),
        .target(
            name: "CohortInventory",
            dependencies: ["CohortCore", "CohortVault", .product(name: "Yams", package: "Yams")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "Cohort",
            dependencies: [
                "CohortCore", "CohortSSH", "CohortInventory", "CohortWire", "CohortScheduler", "CohortWorkerKit", "CohortPlaybook", "CohortTemplate",
                "CohortVault", .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "CohortCLI",
            dependencies: [
                "Cohort", "CohortCore", "CohortInventory", "CohortSSH", "CohortWire", "CohortPlaybook", "CohortTemplate", "CohortScheduler",
                "CohortVault", .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // Library programs are their own workers: build them with `--static-swift-stdlib` (make
        // static) so that they carry the Swift runtime and Foundation inside (docs/library.md).
        .executableTarget(name: "CohortExamplePrimes", dependencies: ["Cohort"], swiftSettings: swiftSettings),
        .executableTarget(
            name: "CohortBenchHash", dependencies: ["Cohort", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings
        ),
        // A library program the tests run over the fleet (Swift jobs that never return).
        .executableTarget(name: "CohortTestJobs", dependencies: ["Cohort"], path: "Tests/CohortTestJobs"),
        // The docs' Swift snippets, verbatim (DocSnippetTests checks): built, so they compile.
        .executableTarget(name: "CohortDocSnippets", dependencies: ["Cohort"], path: "Tests/CohortDocSnippets"),
        .target(name: "CohortTestSupport", dependencies: ["CohortCore", "CohortWire"], path: "Tests/CohortTestSupport"),
        .testTarget(name: "CohortCoreTests", dependencies: ["CohortCore"], swiftSettings: swiftSettings),
        .testTarget(name: "CohortVaultTests", dependencies: ["CohortVault", "CohortCore"], swiftSettings: swiftSettings),
        .testTarget(name: "CohortWireTests", dependencies: ["CohortWire"], swiftSettings: swiftSettings),
        .testTarget(name: "CohortSchedulerTests", dependencies: ["CohortScheduler", "CohortTestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "CohortPlaybookTests", dependencies: ["CohortPlaybook", "CohortTemplate", "CohortCore"], swiftSettings: swiftSettings),
        .testTarget(
            name: "CohortTemplateTests", dependencies: ["CohortTemplate", "CohortPlaybook", "CohortTestSupport"], exclude: ["oracle_render.py"], swiftSettings: swiftSettings),
        .testTarget(name: "CohortWorkerTests", dependencies: ["CohortWire", "CohortValue", "CohortWorkerKit", "CohortTestSupport"], swiftSettings: swiftSettings),
        .testTarget(
            name: "CohortInventoryTests",
            dependencies: ["CohortInventory", "CohortVault", "CohortTestSupport"],
            exclude: ["Fixtures"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CohortSSHTests",
            dependencies: ["CohortSSH", "CohortTestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CohortTests",
            dependencies: ["Cohort", "CohortCore", "CohortInventory", "CohortSSH", "CohortWire", "CohortTestSupport"],
            swiftSettings: swiftSettings
        ),
    ],
    swiftLanguageModes: [.v6]
)
