import CohortPlaybook
import Testing

@testable import Cohort

/// The loader accepts what `ModuleSpec.all` names; the executor runs what the registry holds.
/// A module in one and not the other would pass validation and fail every host at run time.
@Suite struct ModuleRegistryTests {
    @Test func everyModuleTheLoaderAcceptsHasAnImplementation() {
        let run = Set(ModuleSpec.all.filter { $0.value.placement != .load }.keys)
        let implemented = Set(ModuleRegistry.implementations.keys)
        #expect(run.subtracting(implemented).isEmpty, "specs without an implementation: \(run.subtracting(implemented).sorted())")
        #expect(implemented.subtracting(run).isEmpty, "implementations without a spec (or only replaced at load): \(implemented.subtracting(run).sorted())")
        #expect(run.count >= 24)
    }

    @Test func modulesThatRenderThemselvesRunOnTheCoordinator() {
        for (name, spec) in ModuleSpec.all where spec.rendersItself {
            #expect(spec.placement == .coordinator, "\(name)")
        }
    }
}
