import CairnCore
import Foundation

/// Two-sample, two-sided Kolmogorov–Smirnov test, reporting what `scipy.stats.ks_2samp` does
/// with its default `method='auto'`:
/// - both samples of at most 10,000 values: the exact distribution of D under H0
///   (lattice-path counting, Hodges 1958), and the statistic rounded to the lattice h/lcm(n, m)
///   exactly as scipy reports it;
/// - otherwise the asymptotic regime: P(D ≥ d) from the one-sample distribution `kstwo` with
///   n = round(n·m/(n+m)) (see `SpecialFunctions.kolmogorovSmirnovSurvival`).
public enum KolmogorovSmirnov {
    /// scipy's `MAX_AUTO_N`: above it the exact path count is too slow to be worth it.
    public static let exactLimit = 10_000

    public enum Method: String, Codable, Sendable {
        case exact
        case asymptotic
    }

    public struct Result: Sendable, Equatable {
        public var statistic: Double
        public var pValue: Double
        public var method: Method
    }

    /// The test on raw columns; non-finite values are dropped first.
    public static func test(_ a: [Double], _ b: [Double]) throws -> Result {
        try test(SortedSample(a), SortedSample(b))
    }

    public static func test(_ a: SortedSample, _ b: SortedSample) throws -> Result {
        guard !a.isEmpty, !b.isEmpty else {
            throw CairnError.invalidParameter("Kolmogorov–Smirnov needs at least one non-null value on each side")
        }
        let n1 = a.count
        let n2 = b.count
        let d = statistic(a.values, b.values)
        if max(n1, n2) <= exactLimit {
            let g = gcd(n1, n2)
            let lcm = (n1 / g) * n2
            let h = Int((d * Double(lcm)).rounded(.toNearestOrEven))
            let lattice = Double(h) / Double(lcm)
            if h == 0 { return Result(statistic: lattice, pValue: 1, method: .exact) }
            let p =
                n1 == n2
                ? probabilityOutsideSquare(n: n1, h: h)
                : probabilityOutsideBand(n1, n2, g: g, h: h)
            return Result(statistic: lattice, pValue: SpecialFunctions.clipProbability(p), method: .exact)
        }
        // scipy orders the sizes before forming n·m/(n+m); the rounding is numpy's, half to even.
        let (large, small) = (Double(max(n1, n2)), Double(min(n1, n2)))
        let effective = (large * small / (large + small)).rounded(.toNearestOrEven)
        let p = SpecialFunctions.kolmogorovSmirnovSurvival(n: max(Int(effective), 1), d: d)
        return Result(statistic: d, pValue: p, method: .asymptotic)
    }

    /// D = max |F_a − F_b| over the pooled values.
    static func statistic(_ a: [Double], _ b: [Double]) -> Double {
        var d = 0.0
        walkEmpiricalCDFs(a, b) { difference, _ in d = max(d, abs(difference)) }
        return d
    }

    /// P(D ≥ h/n) for equal sizes: 2 Σ_k (−1)^(k−1) C(2n, n−kh)/C(2n, n), nested as
    /// 2·A0·(1 − A1·(1 − A2·(…))) so the alternating sum does not cancel.
    static func probabilityOutsideSquare(n: Int, h: Int) -> Double {
        var p = 0.0
        var k = n / h
        while k >= 0 {
            var ratio = 1.0
            for j in 0..<h {
                ratio = Double(n - k * h - j) * ratio / Double(n + k * h + j + 1)
            }
            p = ratio * (1 - p)
            k -= 1
        }
        return 2 * p
    }

    /// P(D ≥ h/lcm) for unequal sizes: the share of monotone lattice paths from (0,0) to
    /// (n1, n2) that leave the band |x/n1 − y/n2| < h/lcm. The recursion carries the share of
    /// paths that have *already left* (Viehmann 2021) rather than 1 − share inside, so small
    /// p-values keep their relative precision. Only the band is visited: O(n1 · band width).
    static func probabilityOutsideBand(_ n1: Int, _ n2: Int, g: Int, h: Int) -> Double {
        let columns = max(n1, n2)
        let rows = min(n1, n2)
        let columnStep = columns / g // |ng·x − mg·y| < h is the band in lattice units
        let rowStep = rows / g
        // left[y]: share of paths to (x, y) that have left the band. Points outside the band
        // are 1; the band only moves up, so a cell is never read after it falls below it.
        var left = [Double](repeating: 1, count: rows + 1)
        let firstTop = min(ceilDivide(h, columnStep), rows + 1)
        for y in 0..<firstTop { left[y] = 0 }
        return left.withUnsafeMutableBufferPointer { left -> Double in
            for x in 1...columns {
                let low = max(floorDivide(rowStep * x - h, columnStep) + 1, 0)
                let top = min(ceilDivide(rowStep * x + h, columnStep), rows + 1)
                if top <= low { return 1 }
                let dx = Double(x)
                var below = 1.0 // the cell under the band has left already
                for y in low..<top {
                    let dy = Double(y)
                    below = (left[y] * dx + below * dy) / (dx + dy)
                    left[y] = below
                }
            }
            return left[rows]
        }
    }

    private static func gcd(_ a: Int, _ b: Int) -> Int {
        var (a, b) = (a, b)
        while b != 0 { (a, b) = (b, a % b) }
        return a
    }

    private static func floorDivide(_ a: Int, _ b: Int) -> Int {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }

    private static func ceilDivide(_ a: Int, _ b: Int) -> Int {
        -floorDivide(-a, b)
    }
}
