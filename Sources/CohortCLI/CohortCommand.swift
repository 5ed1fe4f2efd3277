import ArgumentParser
import Cohort
import CohortCore
import Foundation

/// The root command. Argument parsing and printing only: behaviour lives in the Cohort library.
struct CohortCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cohort",
        abstract: "A distributed process cluster over SSH: ad-hoc fan-out, playbooks and task maps.",
        discussion: """
            Exit codes: 0 all ok; 1 a command failed on some host; 2 some host unreachable or lost; \
            3 refused for security (host key, authentication); 4 invalid input or usage (nothing ran).
            """,
        version: "cohort \(CohortVersion.string)",
        subcommands: [RunCommand.self, MapCommand.self, CopyCommand.self, FetchCommand.self, PlayCommand.self, CacheCommand.self, InventoryCommand.self]
    )
}

/// `cohort map`'s input words (from the first `:::` or `::::` on) are kept away from the
/// argument parser, whose cost grows with the square of the argument count (10,000 inputs
/// took 38 s to parse); `MapCommand` takes them back from here. `cohort run`'s remote command
/// (after the first `--`) is kept away too, so that options are parsed anywhere before it and
/// nothing after it is ever taken for an option.
enum CommandLineSplit {
    static let all = Array(CommandLine.arguments.dropFirst())
    private static let sourcesStart: Int? = all.first == "map" ? all.firstIndex { ParallelSyntax.markers.contains($0) } : nil
    private static let runTerminator: Int? = all.first == "run" ? all.firstIndex(of: "--") : nil
    static var parsed: [String] {
        if let runTerminator { return Array(all[..<runTerminator]) }
        return sourcesStart.map { Array(all[..<$0]) } ?? all
    }
    static var mapSources: [String] { sourcesStart.map { Array(all[$0...]) } ?? [] }
    /// The words after `cohort run ... --`; nil when there was no `--`.
    static var runCommand: [String]? { runTerminator.map { Array(all[($0 + 1)...]) } }
}

@main
enum Main {
    /// Leaves through `_exit` after flushing, so that no atexit handler (libcrypto's cleanup
    /// among them) can run while a library thread is still at work.
    static func exit(_ code: Int32) -> Never {
        fflush(nil)
        _exit(code)
    }

    static func main() async {
        defer { exit(0) }
        ProcessLimits.raiseOpenFiles()
        do {
            var command = try CohortCommand.parseAsRoot(CommandLineSplit.parsed)
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let error as CohortError {
            Out.write(Array("cohort: \(error.shown)\n".utf8), toStderr: true)
            Self.exit(CohortExitCode(for: error).rawValue)
        } catch let code as ExitCode {
            Self.exit(code.rawValue)
        } catch {
            // Help and version requests exit 0; every usage error is exit 4, as documented.
            let message = CohortCommand.fullMessage(for: error)
            if CohortCommand.exitCode(for: error) == .success {
                print(message)
                Self.exit(0)
            }
            Out.write(Array("cohort: \(message)\n".utf8), toStderr: true)
            Self.exit(CohortExitCode.invalidInput.rawValue)
        }
    }
}
