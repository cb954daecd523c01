import Foundation
import Testing

/// The fixture written by Fixtures/generate.py (scipy 1.17.1, numpy 2.4.6).
struct GoldenVectors: Decodable {
    struct Gamma: Decodable {
        var a: Double
        var x: Double
        var q: Double
    }
    struct Normal: Decodable {
        var z: Double
        var sf: Double
    }
    struct KSDistribution: Decodable {
        var n: Int
        var d: Double
        var sf: Double
    }
    struct KSCase: Decodable {
        var name: String
        var a: Sample
        var b: Sample
        var statistic: Double
        var pvalue: Double
    }
    struct WassersteinCase: Decodable {
        var name: String
        var u: Sample
        var v: Sample
        var distance: Double
        var normed: Double
    }
    struct ChiSquareCase: Decodable {
        var observed: [Double]
        var expected: [Double]?
        var statistic: Double
        var pvalue: Double
    }
    struct JSCase: Decodable {
        var p: [Double]
        var q: [Double]
        var natural: Double
        var base2: Double
    }
    struct PSICase: Decodable {
        var reference: [Double]
        var current: [Double]
        var value: Double
    }
    struct ZCase: Decodable {
        var x1: Int
        var n1: Int
        var x2: Int
        var n2: Int
        var z: Double
        var pvalue: Double
    }
    struct MethodResult: Decodable {
        var score: Double
        var statistic: Double?
        var drifted: Bool
    }
    struct DetectorCase: Decodable {
        var name: String
        var kind: String
        var reference: Column
        var current: Column
        var `default`: String
        var results: [String: MethodResult]
    }

    /// Either explicit values (null for NaN) or a grid {n, start, stop}:
    /// start + (stop − start)·((i + 0.5)/n), rebuilt with the same IEEE operations as numpy.
    struct Sample: Decodable {
        var values: [Double]

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let explicit = try? container.decode([Double?].self) {
                values = explicit.map { $0 ?? .nan }
                return
            }
            struct Grid: Decodable {
                var n: Int
                var start: Double
                var stop: Double
            }
            let grid = try container.decode(Grid.self)
            let n = Double(grid.n)
            values = (0..<grid.n).map { grid.start + (grid.stop - grid.start) * ((Double($0) + 0.5) / n) }
        }
    }

    /// A numeric sample or a list of categories (null for missing).
    enum Column: Decodable {
        case numeric([Double])
        case categorical([String?])

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let strings = try? container.decode([String?].self), strings.contains(where: { $0 != nil }) {
                self = .categorical(strings)
            } else {
                self = .numeric(try container.decode(Sample.self).values)
            }
        }
    }

    var gammaincc: [Gamma]
    var normal_sf: [Normal]
    var kstwo_sf: [KSDistribution]
    var smirnov: [KSDistribution]
    var ks: [KSCase]
    var wasserstein: [WassersteinCase]
    var chisquare: [ChiSquareCase]
    var jensenshannon: [JSCase]
    var psi: [PSICase]
    var ztest: [ZCase]
    var detector: [DetectorCase]

    static let shared: GoldenVectors = {
        let url = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent()
            .appendingPathComponent("Fixtures/golden_vectors.json")
        do {
            return try JSONDecoder().decode(GoldenVectors.self, from: Data(contentsOf: url))
        } catch {
            fatalError("cannot read \(url.path): \(error); regenerate with Fixtures/generate.py")
        }
    }()
}

/// |actual − expected| ≤ max(relative·|expected|, absolute). The absolute floor is for
/// p-values near 0, where scipy's own last bits are noise (1 − inside probability, 1 − Φ).
func expectClose(
    _ actual: Double, _ expected: Double, relative: Double = 1e-6, absolute: Double = 1e-12,
    _ comment: String = "", sourceLocation: SourceLocation = #_sourceLocation
) {
    let tolerance = max(relative * abs(expected), absolute)
    #expect(
        abs(actual - expected) <= tolerance || (actual.isNaN && expected.isNaN),
        "\(comment): got \(actual), expected \(expected)", sourceLocation: sourceLocation)
}
