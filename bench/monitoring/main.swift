import CairnMonitor
import CairnStatistics
import Foundation

// Times drift over 1M current rows × 20 numeric features against a 100k-row reference,
// the bar in issue 5. Data is generated here (seeded), outside the timed region.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

func normals(_ count: Int, mean: Double, std: Double, seed: UInt64) -> [Double] {
    var rng = SplitMix64(state: seed)
    var out = [Double](repeating: 0, count: count)
    var i = 0
    while i < count {
        let u1 = max(Double(rng.next() >> 11) * 0x1p-53, .leastNonzeroMagnitude)
        let u2 = Double(rng.next() >> 11) * 0x1p-53
        let r = (-2 * log(u1)).squareRoot()
        out[i] = mean + std * r * cos(2 * .pi * u2)
        if i + 1 < count { out[i + 1] = mean + std * r * sin(2 * .pi * u2) }
        i += 2
    }
    return out
}

/// CPU seconds used by the process: when the machine is shared (the lead's benchmarks), wall
/// time says little, and CPU time over the 2 cores bounds what an idle machine would show.
func cpuSeconds() -> Double {
    var usage = rusage()
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) * 1e-6
}

func time<T>(_ body: () async throws -> T) async rethrows -> (T, Double) {
    let start = ContinuousClock.now
    let value = try await body()
    let elapsed = ContinuousClock.now - start
    return (value, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18)
}

// File mode, for bench/monitoring/run.sh (the same data as Evidently):
//   cairn-monitor-bench --reference FILE --current FILE --features N [--repeat 5]
// Each file is raw little-endian float64, column-major: N columns named f00, f01, …, one after
// the other, each with size / 8 / N values. Each repetition builds the reference profile and
// runs drift with the default configuration (Evidently's choice of test); prints JSON.
var options: [String: String] = [:]
var positional: [String] = []
do {
    var args = CommandLine.arguments.dropFirst()[...]
    while let arg = args.popFirst() {
        if arg.hasPrefix("--") {
            guard let value = args.popFirst() else { fatalError("\(arg) needs a value") }
            options[String(arg.dropFirst(2))] = value
        } else {
            positional.append(arg)
        }
    }
}

func readColumns(_ path: String, features: Int) -> [String: FeatureColumn] {
    guard let data = FileManager.default.contents(atPath: path) else { fatalError("cannot read \(path)") }
    precondition(data.count % (8 * features) == 0, "\(path): \(data.count) bytes is not \(features) float64 columns")
    let rows = data.count / 8 / features
    var columns: [String: FeatureColumn] = [:]
    data.withUnsafeBytes { raw in
        for f in 0..<features {
            let values = [Double](unsafeUninitializedCapacity: rows) { buffer, count in
                for i in 0..<rows {
                    buffer[i] = Double(
                        bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: (f * rows + i) * 8, as: UInt64.self)))
                }
                count = rows
            }
            columns[String(format: "f%02d", f)] = .numeric(values)
        }
    }
    return columns
}

func median(_ xs: [Double]) -> Double {
    let s = xs.sorted()
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

// Through the real path, for bench/monitoring/run.sh (issue 12):
//   cairn-monitor-bench --through-log requests|rows --reference FILE --current FILE --features N [--repeat 5] [--json-repeat 1]
//     [--log-dir DIR]  (keep the logged records in DIR and reuse them on the next run)
// Logs the current rows through InferenceLogWriter as 100 requests of 10k rows (`requests`) or
// as one request per row (`rows`), then times MonitorEvaluator.evaluate over that window
// against the reference stored in SQLite, as `cairn server` runs it. The same records are
// also logged without sidecars, and the evaluation timed over them: the JSON path.
if let shape = options["through-log"], let referencePath = options["reference"], let currentPath = options["current"] {
    let features = Int(options["features"] ?? "20")!
    let report = try await ThroughLogBench(
        shape: shape, reference: readColumns(referencePath, features: features), current: readColumns(currentPath, features: features),
        features: features
    ).run(repeats: Int(options["repeat"] ?? "5")!, jsonRepeats: Int(options["json-repeat"] ?? "1")!, logDirectory: options["log-dir"])
    let json = try JSONSerialization.data(withJSONObject: report, options: [.sortedKeys])
    print(String(decoding: json, as: UTF8.self))
    exit(0)
}

if let referencePath = options["reference"], let currentPath = options["current"] {
    let features = Int(options["features"] ?? "20")!
    let repeats = Int(options["repeat"] ?? "5")!
    let reference = readColumns(referencePath, features: features)
    let current = readColumns(currentPath, features: features)
    var profileTimes: [Double] = []
    var driftTimes: [Double] = []
    var totals: [Double] = []
    var cpuTimes: [Double] = []
    var last: DatasetDrift?
    for _ in 0..<repeats {
        let cpu = cpuSeconds()
        let (profile, profileSeconds) = await time { ReferenceProfile(columns: reference) }
        let detector = DriftDetector(reference: profile)
        let (result, driftSeconds) = try await time { try await detector.datasetDrift(current) }
        cpuTimes.append(cpuSeconds() - cpu)
        profileTimes.append(profileSeconds)
        driftTimes.append(driftSeconds)
        totals.append(profileSeconds + driftSeconds)
        last = result
    }
    let drift = last!
    let report: [String: Any] = [
        "tool": "cairn",
        "reference_rows": reference["f00"]!.count,
        "current_rows": current["f00"]!.count,
        "features": features,
        "repeats": repeats,
        "profile_seconds": profileTimes,
        "drift_seconds": driftTimes,
        "total_seconds": totals,
        "cpu_seconds": cpuTimes,
        "best_total_seconds": totals.min()!,
        "median_total_seconds": median(totals),
        "best_profile_seconds": profileTimes.min()!,
        "best_drift_seconds": driftTimes.min()!,
        "methods": Array(Set(drift.features.map(\.method.rawValue))).sorted(),
        "scores": Dictionary(uniqueKeysWithValues: drift.features.map { ($0.feature, $0.score) }),
        "drifted": drift.features.filter(\.drifted).map(\.feature).sorted(),
        "dataset_drift": drift.drifted,
    ]
    let json = try JSONSerialization.data(withJSONObject: report, options: [.sortedKeys])
    print(String(decoding: json, as: UTF8.self))
    exit(0)
}

let features = 20
let referenceRows = Int(positional.first ?? "") ?? 100_000
let currentRows = Int(positional.dropFirst().first ?? "") ?? 1_000_000
var reference: [String: FeatureColumn] = [:]
var current: [String: FeatureColumn] = [:]
for f in 0..<features {
    let name = String(format: "f%02d", f)
    reference[name] = .numeric(normals(referenceRows, mean: Double(f), std: 1 + Double(f) / 10, seed: UInt64(f)))
    // Features 0 and 1 are shifted by half a standard deviation; the rest are unchanged.
    let shift = f < 2 ? 0.5 * (1 + Double(f) / 10) : 0
    current[name] = .numeric(normals(currentRows, mean: Double(f) + shift, std: 1 + Double(f) / 10, seed: UInt64(1000 + f)))
}

let (profile, profileSeconds) = await time { ReferenceProfile(columns: reference) }
print(String(format: "profile %d rows × %d features: %.3f s", referenceRows, features, profileSeconds))

for method in [nil, DriftMethod.kolmogorovSmirnov, .jensenShannon, .psi] {
    var configuration = DriftConfiguration()
    if let method { configuration.methods = Dictionary(uniqueKeysWithValues: reference.keys.map { ($0, method) }) }
    let detector = DriftDetector(reference: profile, configuration: configuration)
    var best = Double.infinity
    var bestCPU = Double.infinity
    var last: DatasetDrift?
    for _ in 0..<5 {
        let cpu = cpuSeconds()
        let (result, seconds) = try await time { try await detector.datasetDrift(current) }
        best = min(best, seconds)
        bestCPU = min(bestCPU, cpuSeconds() - cpu)
        last = result
    }
    let drifted = last!.features.filter(\.drifted).map(\.feature).joined(separator: ",")
    print(
        String(
            format: "drift %@ %d × %d vs %d: best of 5 %.3f s wall, %.3f s CPU; drifted: %@",
            method?.rawValue ?? "default(\(last!.features[0].method.rawValue))",
            currentRows, features, referenceRows, best, bestCPU, drifted))
}

// Where the time goes, one feature on one core.
if case .numeric(let column) = current["f05"]!, case .numeric(let numeric?)? = profile["f05"]?.summary {
    var sortBest = Double.infinity
    var walkBest = Double.infinity
    var stdSortBest = Double.infinity
    for _ in 0..<5 {
        let (sample, s1) = await time { SortedSample(column) }
        sortBest = min(sortBest, s1)
        let reference = SortedSample(numeric.sample)
        let (_, s2) = try await time { try Wasserstein.distance(reference, sample) }
        walkBest = min(walkBest, s2)
        let (_, s3) = await time { column.sorted() }
        stdSortBest = min(stdSortBest, s3)
    }
    print(
        String(
            format: "one feature: radix sort %.1f ms, Swift sort %.1f ms, Wasserstein walk %.1f ms", sortBest * 1e3, stdSortBest * 1e3,
            walkBest * 1e3))
}
