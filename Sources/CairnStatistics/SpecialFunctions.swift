import Foundation

/// The distribution functions the drift tests need, written here so CairnMonitor stays free of
/// numeric dependencies. Each one follows the algorithm scipy uses for the same quantity, because
/// the point is to report the numbers a data scientist gets from scipy or Evidently.
public enum SpecialFunctions {
    /// Upper tail of the standard normal, 1 − Φ(z). Written with erfc rather than `1 - cdf`
    /// so that large |z| keeps its relative precision.
    public static func normalSurvival(_ z: Double) -> Double {
        0.5 * erfc(z / 2.0.squareRoot())
    }

    /// Survival function of the chi-squared distribution, Q(k/2, x/2).
    public static func chiSquaredSurvival(_ x: Double, degreesOfFreedom k: Double) -> Double {
        if x.isNaN || k.isNaN || k <= 0 { return .nan }
        if x <= 0 { return 1 }
        if x == .infinity { return 0 }
        return regularizedUpperGamma(k / 2, x / 2)
    }

    /// Regularized upper incomplete gamma Q(a, x) = Γ(a, x)/Γ(a): the power series below
    /// x = a + 1, where it converges fast, and Lentz's continued fraction above, where the
    /// series would need many terms and `1 - P` would lose the small tail.
    public static func regularizedUpperGamma(_ a: Double, _ x: Double) -> Double {
        if a.isNaN || x.isNaN || a <= 0 { return .nan }
        if x <= 0 { return 1 }
        if x == .infinity { return 0 }
        let logPrefactor = a * log(x) - x - lgamma(a)
        if x < a + 1 {
            // P(a, x) = e^{-x} x^a / Γ(a+1) · Σ x^n / ((a+1)…(a+n))
            var term = 1.0 / a
            var sum = term
            var ap = a
            for _ in 0..<10_000 {
                ap += 1
                term *= x / ap
                sum += term
                if abs(term) < abs(sum) * 1e-17 { break }
            }
            let lower = exp(logPrefactor) * sum
            return min(max(1 - lower, 0), 1)
        }
        let tiny = 1e-300
        var b = x + 1 - a
        var c = 1 / tiny
        var d = 1 / b
        var h = d
        for i in 1..<10_000 {
            let an = -Double(i) * (Double(i) - a)
            b += 2
            d = an * d + b
            if abs(d) < tiny { d = tiny }
            c = b + an / c
            if abs(c) < tiny { c = tiny }
            d = 1 / d
            let delta = d * c
            h *= delta
            if abs(delta - 1) < 1e-16 { break }
        }
        return min(max(exp(logPrefactor) * h, 0), 1)
    }

    // MARK: Kolmogorov–Smirnov distributions

    /// Survival function of the two-sided one-sample Kolmogorov–Smirnov statistic D_n,
    /// P(D_n ≥ d): scipy's `kstwo.sf(d, n)`, which `ks_2samp` uses for large samples.
    ///
    /// The regime selection is Simard & L'Ecuyer's, as scipy applies it: Ruben–Gambino closed
    /// forms at the extremes, twice the one-sided Smirnov tail where the two tails cannot
    /// overlap (or the overlap is below double precision), the Durbin matrix (Marsaglia–Tsang–Wang)
    /// where it is cheap, and the Pelz–Good expansion otherwise. One deliberate difference: for
    /// n ≤ 140 and 0.754693 < n·d² ≤ 4 scipy uses Pomeranz's recursion and this uses the Durbin
    /// matrix; both are exact, so the results agree to rounding.
    ///
    /// A sample size below 1 gives NaN, as scipy (and `smirnovSurvival`) return for an
    /// invalid shape, rather than stopping the process.
    public static func kolmogorovSmirnovSurvival(n: Int, d x: Double) -> Double {
        if n < 1 || x.isNaN { return .nan }
        if x >= 1 { return 0 }
        if x <= 0 { return 1 }
        let nd = Double(n)
        let t = nd * x
        if t <= 1 {
            if t <= 0.5 { return 1 }
            let cdf: Double
            if n <= 140 {
                var product = 1.0
                for i in 1...n { product *= Double(i) / nd * (2 * t - 1) }
                cdf = product
            } else {
                cdf = exp(logFactorialOverPower(n) + nd * log(2 * t - 1))
            }
            return clipProbability(1 - cdf)
        }
        if t >= nd - 1 { return clipProbability(2 * pow(1 - x, nd)) }
        if x >= 0.5 { return clipProbability(2 * smirnovSurvival(n: n, d: x)) }
        let nxSquared = t * x
        if n <= 140 {
            if nxSquared <= 4 { return clipProbability(1 - durbinMatrixCDF(n: n, d: x)) }
            return clipProbability(2 * smirnovSurvival(n: n, d: x))
        }
        if nxSquared >= 370 { return 0 }
        if nxSquared >= 2.2 { return clipProbability(2 * smirnovSurvival(n: n, d: x)) }
        let cdf =
            (n <= 100_000 && nd * pow(x, 1.5) <= 1.4)
            ? durbinMatrixCDF(n: n, d: x)
            : pelzGoodCDF(n: n, d: x)
        return clipProbability(1 - cdf)
    }

    /// One-sided Smirnov tail P(D_n⁺ ≥ d), `scipy.special.smirnov(n, d)`, from the
    /// Birnbaum–Tingey sum. Terms are formed in logarithms: for large n the binomial
    /// coefficients and powers overflow and underflow a double, their product does not.
    public static func smirnovSurvival(n: Int, d x: Double) -> Double {
        if n <= 0 || x.isNaN || x < 0 || x > 1 { return .nan }
        if n == 1 { return 1 - x }
        if x == 0 { return 1 }
        if x == 1 { return 0 }
        let nd = Double(n)
        let nx = nd * x
        let floorNX = nx.rounded(.down)
        let alpha = nx - floorNX
        if floorNX == 0 || (floorNX == 1 && alpha == 0) {
            return clipProbability(1 - x * pow(1 + x, nd - 1))
        }
        // exp() of anything below this underflows.
        if -2 * nd * x * x < -708.3964185322641 { return 0 }
        if floorNX >= nd - 1 { return pow(1 - x, nd) }
        if n > 1_000_000 {
            // Beyond this scipy switches to the approximation e^{-(6nx+1)²/18n}; so does Cairn,
            // to report the same number.
            return clipProbability(exp(-pow(6 * nx + 1, 2) / 18 / nd))
        }
        // Σ_{j < n(1−x)} C(n,j) (1 − x − j/n)^(n−j) (x + j/n)^(j−1); every term is positive.
        let termCount = n - Int(floorNX)
        var logBinomial = 0.0
        var sum = 0.0
        for j in 0..<termCount {
            let dj = Double(j)
            let logTerm =
                logBinomial
                + (nd - dj) * log((nd - dj - nx) / nd)
                + (dj - 1) * log((dj + nx) / nd)
            let term = exp(logTerm)
            sum += term
            // The remaining terms are each smaller than this one once past the peak.
            if term != 0, 4 * Double(termCount - j) * term < Double.ulpOfOne * sum, j != termCount - 1 {
                break
            }
            if term == 0, j > n / 2 { break }
            logBinomial += log((nd - dj) / (dj + 1))
        }
        return clipProbability(x * sum)
    }

    /// P(D_n ≤ d) by the Durbin matrix, evaluated as Marsaglia, Tsang and Wang describe:
    /// the k-th diagonal entry of Hⁿ·n!/nⁿ, squaring with power-of-two rescaling so that the
    /// powers neither overflow nor underflow.
    static func durbinMatrixCDF(n: Int, d: Double) -> Double {
        if d >= 1 { return 1 }
        let nd = Double(n) * d
        if nd <= 0.5 { return 0 }
        let k = Int(nd.rounded(.up))
        let h = Double(k) - nd
        let m = 2 * k - 1

        var v = [Double](repeating: 0, count: m)
        var w = [Double](repeating: 0, count: m)
        var factorial = 1.0
        for j in 1...m {
            w[j - 1] = factorial
            factorial /= Double(j)
            v[j - 1] = (1 - pow(h, Double(j))) * factorial
        }
        let overlap = pow(max(2 * h - 1, 0), Double(m)) - 2 * pow(h, Double(m))
        v[m - 1] = (1 + overlap) * factorial

        var matrix = [Double](repeating: 0, count: m * m)
        for column in 1..<m {
            for row in (column - 1)..<m { matrix[row * m + column] = w[row - column + 1] }
        }
        for row in 0..<m { matrix[row * m] = v[row] }
        for column in 0..<m { matrix[(m - 1) * m + column] = v[m - 1 - column] }

        var power = [Double](repeating: 0, count: m * m)
        for i in 0..<m { power[i * m + i] = 1 }
        var exponent = 0
        var matrixExponent = 0
        var remaining = n
        let scale = 0x1p128
        while remaining > 0 {
            if remaining % 2 == 1 {
                power = multiply(power, matrix, m)
                exponent += matrixExponent
            }
            matrix = multiply(matrix, matrix, m)
            matrixExponent *= 2
            if abs(matrix[(k - 1) * m + (k - 1)]) > scale {
                for i in matrix.indices { matrix[i] /= scale }
                matrixExponent += 128
            }
            remaining /= 2
        }
        var p = power[(k - 1) * m + (k - 1)]
        let nDouble = Double(n)
        for i in 1...n {
            p = Double(i) * p / nDouble
            if abs(p) < 0x1p-128 {
                p *= scale
                exponent -= 128
            }
        }
        if exponent != 0 { p = scalbn(p, exponent) }
        return clipProbability(p)
    }

    private static func multiply(_ a: [Double], _ b: [Double], _ m: Int) -> [Double] {
        var result = [Double](repeating: 0, count: m * m)
        a.withUnsafeBufferPointer { a in
            b.withUnsafeBufferPointer { b in
                result.withUnsafeMutableBufferPointer { r in
                    for i in 0..<m {
                        for l in 0..<m {
                            let ail = a[i * m + l]
                            if ail == 0 { continue }
                            for j in 0..<m { r[i * m + j] += ail * b[l * m + j] }
                        }
                    }
                }
            }
        }
        return result
    }

    /// Pelz and Good's approximation to P(D_n ≤ d): the Li-Chien/Korolyuk expansion in
    /// powers of 1/√n, rewritten through Jacobi theta identities so it converges for small z.
    /// It is an approximation; scipy uses it in this regime, so Cairn does too, term for term.
    static func pelzGoodCDF(n: Int, d x: Double) -> Double {
        if x <= 0 { return 0 }
        if x >= 1 { return 1 }
        let z = Double(n).squareRoot() * x
        let z2 = z * z
        let z3 = z2 * z
        let z4 = z2 * z2
        let z6 = z4 * z2
        let pi2 = Double.pi * Double.pi
        let pi4 = pi2 * pi2
        let pi6 = pi4 * pi2
        let sqrt2pi = (2 * Double.pi).squareRoot()

        let qlog = -pi2 / 8 / z2
        if qlog < -708 { return 0 }
        let q = exp(qlog)

        let k1a = -z2
        let k1b = pi2 / 4
        let k2a = 6 * z6 + 2 * z4
        let k2b = (2 * z4 - 5 * z2) * pi2 / 4
        let k2c = pi4 * (1 - 2 * z2) / 16
        let k3d = pi6 * (5 - 30 * z2) / 64
        let k3c = pi4 * (-60 * z2 + 212 * z4) / 16
        let k3b = pi2 * (135 * z4 - 96 * z6) / 4
        let k3a = -30 * z6 - 90 * z4 * z4

        // Σ over odd (2k−1) of c · q^((2k−1)²), by Horner in q^(8k).
        var terms = (0.0, 0.0, 0.0, 0.0)
        let maxK = Int((16 * z / Double.pi).rounded(.up))
        if maxK >= 1 {
            for k in stride(from: maxK, through: 1, by: -1) {
                let odd = Double(2 * k - 1)
                let o2 = odd * odd
                let o4 = o2 * o2
                let o6 = o4 * o2
                let qPower = pow(q, Double(8 * k))
                terms.0 = terms.0 * qPower + 1
                terms.1 = terms.1 * qPower + (k1a + k1b * o2)
                terms.2 = terms.2 * qPower + (k2a + k2b * o2 + k2c * o4)
                terms.3 = terms.3 * qPower + (k3a + k3b * o2 + k3c * o4 + k3d * o6)
            }
        }
        let common = q * sqrt2pi
        let k0 = terms.0 * common / z
        var k1 = terms.1 * common / (6 * z4)
        var k2 = terms.2 * common / (72 * z6 * z)
        var k3 = terms.3 * common / (6480 * z6 * z4)

        // The second sum runs over all integers k with q' = e^{-π²/2z²}.
        let qAll = exp(-pi2 / 2 / z2)
        let sqrt3z = 3.0.squareRoot() * z
        var k2Extra = 0.0
        var k3Extra = 0.0
        if maxK >= 1 {
            for k in stride(from: maxK, through: 1, by: -1) {
                let dk = Double(k)
                let kSquared = dk * dk
                let qPower = pow(qAll, kSquared)
                let kPi = Double.pi * dk
                k2Extra += kSquared * qPower
                k3Extra += (sqrt3z + kPi) * (sqrt3z - kPi) * kSquared * qPower
            }
        }
        k2 += k2Extra * pi2 * sqrt2pi / (-36 * z3)
        k3 += k3Extra * pi2 * sqrt2pi / (216 * z6)
        let rootN = Double(n).squareRoot()
        k1 /= rootN
        k2 /= Double(n)
        k3 /= Double(n) * rootN
        return k0 + k1 + k2 + k3
    }

    /// log(n!/nⁿ) by Stirling's series with n·log n cancelled analytically, so large n loses
    /// nothing to subtraction.
    static func logFactorialOverPower(_ n: Int) -> Double {
        let nd = Double(n)
        let r = 1 / nd
        let r2 = r * r
        // Bernoulli-number coefficients B_{2j}/(2j(2j−1)), highest order first.
        let coefficients: [Double] = [
            -2.955065359477124183e-2, 6.4102564102564102564e-3,
            -1.9175269175269175269e-3, 8.4175084175084175084e-4,
            -5.952380952380952381e-4, 7.9365079365079365079e-4,
            -2.7777777777777777778e-3, 8.3333333333333333333e-2,
        ]
        var series = 0.0
        for c in coefficients { series = series * r2 + c }
        return log(nd) / 2 - nd + log(2 * Double.pi) / 2 + r * series
    }

    @inline(__always)
    static func clipProbability(_ p: Double) -> Double {
        p.isNaN ? p : min(max(p, 0), 1)
    }
}
