import CohortWorkerKit

#if canImport(Glibc)
import Glibc
#endif

exit(WorkerRuntime().run())
