import CohortWorkerKit

#if canImport(Glibc)
import Glibc
#endif

// Restarts in place like a library program's worker, so that both serve the same kinds alike.
exit(WorkerRuntime.deployed(arguments: CommandLine.arguments).run())
