// swift-tools-version:6.1
// libFuzzer targets for every parser Cohort reads untrusted text or bytes with. A package of
// its own (the project's sources through symlinks), so that `make test` never builds it:
//   make fuzz             (each target 60 s, corpora in fuzz/corpus/TARGET, kept in git)
import PackageDescription

let package = Package(
    name: "CohortFuzz",
    dependencies: [
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
    ],
    targets: [
        .target(name: "CohortCore", path: "Sources/CohortCore"),
        .target(name: "CohortWire", path: "Sources/CohortWire"),
        .target(name: "CohortTemplate", path: "Sources/CohortTemplate"),
        .target(name: "CohortInventory", dependencies: ["CohortCore", .product(name: "Yams", package: "Yams")], path: "Sources/CohortInventory"),
        .target(
            name: "CohortPlaybook",
            dependencies: ["CohortCore", "CohortInventory", "CohortTemplate", .product(name: "Yams", package: "Yams"), .product(name: "Crypto", package: "swift-crypto")],
            path: "Sources/CohortPlaybook"),
        // ssh_config, ProxyJump and known_hosts: the text side of CohortSSH, without libssh2.
        .target(name: "CohortSSHText", dependencies: ["CohortCore", .product(name: "Crypto", package: "swift-crypto")], path: "Sources/CohortSSHText"),
        // GNU parallel's argument syntax, its input product and replacement strings: the pure
        // part of the Cohort module's map.
        .target(name: "CohortParallelText", dependencies: ["CohortCore"], path: "Sources/CohortParallelText"),
        .executableTarget(
            name: "CohortFuzz",
            dependencies: ["CohortCore", "CohortWire", "CohortTemplate", "CohortInventory", "CohortPlaybook", "CohortSSHText", "CohortParallelText"],
            path: "Harness",
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]),
    ]
)
