import CairnArtifacts
import CairnCore
import CairnPipelines
import CairnStore
import Foundation
import Testing

@Suite struct PipelineEngineTests {
    func twoStages() -> [StageSpec] {
        [
            stage("prepare", "tr a-z A-Z < data.txt > prepared.txt", deps: ["data.txt"], outs: ["prepared.txt"]),
            stage(
                "train", "cat prepared.txt > model.txt && echo \"lr=$(grep lr params.yaml)\" >> model.txt", deps: ["prepared.txt"],
                outs: ["model.txt"], params: [.init(file: "params.yaml", keys: ["lr"])]),
        ]
    }

    @Test func aPipelineWithNoStagesRunsNothingAndHasAnEmptyStatus() async throws {
        try await EngineFixture.with { fixture in
            let spec = fixture.spec([])
            let run = try await fixture.run(spec)
            #expect(run.status == .finished, "\(run.reason ?? "")")
            #expect(try await fixture.stages(run).isEmpty)
            #expect(try await fixture.engine.status(spec, why: true).isEmpty)
            #expect(fixture.executor.total == 0)
        }
    }

    @Test func aStageProcessIsGivenItsMLflowRunSoStartRunResumesIt() async throws {
        try await EngineFixture.with { fixture in
            let spec = fixture.spec([
                stage(
                    "train", "printf '%s %s %s' \"$MLFLOW_RUN_ID\" \"$MLFLOW_EXPERIMENT_ID\" \"$CAIRN_STAGE_RUN_ID\" > ids.txt",
                    outs: ["ids.txt"])
            ])
            let run = try await fixture.run(spec)
            #expect(run.status == .finished, "\(run.reason ?? "")")
            let stageRun = try #require(try await fixture.stages(run)["train"]?.mlflowRunID)
            let experiment = try await fixture.tracking.getRun(id: stageRun).info.experimentID
            #expect(fixture.read("ids.txt") == "\(stageRun) \(experiment) \(stageRun)")
        }
    }

    @Test func aSecondRunWithNothingChangedExecutesNoStage() async throws {
        try await EngineFixture.with { fixture in
            try fixture.write("data.txt", "abc\n")
            try fixture.write("params.yaml", "lr: 0.1\n")
            let spec = fixture.spec(twoStages())
            let first = try await fixture.run(spec)
            #expect(first.status == .finished, "\(first.reason ?? "")")
            #expect(fixture.read("model.txt") == "ABC\nlr=lr: 0.1\n")
            #expect(fixture.executor.total == 2)

            let second = try await fixture.run(spec)
            #expect(second.status == .finished)
            #expect(fixture.executor.total == 2)
            let stages = try await fixture.stages(second)
            #expect(stages["train"]?.cacheHit == true)
            #expect(stages["train"]?.sourceRun == (try await fixture.stages(first))["train"]?.mlflowRunID)

            // The lock records both stages in dvc.lock's shape with sha256.
            let lock = try #require(fixture.read("cairn.lock"))
            #expect(lock.hasPrefix("schema: '2.0'\nstages:\n  \"prepare\":"))
            #expect(lock.contains("hash: sha256\n      sha256: "))
            #expect(lock.contains("\"lr\": 0.1"))
        }
    }

    @Test func eachKeyComponentChangeRerunsOnlyWhatItAffects() async throws {
        try await EngineFixture.with { fixture in
            try fixture.write("data.txt", "abc\n")
            try fixture.write("params.yaml", "lr: 0.1\n")
            let spec = fixture.spec(twoStages())
            _ = try await fixture.run(spec)

            try fixture.write("params.yaml", "lr: 0.2\n")
            let status = try await fixture.engine.status(spec, why: true)
            #expect(status.map(\.state) == [.upToDate, .stale])
            #expect(status[1].why == "params: lr 0.1 → 0.2")
            _ = try await fixture.run(spec)
            #expect(fixture.executor.invocations("prepare") == 1)
            #expect(fixture.executor.invocations("train") == 2)

            try fixture.write("data.txt", "abd\n")
            let changed = try await fixture.engine.status(spec, why: true)
            #expect(changed[0].why == "deps: data.txt changed")
            _ = try await fixture.run(spec)
            #expect(fixture.executor.invocations("prepare") == 2)
            #expect(fixture.executor.invocations("train") == 3)

            // Back to the first inputs: both stages come back from the cache, no execution.
            try fixture.write("data.txt", "abc\n")
            try fixture.write("params.yaml", "lr: 0.1\n")
            let restored = try await fixture.run(spec)
            #expect(restored.status == .finished)
            #expect(fixture.executor.total == 5)
            #expect(fixture.read("model.txt") == "ABC\nlr=lr: 0.1\n")
            #expect(try await fixture.stages(restored).values.allSatisfy(\.cacheHit))
        }
    }

    @Test func aCacheHitNeedsEveryStoredObject() async throws {
        try await EngineFixture.with { fixture in
            try fixture.write("data.txt", "abc\n")
            try fixture.write("params.yaml", "lr: 0.1\n")
            let spec = fixture.spec(twoStages())
            _ = try await fixture.run(spec)
            try fixture.write("params.yaml", "lr: 0.2\n")
            _ = try await fixture.run(spec)
            #expect(fixture.executor.invocations("train") == 2)

            // lr 0.1's model is in the cache, but one of its objects is lost: the stage runs again.
            let model = "ABC\nlr=lr: 0.1\n"
            let digest = sha256Hex(Array(model.utf8))
            let object = try ArtifactPath(".cairn-pipeline-cache/objects/\(digest.prefix(2))/\(digest.dropFirst(2))")
            #expect(try await fixture.artifacts.delete(object))
            try fixture.write("params.yaml", "lr: 0.1\n")
            let rerun = try await fixture.run(spec)
            #expect(rerun.status == .finished)
            #expect(fixture.executor.invocations("train") == 3)
            #expect(try await fixture.stages(rerun)["train"]?.cacheHit == false)
            #expect(fixture.read("model.txt") == model)
            #expect(try await fixture.artifacts.status(of: object).isFile)
        }
    }

    @Test func aMissingOutFailsTheStageAndCommitsNothing() async throws {
        try await EngineFixture.with { fixture in
            try fixture.write("data.txt", "abc\n")
            let spec = fixture.spec([stage("lazy", "echo hi", deps: ["data.txt"], outs: ["never.txt"])])
            let run = try await fixture.run(spec)
            #expect(run.status == .failed)
            #expect(run.reason == "stage 'lazy' failed: the command did not write its out never.txt")
            let stages = try await fixture.stages(run)
            #expect(stages["lazy"]?.status == .failed)
            #expect(try await fixture.store.cacheEntry(key: stages["lazy"]?.cacheKey ?? "") == nil)
            #expect(fixture.read("cairn.lock") == nil)
            let mlflow = try await fixture.tracking.getRun(id: run.id)
            #expect(mlflow.info.status == .failed)
        }
    }

    @Test func aFailedStageStopsItsDownstreamAndRetriesNonZeroExits() async throws {
        try await EngineFixture.with { fixture in
            try fixture.write("data.txt", "abc\n")
            let spec = fixture.spec([
                stage("flaky", "exit 3", deps: ["data.txt"], outs: ["a.txt"], retries: 2),
                stage("after", "cp a.txt b.txt", deps: ["a.txt"], outs: ["b.txt"]),
            ])
            let run = try await fixture.run(spec)
            #expect(run.status == .failed)
            #expect(run.reason == "stage 'flaky' failed: exited with status 3 (attempt 3 of 3)")
            #expect(fixture.executor.invocations("flaky") == 3)
            #expect(fixture.executor.invocations("after") == 0)
            let stages = try await fixture.stages(run)
            #expect(stages["flaky"]?.attempts == 3)
            #expect(stages["after"]?.status == .skipped)
        }
    }

    @Test func aStagePastItsTimeoutIsStoppedAndNotRetried() async throws {
        try await EngineFixture.with { fixture in
            let spec = fixture.spec([stage("hang", "exec sleep 30", outs: ["x"], retries: 2, timeout: 0.5)])
            let run = try await fixture.run(spec)
            #expect(run.status == .failed)
            #expect(run.reason == "stage 'hang' failed: timed out after 0.5s")
            #expect(fixture.executor.invocations("hang") == 1)
            #expect(fixture.executor.running == 0)
        }
    }

    @Test func independentStagesRunInParallelUpToJobs() async throws {
        try await EngineFixture.with(jobs: 2) { fixture in
            // Each stage waits until the other has started, so the run finishes only if both run at once.
            let spec = fixture.spec([
                stage("left", "touch left.started; while [ ! -e right.started ]; do sleep 0.01; done; touch left.txt", outs: ["left.txt"]),
                stage(
                    "right", "touch right.started; while [ ! -e left.started ]; do sleep 0.01; done; touch right.txt", outs: ["right.txt"]),
            ])
            let run = try await fixture.run(spec)
            #expect(run.status == .finished, "\(run.reason ?? "")")
            #expect(fixture.executor.maxRunning == 2)
        }
        try await EngineFixture.with(jobs: 1) { fixture in
            let spec = fixture.spec([stage("a", "touch a.txt", outs: ["a.txt"]), stage("b", "touch b.txt", outs: ["b.txt"])])
            _ = try await fixture.run(spec)
            #expect(fixture.executor.maxRunning == 1)
        }
    }

    @Test func cancellingTheRunKillsTheRunningStage() async throws {
        try await EngineFixture.with { fixture in
            let spec = fixture.spec([stage("hang", "exec sleep 30", outs: ["x"]), stage("next", "touch y", deps: ["x"], outs: ["y"])])
            _ = try await fixture.engine.register(spec)
            let run = try await fixture.engine.start(spec, options: PipelineRunOptions(), trigger: nil)
            let cancel = CancelSignal()
            let ended = try await withThrowingTaskGroup(of: StoredPipelineRun?.self) { group in
                group.addTask { await fixture.engine.execute(run, spec: spec, cancel: cancel) }
                while fixture.executor.running == 0 { try await Task.sleep(for: .milliseconds(10)) }
                cancel.fire()
                return try await group.next()!
            }
            #expect(ended?.status == .killed)
            #expect(ended?.reason == "cancelled")
            let stages = try await fixture.stages(run)
            #expect(stages["hang"]?.status == .killed)
            #expect(stages["next"]?.status == .skipped)
            #expect(try await fixture.store.getRun(id: run.id).status == .killed)
            #expect(try await fixture.tracking.getRun(id: run.id).info.status == .killed)
        }
    }

    @Test func resumeReusesFinishedStagesEvenWhenParamsChange() async throws {
        try await EngineFixture.with { fixture in
            try fixture.write("data.txt", "abc\n")
            try fixture.write("params.yaml", "lr: 0.1\nother: 1\n")
            let spec = fixture.spec([
                stage("prepare", "cp data.txt prepared.txt", deps: ["data.txt"], outs: ["prepared.txt"]),
                stage(
                    "train", "test -e fixed && cp prepared.txt model.txt", deps: ["prepared.txt"], outs: ["model.txt"],
                    params: [.init(file: "params.yaml", keys: ["lr"])]),
            ])
            let first = try await fixture.run(spec)
            #expect(first.status == .failed)
            try fixture.write("fixed", "")
            // A param the finished stage does not read changes nothing for it.
            try fixture.write("params.yaml", "lr: 0.1\nother: 2\n")
            _ = try await fixture.engine.register(spec)
            let resumed = try await fixture.engine.start(spec, options: PipelineRunOptions(resume: first.id), trigger: nil)
            let ended = await fixture.engine.execute(resumed, spec: spec)
            #expect(ended.status == .finished, "\(ended.reason ?? "")")
            #expect(ended.resumedFrom == first.id)
            #expect(fixture.executor.invocations("prepare") == 1)
            #expect(fixture.executor.invocations("train") == 2)
            let stages = try await fixture.stages(ended)
            #expect(stages["prepare"]?.cacheHit == true)
            #expect(stages["prepare"]?.sourceRun == (try await fixture.stages(first))["prepare"]?.mlflowRunID)
        }
    }

    @Test func runsAreMLflowRunsWithNestedStageRuns() async throws {
        try await EngineFixture.with { fixture in
            try fixture.write("data.txt", "abc\n")
            try fixture.write("params.yaml", "lr: 0.1\n")
            var stages = twoStages()
            stages[1].metrics = [StageSpec.Output(path: "metrics.json", cache: false)]
            stages[1].kind = .command(["cat prepared.txt > model.txt && echo '{\"acc\": 0.9, \"nested\": {\"f1\": 0.5}}' > metrics.json"])
            let run = try await fixture.run(fixture.spec(stages))
            #expect(run.status == .finished, "\(run.reason ?? "")")
            let parent = try await fixture.tracking.getRun(id: run.id)
            #expect(parent.info.status == .finished)
            #expect(parent.data.tags.contains(KeyValue(key: "cairn.pipeline", value: "demo")))
            #expect(parent.data.tags.contains(KeyValue(key: "cairn.trigger", value: "manual")))
            let experiment = try #require(try await fixture.tracking.getExperiment(name: "pipeline/demo"))
            #expect(experiment.experimentID == parent.info.experimentID)
            let train = try #require(try await fixture.stages(run)["train"]?.mlflowRunID)
            let child = try await fixture.tracking.getRun(id: train)
            let tags = Dictionary(uniqueKeysWithValues: child.data.tags.map { ($0.key, $0.value) })
            #expect(tags["mlflow.parentRunId"] == run.id)
            #expect(tags["cairn.stage"] == "train")
            #expect(tags["cairn.cache_hit"] == "false")
            #expect(tags["cairn.cache_key"]?.hasPrefix("v1:") == true)
            #expect(child.data.params == [KeyValue(key: "lr", value: "0.1")])
            #expect(Set(child.data.metrics.map(\.key)).isSuperset(of: ["acc", "nested.f1"]))
            let listing = try await fixture.artifacts.list(try ArtifactPath("\(parent.info.experimentID)/\(train)/artifacts"))
            #expect(Set(listing.map(\.name)).isSuperset(of: ["cairn.lock", "stdout.txt", "stderr.txt"]))
        }
    }

    @Test func theConcurrencyLimitRefusesASecondActiveRun() async throws {
        try await EngineFixture.with { fixture in
            let spec = fixture.spec([stage("a", "touch a", outs: ["a"])])
            _ = try await fixture.engine.register(spec)
            _ = try await fixture.engine.start(spec, options: PipelineRunOptions(), trigger: nil)
            await #expect(throws: CairnError.self) {
                _ = try await fixture.engine.start(spec, options: PipelineRunOptions(), trigger: nil)
            }
        }
    }

    @Test func targetsFromDownstreamAndSingleItemSelectLikeDVC() async throws {
        try await EngineFixture.with { fixture in
            let spec = fixture.spec([
                stage("a", "touch a", outs: ["a"]), stage("b", "cp a b", deps: ["a"], outs: ["b"]),
                stage("c", "cp b c", deps: ["b"], outs: ["c"]), stage("d", "touch d", outs: ["d"]),
            ])
            _ = try await fixture.run(spec, PipelineRunOptions(targets: ["b"]))
            #expect(["a", "b", "c", "d"].map(fixture.executor.invocations) == [1, 1, 0, 0])
            _ = try await fixture.run(spec, PipelineRunOptions(from: "b", force: true))
            #expect(["a", "b", "c", "d"].map(fixture.executor.invocations) == [1, 2, 1, 0])
            _ = try await fixture.run(spec, PipelineRunOptions(targets: ["c"], force: true, singleItem: true))
            #expect(["a", "b", "c", "d"].map(fixture.executor.invocations) == [1, 2, 2, 0])
            await #expect(throws: CairnError.self) {
                _ = try await fixture.engine.start(spec, options: PipelineRunOptions(targets: ["nope"]), trigger: nil)
            }
        }
    }
}
