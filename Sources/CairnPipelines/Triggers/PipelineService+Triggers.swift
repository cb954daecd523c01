import CairnCore
import CairnStore
import Logging

/// The engine's pipelines table is the trigger sources' registry: each registered pipeline's
/// spec is read again on each pass, so a `schedule` or `triggers:` edited since the last
/// `cairn pipeline run` counts without re-registering.
extension PipelineService: PipelineTriggerRegistry {
    public func pipelineTriggers() async throws -> [PipelineTriggers] {
        var result: [PipelineTriggers] = []
        for pipeline in try await store.listPipelines() {
            do {
                result.append(PipelineTriggers(try await loadSpec(pipeline.projectDirectory)))
            } catch {
                // One broken or deleted project must not silence every other pipeline's triggers.
                logger.warning(
                    "A registered pipeline's spec cannot be read; its triggers are ignored until it can",
                    metadata: ["pipeline": "\(pipeline.name)", "project": "\(pipeline.projectDirectory)", "error": "\(error)"])
            }
        }
        return result
    }
}
