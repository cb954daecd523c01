import CairnPipelines
import Foundation

// Per-stage overhead of the executors, end to end through `StageExecutor.run`:
//   local: spawn + wait of `/bin/sh -c true` as its own process group, stdout/stderr to files;
//   ray:   submit-to-done of a trivial job (`true`) on a Ray head, logs fetched and written.
// Prints one JSON object; bench/pipelines/executor-overhead/run.sh runs it beside the peers.
//
//   cairn-executor-bench [--local N] [--ray URL] [--ray-jobs M]

var localCount = 200
var rayAddress: String?
var rayJobs = 10
var arguments = CommandLine.arguments.dropFirst()
while let flag = arguments.popFirst() {
    switch flag {
    case "--local": localCount = Int(arguments.popFirst() ?? "") ?? localCount
    case "--ray": rayAddress = arguments.popFirst()
    case "--ray-jobs": rayJobs = Int(arguments.popFirst() ?? "") ?? rayJobs
    default:
        FileHandle.standardError.write(Data("unknown option \(flag)\n".utf8))
        exit(2)
    }
}

let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-executor-bench-\(getpid())").path
try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(atPath: scratch) }

func stage(_ index: Int, run: String) -> StageInvocation {
    StageInvocation(
        runID: run, stage: "s\(index)", attempt: 1, command: "true", workingDirectory: scratch, environment: ["CAIRN_RUN_ID": run],
        resources: .init(cpus: 1), stdoutPath: scratch + "/out-\(index).txt", stderrPath: scratch + "/err-\(index).txt")
}

/// Milliseconds per call: mean, median, p95.
func summary(_ samples: [Double]) -> [String: Double] {
    let sorted = samples.sorted()
    return [
        "mean_ms": samples.reduce(0, +) / Double(samples.count),
        "p50_ms": sorted[sorted.count / 2],
        "p95_ms": sorted[min(sorted.count - 1, Int(Double(sorted.count) * 0.95))],
        "n": Double(samples.count),
    ]
}

func timed(_ body: () async throws -> Void) async rethrows -> Double {
    let start = ContinuousClock.now
    try await body()
    let elapsed = ContinuousClock.now - start
    return Double(elapsed.components.seconds) * 1e3 + Double(elapsed.components.attoseconds) / 1e15
}

var report: [String: [String: Double]] = [:]

let local = LocalExecutor()
for index in 0..<10 { _ = try await local.run(stage(index, run: "warm")) }
var localSamples: [Double] = []
for index in 0..<localCount {
    localSamples.append(
        try await timed {
            let result = try await local.run(stage(index, run: "local"))
            precondition(result.exitStatus == 0)
        })
}
report["local_true"] = summary(localSamples)

if let rayAddress {
    let configuration = RayJobsExecutor.Configuration(
        address: rayAddress, token: try RayJobsExecutor.Configuration.resolveToken(nil))
    let ray = try await RayJobsExecutor.connect(configuration)
    let run = "bench\(UUID().uuidString.prefix(8).lowercased())"
    var raySamples: [Double] = []
    for index in 0..<rayJobs {
        raySamples.append(
            try await timed {
                let result = try await ray.run(stage(index, run: run))
                precondition(result.exitStatus == 0)
            })
    }
    report["ray_true"] = summary(raySamples)
}

let json = try JSONSerialization.data(withJSONObject: report, options: [.sortedKeys])
print(String(decoding: json, as: UTF8.self))
