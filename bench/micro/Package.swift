// swift-tools-version:6.1
// Micro-benchmarks of the pure hot paths (frame codec, scheduler), with ordo-one/benchmark.
// A package of its own, so that `make test` never builds the benchmark framework:
//   cd bench/micro && swift package benchmark      (or: make bench-micro)
import PackageDescription

let package = Package(
    name: "CohortMicro",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        // The project's own sources, through symlinks: these two modules depend on nothing.
        .target(name: "CohortWire", path: "Sources/CohortWire"),
        .target(name: "CohortScheduler", path: "Sources/CohortScheduler"),
        .executableTarget(
            name: "CohortMicro",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                "CohortWire", "CohortScheduler",
            ],
            path: "Benchmarks/CohortMicro",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        )
    ]
)
