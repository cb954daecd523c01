import CairnCore
import Foundation
import Testing

@testable import CairnPipelines

/// One spec the loader must refuse: where (line, and column when it matters) and why.
struct RefusedSpec: Sendable, CustomTestStringConvertible {
    var label: String
    var spec: String
    var files: [String: String] = [:]
    var line: Int
    var column: Int?
    var reason: String
    var testDescription: String { label }
}

private let refused: [RefusedSpec] = [
    RefusedSpec(label: "malformed YAML", spec: "stages:\n  a:\n    cmd: [echo\n", line: 4, reason: "malformed YAML"),
    RefusedSpec(
        label: "an unquoted template in a flow list", spec: "stages:\n  a:\n    cmd: x\n    outs: [data/${item}]\n", line: 4, column: 18,
        reason: "quote a value holding ${...}"),
    RefusedSpec(label: "tab indentation", spec: "stages:\n\ta:\n", line: 2, reason: "malformed YAML"),
    RefusedSpec(label: "duplicate key", spec: "stages:\n  a:\n    cmd: x\n    cmd: y\n", line: 4, column: 5, reason: "duplicate key 'cmd'"),
    RefusedSpec(label: "not a mapping", spec: "- a\n", line: 1, reason: "must be a mapping"),
    RefusedSpec(
        label: "unknown top-level key", spec: "stages:\n  a:\n    cmd: x\nstagez: {}\n", line: 4, column: 1,
        reason: "unknown key 'stagez' in the top level (did you mean 'stages'?); allowed: stages, vars"),
    RefusedSpec(
        label: "unknown stage key", spec: "stages:\n  a:\n    cmd: x\n    dep: [a]\n", line: 4, column: 5,
        reason: "unknown key 'dep' in stage 'a' (did you mean 'deps'?); allowed: cmd, gate, wdir, deps"),
    RefusedSpec(
        label: "unknown out flag", spec: "stages:\n  a:\n    cmd: x\n    outs:\n    - o:\n        cash: false\n", line: 6, column: 9,
        reason: "unknown key 'cash' in 'outs' entry 'o' of stage 'a' (did you mean 'cache'?); allowed: cache, persist"),
    RefusedSpec(
        label: "unknown resource", spec: "stages:\n  a:\n    cmd: x\n    resources: {cpu: 1}\n", line: 4,
        reason: "unknown key 'cpu' in 'resources'"),
    RefusedSpec(
        label: "unknown gate key",
        spec: "stages:\n  g:\n    gate: {model: m, candidate: '1', data: d.csv, target: y, metrics: {}, extra: 1}\n", line: 3,
        reason: "unknown key 'extra' in 'gate' of stage 'g'"),
    RefusedSpec(
        label: "cmd of the wrong type", spec: "stages:\n  a:\n    cmd: {x: 1}\n", line: 3, column: 10,
        reason: "'cmd' of stage 'a' must be a string"),
    RefusedSpec(
        label: "deps not a list", spec: "stages:\n  a:\n    cmd: x\n    deps: a.txt\n", line: 4,
        reason: "'deps' of stage 'a' must be a list"),
    RefusedSpec(
        label: "frozen not a bool", spec: "stages:\n  a:\n    cmd: x\n    frozen: yes\n", line: 4,
        reason: "'frozen' of stage 'a' must be true or false, not str"),
    RefusedSpec(
        label: "cache not a bool", spec: "stages:\n  a:\n    cmd: x\n    outs:\n    - o: {cache: 'no'}\n", line: 5,
        reason: "'cache' of stage 'a' must be true or false"),
    RefusedSpec(
        label: "out flags null", spec: "stages:\n  a:\n    cmd: x\n    outs:\n    - o:\n", line: 5,
        reason: "must be a mapping, not NoneType"),
    RefusedSpec(
        label: "both cmd and gate", spec: "stages:\n  a:\n    cmd: x\n    gate: {}\n", line: 2, column: 3,
        reason: "has both 'cmd' and 'gate'"),
    RefusedSpec(label: "neither cmd nor gate", spec: "stages:\n  a:\n    deps: []\n", line: 2, reason: "has neither 'cmd' nor 'gate'"),
    RefusedSpec(
        label: "bad executor", spec: "stages:\n  a:\n    cmd: x\n    executor: k8s\n", line: 4,
        reason: "'executor' must be one of local, ray"),
    RefusedSpec(
        label: "negative retries", spec: "stages:\n  a:\n    cmd: x\n    retries: -1\n", line: 4, reason: "'retries' must be at least 0"),
    RefusedSpec(
        label: "bad timeout", spec: "stages:\n  a:\n    cmd: x\n    timeout: 10 minutes\n", line: 4, reason: "such as 30s, 10m, 1h30m"),
    RefusedSpec(label: "zero timeout", spec: "stages:\n  a:\n    cmd: x\n    timeout: 0\n", line: 4, reason: "more than zero"),
    RefusedSpec(
        label: "bad memory", spec: "stages:\n  a:\n    cmd: x\n    resources: {memory: 2GB}\n", line: 4, reason: "such as 2G, 512Mi"),
    RefusedSpec(
        label: "bad backoff factor", spec: "stages:\n  a:\n    cmd: x\n    backoff: {factor: 0.5}\n", line: 4,
        reason: "'backoff.factor' must be at least 1"),
    RefusedSpec(
        label: "cycle",
        spec: "stages:\n  a:\n    cmd: x\n    deps: [b.txt]\n    outs: [a.txt]\n  b:\n    cmd: y\n    deps: [a.txt]\n    outs: [b.txt]\n",
        line: 2, column: 3, reason: "the stages form a cycle: a -> b -> a"),
    RefusedSpec(
        label: "three-stage cycle",
        spec:
            "stages:\n  a:\n    cmd: x\n    deps: [c]\n    outs: [a]\n  b:\n    cmd: y\n    deps: [a]\n    outs: [b]\n  c:\n    cmd: z\n    deps: [b]\n    outs: [c]\n",
        line: 2, reason: "the stages form a cycle: a -> b -> c -> a"),
    RefusedSpec(
        label: "a stage reading its own output", spec: "stages:\n  a:\n    cmd: x\n    deps: [out/part]\n    outs: [out]\n", line: 4,
        column: 12,
        reason: "'out/part' is both a dep and an output ('out') of stage 'a'"),
    RefusedSpec(
        label: "two stages writing one path",
        spec: "stages:\n  a:\n    cmd: x\n    outs: [m.pkl]\n  b:\n    cmd: y\n    metrics: [./m.pkl]\n",
        line: 7, column: 15, reason: "output 'm.pkl' of stage 'b' is also written by stage 'a'"),
    RefusedSpec(
        label: "a path inside another stage's output directory",
        spec: "stages:\n  a:\n    cmd: x\n    outs: [data]\n  b:\n    cmd: y\n    wdir: data\n    outs: [features.csv]\n",
        files: ["data/": ""],
        line: 8, column: 12, reason: "output 'data/features.csv' of stage 'b' overlaps output 'data' of stage 'a'"),
    RefusedSpec(
        label: "one stage listing a path twice", spec: "stages:\n  a:\n    cmd: x\n    outs: [o]\n    plots: [o]\n", line: 5, column: 13,
        reason: "also written by stage 'a' itself"),
    RefusedSpec(
        label: "an output outside the project", spec: "stages:\n  a:\n    cmd: x\n    outs: [../o]\n", line: 4,
        reason: "is outside the project directory"),
    RefusedSpec(
        label: "a missing dep", spec: "stages:\n  a:\n    cmd: x\n    deps:\n    - data/raw.csv\n", line: 5, column: 7,
        reason: "dep 'data/raw.csv' of stage 'a' is made by no stage and does not exist"),
    RefusedSpec(
        label: "a dep missing relative to wdir", spec: "stages:\n  a:\n    cmd: x\n    wdir: sub\n    deps: [raw.csv]\n",
        files: ["raw.csv": "", "sub/": ""],
        line: 5, reason: "dep 'raw.csv' of stage 'a' is made by no stage"),
    RefusedSpec(
        label: "a missing params file", spec: "stages:\n  a:\n    cmd: x\n    params: [lr]\n", line: 4,
        reason: "params file 'params.yaml' of stage 'a'"),
    RefusedSpec(
        label: "a missing param", spec: "stages:\n  a:\n    cmd: x\n    params: [train.lr]\n",
        files: ["params.yaml": "train: {epochs: 1}\n"], line: 4,
        reason: "param 'train.lr' of stage 'a' is not in 'params.yaml'"),
    RefusedSpec(
        label: "a TOML params file", spec: "stages:\n  a:\n    cmd: x\n    params:\n    - p.toml: [a]\n", files: ["p.toml": "a = 1\n"],
        line: 5, column: 7,
        reason: ".toml params files are not supported; use YAML or JSON"),
    RefusedSpec(
        label: "an undefined variable", spec: "stages:\n  a:\n    cmd: echo ${missing.key}\n", line: 3, column: 15,
        reason: "undefined variable 'missing.key'"),
    RefusedSpec(label: "an empty template", spec: "stages:\n  a:\n    cmd: echo ${}\n", line: 3, column: 17, reason: "bad template '${}'"),
    RefusedSpec(
        label: "bad template syntax", spec: "vars:\n- a: {b: 1}\nstages:\n  a:\n    cmd: echo ${a..b}\n", line: 5, column: 19,
        reason: "bad template '${a..b}'"),
    RefusedSpec(
        label: "bad template in an unused foreach item", spec: "stages:\n  a:\n    foreach: [x]\n    do:\n      cmd: echo ${item[}\n",
        line: 5,
        reason: "bad template '${item[}'"),
    RefusedSpec(
        label: "a list into cmd", spec: "vars:\n- l: [1, 2]\nstages:\n  a:\n    cmd: echo ${l}\n", line: 5, column: 15,
        reason: "Cannot interpolate data of type 'list' into 'cmd'"),
    RefusedSpec(
        label: "a mapping into deps", spec: "vars:\n- d: {a: 1}\nstages:\n  a:\n    cmd: x\n    deps: [\"${d}\"]\n", line: 6,
        reason: "Cannot interpolate data of type 'dict' into 'deps'"),
    RefusedSpec(
        label: "a template in vars", spec: "vars:\n- a: 1\n- b: ${a}\nstages:\n  a:\n    cmd: x\n", line: 3, column: 6,
        reason: "interpolating is not allowed in 'vars'"),
    RefusedSpec(
        label: "a variable defined twice", spec: "vars:\n- lr: 1\nstages:\n  a:\n    cmd: x\n", files: ["params.yaml": "lr: 2\n"], line: 2,
        reason: "cannot redefine 'lr' from 'vars[0]' as it already exists in 'params.yaml'"),
    RefusedSpec(
        label: "a stage's vars redefining a global", spec: "vars:\n- a: {b: 1}\nstages:\n  s:\n    vars:\n    - a: {b: 2}\n    cmd: x\n",
        line: 6,
        reason: "cannot redefine 'a.b' from 's.vars[0]' as it already exists in 'vars[0]'"),
    RefusedSpec(
        label: "a vars file key missing", spec: "vars:\n- conf.yaml:nope\nstages:\n  a:\n    cmd: x\n", files: ["conf.yaml": "a: 1\n"],
        line: 2,
        reason: "could not find 'nope' in 'conf.yaml'"),
    RefusedSpec(
        label: "a missing vars file", spec: "vars:\n- conf.yaml\nstages:\n  a:\n    cmd: x\n", line: 2, reason: "'conf.yaml' does not exist"
    ),
    RefusedSpec(
        label: "foreach over a scalar", spec: "vars:\n- n: 3\nstages:\n  a:\n    foreach: ${n}\n    do:\n      cmd: x\n", line: 5,
        reason: "expected list/dictionary, got int"),
    RefusedSpec(
        label: "foreach with other keys", spec: "stages:\n  a:\n    foreach: [1]\n    do:\n      cmd: x\n    deps: []\n", line: 6,
        reason: "unknown key 'deps' in stage 'a' (a foreach stage); allowed: foreach, do"),
    RefusedSpec(
        label: "stage vars redefining item", spec: "stages:\n  a:\n    foreach: [1]\n    do:\n      vars:\n      - item: 2\n      cmd: x\n",
        line: 6,
        reason: "attempted to modify reserved key 'item'"),
    RefusedSpec(
        label: "key on a foreach list", spec: "stages:\n  a:\n    foreach: [1]\n    do:\n      cmd: echo ${key}\n", line: 5,
        reason: "undefined variable 'key'"),
    RefusedSpec(
        label: "duplicate names after expansion", spec: "stages:\n  a:\n    foreach: [x, x]\n    do:\n      cmd: echo ${item}\n", line: 2,
        reason: "duplicate stage name 'a@x'"),
    RefusedSpec(
        label: "matrix values not a list", spec: "stages:\n  a:\n    matrix:\n      os: linux\n    cmd: x\n", line: 4,
        reason: "'matrix.os' of stage 'a' must be a non-empty list"),
    RefusedSpec(
        label: "a stage name with @", spec: "stages:\n  a@b:\n    cmd: x\n", line: 2, column: 3, reason: "invalid stage name 'a@b'"),
    RefusedSpec(label: "bad cron field count", spec: "schedule: '* * *'\nstages:\n  a:\n    cmd: x\n", line: 1, reason: "five fields"),
    RefusedSpec(
        label: "bad cron value", spec: "schedule: '61 * * * *'\nstages:\n  a:\n    cmd: x\n", line: 1, reason: "bad cron minute field '61'"),
    RefusedSpec(label: "bad cron range", spec: "schedule: '0 5-2 * * *'\nstages:\n  a:\n    cmd: x\n", line: 1, reason: "runs backwards"),
    RefusedSpec(label: "bad cron step", spec: "schedule: '*/0 * * * *'\nstages:\n  a:\n    cmd: x\n", line: 1, reason: "positive number"),
    RefusedSpec(
        label: "bad concurrency", spec: "concurrency: 0\nstages:\n  a:\n    cmd: x\n", line: 1, reason: "'concurrency' must be at least 1"),
    RefusedSpec(
        label: "bad trigger", spec: "triggers:\n- {cron: x}\nstages:\n  a:\n    cmd: x\n", line: 2,
        reason: "unknown key 'cron' in a trigger"),
    RefusedSpec(
        label: "threshold not a number", spec: gate("auc: {threshold: high, greater_is_better: true}"), line: 9,
        reason: "`threshold` of metric 'auc' must be an int or float"),
    RefusedSpec(
        label: "min_absolute_change not positive", spec: gate("auc: {min_absolute_change: 0, greater_is_better: true}"), line: 9,
        reason: "`min_absolute_change` of metric 'auc' must be a positive number"),
    RefusedSpec(
        label: "min_relative_change an int", spec: gate("auc: {min_relative_change: 0, greater_is_better: true}"), line: 9,
        reason: "`min_relative_change` of metric 'auc' must be a floating point number between 0 and 1"),
    RefusedSpec(
        label: "min_relative_change above 1", spec: gate("auc: {min_relative_change: 1.5, greater_is_better: true}"), line: 9,
        reason: "between 0 and 1"),
    RefusedSpec(label: "no direction", spec: gate("auc: {threshold: 0.5}"), line: 9, reason: "metric 'auc' needs `greater_is_better`"),
    RefusedSpec(
        label: "direction not a bool", spec: gate("auc: {threshold: 0.5, greater_is_better: 'yes'}"), line: 9,
        reason: "`greater_is_better` of metric 'auc' must be a bool"),
    RefusedSpec(
        label: "both direction names", spec: gate("auc: {threshold: 0.5, greater_is_better: true, higher_is_better: true}"), line: 9,
        reason: "gives both `greater_is_better` and its deprecated alias"),
    RefusedSpec(label: "no limit", spec: gate("auc: {greater_is_better: true}"), line: 9, reason: "needs at least one of `threshold`"),
    RefusedSpec(
        label: "a gate without data",
        spec: "stages:\n  g:\n    gate: {model: m, candidate: '1', target: y, metrics: {a: {threshold: 1, greater_is_better: true}}}\n",
        line: 3, reason: "'gate' of stage 'g' needs 'data'"),
]

/// A gate stage whose `metrics:` mapping holds `metric` on line 9.
private func gate(_ metric: String) -> String {
    """
    stages:
      g:
        gate:
          model: churn
          candidate: "3"
          data: holdout.csv
          target: y
          metrics:
            \(metric)
    """
}

@Suite struct PipelineSpecErrorTests {
    @Test(arguments: refused)
    func isRefusedWithItsLineAndReason(_ example: RefusedSpec) throws {
        var files = example.files
        files["dvc.yaml"] = example.spec
        if files["holdout.csv"] == nil { files["holdout.csv"] = "y\n" }
        let project = try SpecScratchProject(files)
        let error = try #require(project.refusal())
        #expect(error.reason.contains(example.reason), "\(error)")
        #expect(error.location.line == example.line, "\(error)")
        if let column = example.column { #expect(error.location.column == column, "\(error)") }
        #expect(error.description.hasPrefix("\(error.location.file):\(error.location.line):\(error.location.column): "))
        #expect(error.location.file.hasPrefix(project.path + "/"))
    }

    @Test func aProjectWithoutASpecIsRefused() throws {
        let project = try SpecScratchProject(["readme": ""])
        let error = try #require(project.refusal())
        #expect(error.reason == "no cairn.yaml or dvc.yaml in this directory")
        #expect(error.cairnError == CairnError.invalidParameter(error.description))
    }

    @Test func anErrorInAParamsFileNamesThatFile() throws {
        let project = try SpecScratchProject(["params.yaml": "a: [1\n", "dvc.yaml": "stages:\n  a:\n    cmd: x\n"])
        let error = try #require(project.refusal())
        #expect(error.location.file == project.path + "/params.yaml" && error.location.line == 2 && error.reason.contains("malformed YAML"))
    }

    /// The server reads specs, so hostile YAML is refused before the composer recurses
    /// thousands of levels (a stack overflow) or aliases expand without end.
    @Test func hostileYAMLIsRefusedNotFollowed() throws {
        let brackets = String(repeating: "[", count: 2000) + String(repeating: "]", count: 2000)
        let deep = try SpecScratchProject(["dvc.yaml": "stages:\n  s:\n    cmd: echo\n    meta: \(brackets)\n"])
        let nested = try #require(deep.refusal())
        #expect(nested.reason.contains("nested brackets") && nested.location.line == 4, "\(nested)")

        var indented = "stages:\n  s:\n    cmd: echo\n    meta:\n"
        for level in 0..<300 { indented += String(repeating: " ", count: 6 + level) + "k\(level):\n" }
        let tall = try #require(try SpecScratchProject(["dvc.yaml": indented]).refusal())
        #expect(tall.reason.contains("columns deep"), "\(tall)")

        var laughs = "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
        for level in 1..<9 {
            laughs += "a\(level): &a\(level) [" + Array(repeating: "*a\(level - 1)", count: 9).joined(separator: ", ") + "]\n"
        }
        laughs += "stages:\n  s:\n    cmd: echo\n    meta: *a8\n"
        let bomb = try #require(try SpecScratchProject(["dvc.yaml": laughs]).refusal())
        #expect(bomb.reason.contains("YAML nodes"), "\(bomb)")

        // Real specs stay well inside the limits: anchors, merge keys and quoted brackets.
        let fine = try SpecScratchProject([
            "dvc.yaml": "stages:\n  a: &base\n    cmd: echo '[[[[' \"{{{{\"\n    outs: [a.txt]\n  b:\n    <<: *base\n    outs: [b.txt]\n"
        ])
        #expect(try fine.load().stages.map(\.name) == ["a", "b"])
    }
}
