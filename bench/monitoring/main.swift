import CairnMonitor
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

let features = 20
let referenceRows = Int(CommandLine.arguments.dropFirst().first ?? "") ?? 100_000
let currentRows = Int(CommandLine.arguments.dropFirst(2).first ?? "") ?? 1_000_000
var reference: [String: FeatureColumn] = [:]
var current: [String: FeatureColumn] = [:]
for f in 0..<features {
    let name = String(format: "f%02d", f)
    reference[name] = .numeric(normals(referenceRows, mean: Double(f), std: 1 + Double(f) / 10, seed: UInt64(f)))
    // Features 0 and 1 are shifted by half a standard deviation; the rest are unchanged.
    let shift = f < 2 ? 0.5 * (1 + Double(f) / 10) : 0
    current[name] = .numeric(normals(currentRows, mean: Double(f) + shift, std: 1 + Double(f) / 10, seed: UInt64(1000 + f)))
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
    print(String(format: "drift %@ %d × %d vs %d: best of 5 %.3f s wall, %.3f s CPU; drifted: %@", method?.rawValue ?? "default(\(last!.features[0].method.rawValue))",
                 currentRows, features, referenceRows, best, bestCPU, drifted))
}

// Where the time goes, one feature on one core.
if case .numeric(let column) = current["f05"]!, let numeric = profile["f05"]?.numeric {
    var sortBest = Double.infinity, walkBest = Double.infinity, stdSortBest = Double.infinity
    for _ in 0..<5 {
        let (sample, s1) = await time { SortedSample(column) }
        sortBest = min(sortBest, s1)
        let reference = SortedSample(numeric.sample)
        let (_, s2) = try await time { try Wasserstein.distance(reference, sample) }
        walkBest = min(walkBest, s2)
        let (_, s3) = await time { column.sorted() }
        stdSortBest = min(stdSortBest, s3)
    }
    print(String(format: "one feature: radix sort %.1f ms, Swift sort %.1f ms, Wasserstein walk %.1f ms", sortBest * 1e3, stdSortBest * 1e3, walkBest * 1e3))
}
