import CairnCore
import Testing

@testable import CairnMonitor

/// `pipelines`: the pipelines a monitor runs when an alert opens, checked like its webhooks.
@Suite struct MonitorSpecPipelinesTests {
    @Test func aMonitorNamesPipelinesToRun() throws {
        let spec = try MonitorSpecTests.decode(MonitorSpecTests.body(#""pipelines": ["retrain", "notify"]"#))
        #expect(spec.pipelines == ["retrain", "notify"])
        #expect(try MonitorSpecTests.decode(MonitorSpecTests.body()).pipelines.isEmpty)
        // Stored and read back unchanged.
        #expect(try MonitorSpec.decode(Array(spec.encoded().utf8)) == spec)
    }

    @Test(arguments: [
        (#""pipelines": [""]"#, "Pipeline ''"),
        (#""pipelines": ["a/b"]"#, "Pipeline 'a/b'"),
        (#""pipelines": ["a", "a"]"#, "each pipeline once"),
        (#""pipelines": "retrain""#, "pipelines"),
        (#""pipelines": [\#((0..<17).map { "\"p\($0)\"" }.joined(separator: ","))]"#, "at most 16 pipelines"),
    ])
    func badPipelineListsAreRefused(_ extra: String, _ naming: String) {
        MonitorSpecTests.expectRefused(MonitorSpecTests.body(extra), naming: naming)
    }
}
