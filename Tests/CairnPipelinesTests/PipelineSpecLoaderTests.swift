import Foundation
import Testing

@testable import CairnPipelines

/// A project directory with the given files, removed when the value is dropped.
final class SpecScratchProject {
    let path: String

    init(_ files: [String: String]) throws {
        path = NSTemporaryDirectory() + "cairn-spec-" + UUID().uuidString
        try write(files)
    }

    func write(_ files: [String: String]) throws {
        for (name, content) in files {
            let file = path + "/" + name
            if name.hasSuffix("/") {
                try FileManager.default.createDirectory(atPath: file, withIntermediateDirectories: true)
                continue
            }
            try FileManager.default.createDirectory(atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try content.write(toFile: file, atomically: true, encoding: .utf8)
        }
    }

    func load() throws -> PipelineSpec { try PipelineSpecLoader().load(at: path) }

    /// The refusal loading gives (the test fails when loading succeeds).
    func refusal(sourceLocation: Testing.SourceLocation = #_sourceLocation) -> PipelineSpecError? {
        do {
            let spec = try load()
            Issue.record("loaded, with stages \(spec.stages.map(\.name))", sourceLocation: sourceLocation)
            return nil
        } catch {
            return error as? PipelineSpecError
        }
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

private func commands(_ stage: StageSpec?) -> [String] {
    guard case .command(let lines) = stage?.kind else { return [] }
    return lines
}

@Suite struct PipelineSpecLoaderTests {
    /// A chain of 4000 stages and one stage reading their folder: every edge found, and the
    /// whole-spec checks still refuse a clash at the far end. (Reading it was quadratic; see
    /// `PathOverlapIndex`. No time limit here: the bench measures, the test checks results.)
    @Test func aSpecOfFourThousandStagesLoadsWithEveryEdge() throws {
        let count = 4000
        var text = "stages:\n  s0:\n    cmd: echo 0 > out/0.txt\n    deps: [data.txt]\n    outs: [out/0.txt]\n"
        for index in 1..<count {
            text +=
                "  s\(index):\n    cmd: echo \(index) > out/\(index).txt\n    deps: [out/\(index - 1).txt]\n    outs: [out/\(index).txt]\n"
        }
        text += "  collect:\n    cmd: ls out > all.txt\n    deps: [out]\n    outs: [all.txt]\n"
        let project = try SpecScratchProject(["data.txt": "x\n", "dvc.yaml": text])
        let spec = try project.load()
        #expect(spec.stages.count == count + 1)
        let graph = PipelineGraph(spec)
        #expect(graph.upstream["s0"] == [])
        #expect((1..<count).allSatisfy { graph.upstream["s\($0)"] == ["s\($0 - 1)"] })
        #expect(graph.upstream["collect"] == (0..<count).map { "s\($0)" })
        #expect(graph.downstream(of: "s17") == ["s18", "collect"])
        #expect(graph.cycle() == nil)

        try project.write(["dvc.yaml": text + "  late:\n    cmd: echo\n    outs: [out/17.txt]\n"])
        #expect(project.refusal()?.reason.contains("output 'out/17.txt' of stage 'late' is also written by stage 's17'") == true)
        try project.write(["dvc.yaml": text + "  wide:\n    cmd: echo\n    outs: [out]\n"])
        #expect(project.refusal()?.reason.contains("overlaps output 'out/0.txt' of stage 's0'") == true)
    }

    /// DVC reads an empty `dvc.yaml`, `stages: {}` and a file with no `stages:` as a pipeline
    /// with nothing to run.
    @Test(arguments: ["", "\n", "stages: {}\n", "stages:\n", "vars: []\n", "# nothing yet\nname: empty\n"])
    func aSpecWithoutStagesIsAnEmptyPipeline(text: String) throws {
        let project = try SpecScratchProject(["dvc.yaml": text])
        let spec = try project.load()
        #expect(spec.stages.isEmpty)
        #expect(spec.file.hasSuffix("/dvc.yaml"))
    }

    @Test func readsDVCsStageSchema() throws {
        let project = try SpecScratchProject([
            "data/raw.csv": "x\n", "src/prepare.py": "", "params.yaml": "prepare:\n  split: 0.2\n  seed: 7\ntrain:\n  lr: 0.1\n",
            "other.json": #"{"a": {"b": 1}, "c": 2}"#,
            "dvc.yaml": """
            stages:
              prepare:
                desc: Split the data
                meta: {owner: me}
                cmd: python src/prepare.py data/raw.csv
                deps:
                - ./data/raw.csv
                - src/prepare.py
                params:
                - prepare.split
                - prepare.seed
                - other.json: [a.b]
                outs:
                - data/prepared/
                - cache/tmp:
                    cache: false
                    persist: true
                    desc: scratch
                    remote: store
                    push: false
                    type: folder
                    labels: [a, b]
                    meta: {x: 1}
              train:
                cmd:
                - python train.py
                - echo done
                wdir: ./
                deps: [data/prepared]
                params:
                - train.lr
                - other.json:
                metrics:
                - metrics.json:
                    cache: false
                plots:
                - plots/roc.csv:
                    x: fpr
                    y: tpr
                    title: ROC
                - plots/loss.csv
                frozen: true
                always_changed: true
            """,
        ])
        let spec = try project.load()
        #expect(spec.file == project.path + "/dvc.yaml")
        #expect(spec.projectDirectory == project.path)
        #expect(spec.name == (project.path as NSString).lastPathComponent)
        #expect(spec.stages.map(\.name) == ["prepare", "train"])
        let prepare = try #require(spec.stage(named: "prepare"))
        #expect(commands(prepare) == ["python src/prepare.py data/raw.csv"])
        #expect(prepare.deps == ["data/raw.csv", "src/prepare.py"])
        #expect(prepare.outs == [.init(path: "data/prepared"), .init(path: "cache/tmp", cache: false, persist: true)])
        #expect(
            prepare.params == [
                .init(file: "params.yaml", keys: ["prepare.split", "prepare.seed"]), .init(file: "other.json", keys: ["a.b"]),
            ])
        #expect(prepare.location.line == 2 && prepare.location.column == 3)
        #expect(!prepare.frozen && !prepare.alwaysChanged && prepare.executor == "local" && prepare.retries == 0)
        let train = try #require(spec.stage(named: "train"))
        #expect(commands(train) == ["python train.py", "echo done"])
        #expect(train.workingDirectory == "")
        #expect(train.params == [.init(file: "params.yaml", keys: ["train.lr"]), .init(file: "other.json", keys: [])])
        #expect(train.metrics == [.init(path: "metrics.json", cache: false)])
        #expect(train.plots.map(\.path) == ["plots/roc.csv", "plots/loss.csv"])
        #expect(train.frozen && train.alwaysChanged)
    }

    @Test func cairnYamlWinsOverDvcYamlAndANamedFileIsRead() throws {
        let project = try SpecScratchProject([
            "dvc.yaml": "stages:\n  a:\n    cmd: echo dvc\n", "cairn.yaml": "name: mine\nstages:\n  a:\n    cmd: echo cairn\n",
            "sub/other.yaml": "stages:\n  b:\n    cmd: echo other\n",
        ])
        let spec = try project.load()
        #expect(spec.file.hasSuffix("/cairn.yaml") && spec.name == "mine")
        #expect(commands(spec.stages.first) == ["echo cairn"])
        let other = try PipelineSpecLoader().load(at: project.path + "/sub/other.yaml")
        #expect(other.projectDirectory == project.path + "/sub" && other.stages.map(\.name) == ["b"])
    }

    @Test func foreachOverListsAndDictsNamesStagesAsDVCDoes() throws {
        let project = try SpecScratchProject([
            "params.yaml": "regions: [uk, us]\nmodels:\n  small: {size: 10, lr: 0.1}\n  big: {size: 100, lr: 1.0e-5}\n",
            "dvc.yaml": """
            stages:
              build:
                foreach: ${regions}
                do:
                  cmd: echo ${item}
                  outs: ["out/${item}.txt"]
              fit:
                foreach: ${models}
                do:
                  cmd: python fit.py --name ${key} --size ${item.size} --lr ${item.lr}
              seeds:
                foreach: [1, 2]
                do:
                  cmd: echo ${item}
              pairs:
                foreach:
                - {a: 1}
                - {a: 2}
                do:
                  cmd: echo ${item.a}
            """,
        ])
        let spec = try project.load()
        #expect(
            spec.stages.map(\.name) == ["build@uk", "build@us", "fit@small", "fit@big", "seeds@1", "seeds@2", "pairs@0", "pairs@1"])
        #expect(commands(spec.stage(named: "build@us")) == ["echo us"])
        #expect(spec.stage(named: "build@uk")?.outs == [.init(path: "out/uk.txt")])
        #expect(commands(spec.stage(named: "fit@big")) == ["python fit.py --name big --size 100 --lr 1e-05"])
        #expect(commands(spec.stage(named: "pairs@1")) == ["echo 2"])
        // Every stage a template makes points at the template's name.
        #expect(spec.stage(named: "fit@big")?.location.line == 7)
    }

    @Test func matrixExpandsEveryCombinationInOrder() throws {
        let project = try SpecScratchProject([
            "dvc.yaml": """
            vars:
            - archs: [{n: 1}, {n: 2}]
            stages:
              fit:
                matrix:
                  os: [linux, mac]
                  lr: [0.1, 1]
                  flag: [true]
                cmd: fit --os ${item.os} --lr ${item.lr} ${key} ${item.flag}
              arch:
                matrix:
                  arch: ${archs}
                  seed: [7]
                cmd: echo ${item.arch.n} ${item.seed}
            """
        ])
        let spec = try project.load()
        #expect(
            spec.stages.map(\.name) == [
                "fit@linux-0.1-true", "fit@linux-1-true", "fit@mac-0.1-true", "fit@mac-1-true", "arch@arch0-7", "arch@arch1-7",
            ])
        #expect(commands(spec.stage(named: "fit@mac-1-true")) == ["fit --os mac --lr 1 mac-1-true true"])
        #expect(commands(spec.stage(named: "arch@arch1-7")) == ["echo 2 7"])
    }

    /// DVC names an item from a templated list with Python's `str()` (`True`) and one from a
    /// literal list with its `to_str` (`true`); the commands say `true` either way.
    @Test func booleanItemsAreNamedAsDVCNamesThem() throws {
        let project = try SpecScratchProject([
            "params.yaml": "flags: [true, false]\non: true\n",
            "dvc.yaml": """
            stages:
              t:
                foreach: ${flags}
                do:
                  cmd: echo ${item}
              l:
                foreach: [true]
                do:
                  cmd: echo ${item}
              m:
                matrix:
                  a: ${flags}
                  b: [false, "${on}"]
                cmd: echo ${item.a}
            """,
        ])
        let spec = try project.load()
        #expect(
            spec.stages.map(\.name) == [
                "t@True", "t@False", "l@true", "m@True-false", "m@True-True", "m@False-false", "m@False-True",
            ])
        #expect(commands(spec.stage(named: "t@True")) == ["echo true"])
        #expect(commands(spec.stage(named: "m@False-True")) == ["echo false"])
    }

    @Test func varsComeFromParamsYamlInlineMappingsAndFilesAsDVCMergesThem() throws {
        let project = try SpecScratchProject([
            "params.yaml": "lr: 0.5\nnested: {a: 1}\n",
            "config.yaml": "train: {epochs: 3}\nunused: {x: 1}\n",
            "sub/local.yaml": "here: 9\n",
            "sub/keep": "",
            "dvc.yaml": """
            vars:
            - params.yaml
            - config.yaml:train
            - name: world
              nested: {b: 2}
            stages:
              s:
                wdir: sub
                vars:
                - local.yaml
                - extra: x
                cmd: echo ${lr} ${train.epochs} ${name} ${nested.a}${nested.b} ${here} ${extra} \\${literal}
            """,
        ])
        let spec = try project.load()
        #expect(commands(spec.stages.first) == ["echo 0.5 3 world 12 9 x ${literal}"])
        #expect(spec.stages.first?.workingDirectory == "sub")
    }

    @Test func jsonParamsFilesAreReadInOrderAndIndexed() throws {
        let project = try SpecScratchProject([
            "p.json": #"{"b":[1,2],"a":{"z":"x y","y":true}}"#, "t.json": "{\n\t\"e\": 2\n}\n",
            "dvc.yaml": "vars:\n- p.json\n- t.json:e\nstages:\n  a:\n    cmd: echo ${b[1]} ${a} ${e}\n    params:\n    - p.json: [a.z]\n",
        ])
        let stage = try #require(try project.load().stages.first)
        #expect(commands(stage) == ["echo 2 --z 'x y' --y 2"])
        #expect(stage.params == [.init(file: "p.json", keys: ["a.z"])])
    }

    @Test func aWholeValueTemplateKeepsItsType() throws {
        let project = try SpecScratchProject([
            "params.yaml": "freeze: true\ntries: 3\nlimit: 1h\ncpu: 2\n",
            "dvc.yaml": """
            stages:
              s:
                cmd: echo ${tries}
                frozen: ${freeze}
                retries: ${tries}
                timeout: ${limit}
                resources: {cpus: "${cpu}"}
            """,
        ])
        let stage = try #require(try project.load().stages.first)
        #expect(stage.frozen && stage.retries == 3 && stage.timeout == 3600 && stage.resources.cpus == 2)
    }

    @Test func aMappingInterpolatedIntoCmdBecomesFlagsAsInDVC() throws {
        let project = try SpecScratchProject([
            "params.yaml": """
            args:
              epochs: 10
              name: my model
              verbose: true
              quiet: false
              layers: [1, two]
              opt: {lr: 0.01}
            """,
            "dvc.yaml": "stages:\n  s:\n    cmd: python train.py ${args}\n  t:\n    cmd: ${args}\n",
        ])
        let spec = try project.load()
        let flags = "--epochs 10 --name 'my model' --verbose --layers 1 two --opt.lr 0.01"
        #expect(commands(spec.stage(named: "s")) == ["python train.py \(flags)"])
        #expect(commands(spec.stage(named: "t")) == [flags])
    }

    @Test func dvcsParsingConfigDecidesFalseFlagsAndLists() throws {
        let project = try SpecScratchProject([
            "params.yaml": "args: {quiet: false, layers: [1, two]}\n", "dvc.yaml": "stages:\n  s:\n    cmd: run ${args}\n",
            ".dvc/config": "[core]\n    remote = x\n[parsing]\n    bool = boolean_optional\n",
            ".dvc/config.local": "[ parsing ]\nlist = append\n",
        ])
        #expect(commands(try project.load().stages.first) == ["run --no-quiet --layers 1 --layers two"])
        try FileManager.default.removeItem(atPath: project.path + "/.dvc")
        #expect(commands(try project.load().stages.first) == ["run --layers 1 two"])
    }

    @Test func cairnsOwnStageKeys() throws {
        let project = try SpecScratchProject([
            "dvc.yaml": """
            stages:
              a:
                cmd: echo a
                retries: 2
                backoff: 5
                timeout: 1h30m
                resources: {cpus: 0.5, memory: 512Mi, gpus: 1}
                executor: ray
              b:
                cmd: echo b
                backoff: {initial: 1, factor: 3, max: 60}
                timeout: 90
                resources: {memory: 2G}
              c:
                cmd: echo c
                timeout: 500ms
                resources: {memory: 1048576}
            """
        ])
        let spec = try project.load()
        let a = try #require(spec.stage(named: "a"))
        #expect(a.retries == 2 && a.backoff == .init(initial: 5) && a.timeout == 5400 && a.executor == "ray")
        #expect(a.resources == .init(cpus: 0.5, gpus: 1, memory: 512 * 1_048_576))
        let b = try #require(spec.stage(named: "b"))
        #expect(b.backoff == .init(initial: 1, factor: 3, maximum: 60) && b.timeout == 90 && b.resources.memory == 2_000_000_000)
        let c = try #require(spec.stage(named: "c"))
        #expect(c.timeout == 0.5 && c.resources.memory == 1_048_576 && c.resources.cpus == 1)
    }

    @Test func gateStagesAndTopLevelKeys() throws {
        let project = try SpecScratchProject([
            "holdout.csv": "y\n",
            "dvc.yaml": """
            name: churn
            schedule: "*/15 2-4 * jan-mar mon,fri"
            concurrency: 2
            triggers:
            - monitor: churn-drift
            - model: churn
              alias: champion
            - data: ./data/raw/
            stages:
              train:
                cmd: python train.py
                outs: [version.txt]
              promote:
                gate:
                  model: churn
                  candidate: version.txt
                  data: ./holdout.csv
                  target: churned
                  keep_previous_as: previous
                  metrics:
                    auc: {threshold: 0.8, min_absolute_change: 0.005, greater_is_better: true}
                    log_loss: {min_relative_change: 0.02, higher_is_better: false}
            """,
        ])
        let spec = try project.load()
        #expect(spec.name == "churn" && spec.schedule == "*/15 2-4 * jan-mar mon,fri" && spec.concurrency == 2)
        #expect(
            spec.triggers == [
                .monitorAlert(monitor: "churn-drift"), .modelVersion(model: "churn", alias: "champion"), .dataChanged(path: "data/raw"),
            ])
        let promote = try #require(spec.stage(named: "promote"))
        guard case .gate(let gate) = promote.kind else {
            Issue.record("not a gate")
            return
        }
        #expect(gate.model == "churn" && gate.candidate == "version.txt" && gate.alias == "champion" && gate.data == "holdout.csv")
        #expect(gate.target == "churned" && gate.keepPreviousAs == "previous")
        #expect(gate.thresholds["auc"] == MetricThreshold(threshold: 0.8, minAbsoluteChange: 0.005, greaterIsBetter: true))
        #expect(gate.thresholds["log_loss"] == MetricThreshold(minRelativeChange: 0.02, greaterIsBetter: false))
        // The held-out file and the candidate's version file are the gate's deps.
        #expect(promote.deps == ["holdout.csv", "version.txt"])
        #expect(PipelineGraph(spec).upstream["promote"] == ["train"])
    }

    @Test func pathsAreNormalised() throws {
        let project = try SpecScratchProject([
            "in/a.txt": "", "dvc.yaml": "stages:\n  s:\n    cmd: x\n    deps: [./in//a.txt, in/./b/../a.txt]\n    outs: [out/, ./o2]\n",
        ])
        let stage = try #require(try project.load().stages.first)
        #expect(stage.deps == ["in/a.txt", "in/a.txt"])
        #expect(stage.outs.map(\.path) == ["out", "o2"])
    }

    @Test func theGraphLinksDepsToOutputsByPathPrefixAndRenders() throws {
        let project = try SpecScratchProject([
            "raw/": "",
            "dvc.yaml": """
            stages:
              evaluate:
                cmd: e
                deps: [models/model.pkl, data/features/part1]
                metrics: [scores.json]
              prepare:
                cmd: p
                deps: [raw]
                outs: [data/features]
              train:
                cmd: t
                wdir: models
                deps: [../data]
                outs: [model.pkl]
              report:
                cmd: r
                params: [{scores.json: [auc]}]
            """,
        ])
        let spec = try project.load()
        let graph = PipelineGraph(spec)
        #expect(graph.upstream == ["evaluate": ["prepare", "train"], "prepare": [], "train": ["prepare"], "report": ["evaluate"]])
        #expect(graph.topologicalOrder() == ["prepare", "train", "evaluate", "report"])
        #expect(graph.downstream(of: "prepare") == ["evaluate", "train"])
        #expect(graph.cycle() == nil)
        #expect(
            graph.dot() == """
                strict digraph {
                "evaluate";
                "prepare";
                "train";
                "report";
                "prepare" -> "evaluate";
                "train" -> "evaluate";
                "prepare" -> "train";
                "evaluate" -> "report";
                }

                """)
        #expect(
            graph.mermaid() == """
                flowchart TD
                \tnode1["evaluate"]
                \tnode2["prepare"]
                \tnode3["train"]
                \tnode4["report"]
                \tnode2-->node1
                \tnode3-->node1
                \tnode2-->node3
                \tnode1-->node4

                """)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(graph.json().utf8)) as? [String: Any])
        let stages = try #require(json["stages"] as? [[String: Any]])
        #expect(stages.map { $0["name"] as? String } == ["evaluate", "prepare", "train", "report"])
        #expect(stages[2]["cmd"] as? [String] == ["t"] && stages[2]["upstream"] as? [String] == ["prepare"])
    }

    @Test func pythonsNumberFormsAreKept() {
        #expect(SpecNode.resolvePlain("1e-5").isFloat(1e-5))
        #expect(SpecNode.resolvePlain("010").isInt(10))
        #expect(SpecNode.resolvePlain("0x1F").isInt(31))
        #expect(SpecNode.resolvePlain("1_000").isInt(1000))
        #expect(SpecNode.resolvePlain(".5").isFloat(0.5))
        if case .string("yes") = SpecNode.resolvePlain("yes") {} else { Issue.record("yes is a string in YAML 1.2") }
        if case .string("1:30") = SpecNode.resolvePlain("1:30") {} else { Issue.record("1:30 is a string in YAML 1.2") }
        let location = CairnPipelines.SourceLocation(file: "f", line: 1)
        #expect(
            [1.0, 1e-5, 0.1, 1e16, 123456.75, 1e22].map { SpecNode(.float($0), at: location).pythonString } == [
                "1.0", "1e-05", "0.1", "1e+16", "123456.75", "1e+22",
            ])
        #expect(TemplateContext.shellQuote("it's") == #"'it'"'"'s'"#)
        #expect(TemplateContext.shellQuote("a/b.c=1,d@e%f+g:h-i") == "a/b.c=1,d@e%f+g:h-i")
        #expect(TemplateContext.shellQuote("") == "''")
    }
}

extension SpecNode.Value {
    fileprivate func isFloat(_ expected: Double) -> Bool {
        if case .float(let value) = self { return value == expected }
        return false
    }
    fileprivate func isInt(_ expected: Int) -> Bool {
        if case .int(let value) = self { return value == expected }
        return false
    }
}
