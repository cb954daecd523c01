import CairnCore
import CairnPipelines
import Synchronization

/// The pipeline service, bound after it is built. The wiring has a genuine cycle: the service
/// needs the gate, the gate moves aliases through the registry store, and that store tells the
/// triggers (which dispatch to the service) about each change. Trigger sources hold this
/// reference; `buildApplication` binds it before any service runs, so no event meets it unbound.
final class PipelineServiceReference: PipelineDispatching, PipelineTriggerRegistry {
    private let service = Mutex<PipelineService?>(nil)

    func bind(_ service: PipelineService) {
        self.service.withLock { $0 = service }
    }

    private func bound() throws -> PipelineService {
        // Unbound is a wiring mistake; as an internal error the event stays pending for replay.
        guard let service = service.withLock({ $0 }) else {
            throw CairnError(.internalError, "The pipeline service is not running yet.")
        }
        return service
    }

    func dispatch(_ event: TriggerEvent) async throws -> DispatchOutcome {
        try await bound().dispatch(event)
    }

    func pipelineTriggers() async throws -> [PipelineTriggers] {
        try await bound().pipelineTriggers()
    }
}
