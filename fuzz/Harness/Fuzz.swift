import CohortCore
import Foundation

@testable import CohortInventory
@testable import CohortParallelText
@testable import CohortPlaybook
@testable import CohortSSHText
@testable import CohortTemplate
@testable import CohortWire

/// One libFuzzer entry point for every target, chosen by `COHORT_FUZZ_TARGET` (fuzz/run sets
/// it). Each target feeds the input to one parser and accepts exactly two outcomes: a value or
/// a typed error. A crash, a hang (libFuzzer's -timeout) or memory past -rss_limit_mb is a bug.
let target = ProcessInfo.processInfo.environment["COHORT_FUZZ_TARGET"] ?? ""

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let text = String(decoding: bytes, as: UTF8.self)
    switch target {
    case "frame": frame(bytes)
    case "ini": inventory(text, INIInventoryParser.parse)
    case "yaml": inventory(text, YAMLInventoryParser.parse)
    case "toml": inventory(text, TOMLInventoryParser.parse)
    case "sshconfig": sshConfig(text)
    case "knownhosts": knownHosts(text)
    case "template": template(text)
    case "playbook": playbook(text)
    case "parallel": parallel(text)
    default: fatalError("COHORT_FUZZ_TARGET must be one of: frame ini yaml toml sshconfig knownhosts template playbook parallel")
    }
    return 0
}

/// Bytes in any split: the decoder must give frames or a `WireError`, never trap.
func frame(_ bytes: [UInt8]) {
    var decoder = FrameDecoder()
    let cut = bytes.first.map { Int($0) % (bytes.count + 1) } ?? 0
    decoder.feed(bytes[..<cut])
    _ = try? decoder.next()
    decoder.feed(bytes[cut...])
    while let _ = try? decoder.next() {}
}

func inventory(_ text: String, _ parse: (String, String, inout Inventory) throws(CohortError) -> Void) {
    var inventory = Inventory()
    do { try parse(text, "fuzz", &inventory) } catch { _ = error.description }
    for host in inventory.hosts.keys.prefix(8) { _ = inventory.variables(of: host) }
}

func sshConfig(_ text: String) {
    guard let config = try? SSHConfig(parsing: text, file: "fuzz") else { return }
    for host in ["web1", "bastion", "10.0.0.1", "x"] { _ = try? config.resolve(host: host) }
    _ = try? JumpHost.chain(text)
}

func knownHosts(_ text: String) {
    let known = KnownHosts(parsing: text, file: "fuzz")
    let key = HostKey(blob: Array("\u{0}\u{0}\u{0}\u{b}ssh-ed25519\u{0}\u{0}\u{0} 01234567890123456789012345678901".utf8))
    if let key { _ = known.verdict(for: key, host: "web1", port: 22) }
    _ = known.knownTypes(host: "web1", port: 2222)
}

func template(_ text: String) {
    guard let parsed = try? Template(text) else { return }
    _ = try? parsed.render(["items": .list([.int(1), .string("a")]), "name": .string("x")])
}

func playbook(_ text: String) {
    let loader = PlaybookLoader(read: { _ in text }, exists: { _ in false })
    _ = try? loader.load(path: "site.yml")
}

/// `cohort map`'s words, one per line: the `:::` / `::::` split, the input product (file
/// sources are not opened; stdin gives two lines) and the first tasks' commands rendered.
func parallel(_ text: String) {
    let words = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    guard let syntax = try? ParallelSyntax(arguments: words) else { return }
    let command = CommandTemplate(syntax.command)
    guard !syntax.sources.contains(where: { if case .file = $0 { return true } else { return false } }),
        let inputs = try? syntax.inputs(stdin: { ParallelSyntax.lines("a b\nc.d/e\n") })
    else {
        _ = command.render(inputs: ["x"], sequence: 1, slot: 1)
        return
    }
    for index in inputs.indices.prefix(8) {
        _ = command.render(inputs: inputs[index], sequence: index + 1, slot: index % 3 + 1)
    }
}

/// `COHORT_FUZZ_WRITE_SEEDS=DIR`: writes one encoded frame of each kind there (the frame
/// target's first corpus), then libFuzzer goes on as usual.
@_cdecl("LLVMFuzzerInitialize")
public func initialize(_ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>) -> Int32 {
    guard let dir = ProcessInfo.processInfo.environment["COHORT_FUZZ_WRITE_SEEDS"] else { return 0 }
    let messages: [WireMessage] = [
        .hello(WorkerFacts(protocolVersion: Wire.protocolVersion, cores: 2, os: "linux", arch: "x86_64", hostname: "h1", pid: 42)),
        .welcome(version: Wire.protocolVersion),
        .task(TaskFrame(id: 7, attempt: 1, kind: "shell", payload: Array("echo {}".utf8))),
        .output(taskID: 7, stream: 1, bytes: Array("out\n".utf8)),
        .result(ResultFrame(taskID: 7, attempt: 1, outcome: .exited, code: 0, message: "", payload: [1, 2], durationNanos: 99)),
        .heartbeat(sequence: 3), .cancel(taskID: 7, graceMillis: 500), .shutdown(reason: "done"),
        .data(taskID: 7, bytes: [0, 255]), .credit(taskID: 7, bytes: 65536),
    ]
    for (index, message) in messages.enumerated() {
        FileManager.default.createFile(atPath: "\(dir)/seed-\(index + 1)", contents: Data(Wire.encode(message)))
    }
    FileManager.default.createFile(atPath: "\(dir)/seed-all", contents: Data(messages.flatMap(Wire.encode)))
    return 0
}

/// SwiftPM links an executable's entry point as `<target>_main` (`main` is defined to it), so
/// libFuzzer's own `main` is not the one that runs: this hands the arguments to its driver.
@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzerDriver(
    _ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ body: @convention(c) (UnsafePointer<UInt8>, Int) -> Int32
) -> Int32

@_cdecl("CohortFuzz_main")
public func cohortFuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> Int32 {
    var count = argc
    var arguments: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = argv
    return runFuzzerDriver(&count, &arguments, fuzz)
}
