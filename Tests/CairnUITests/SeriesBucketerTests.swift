import CairnUI
import Foundation
import Testing

@Suite struct SeriesBucketerTests {
    /// A smooth decaying curve with a little deterministic wiggle, and one step at 9.
    static func spikySeries(count: Int, spikeStep: Int64) -> (xs: [Int64], values: [Double]) {
        let xs = (0..<Int64(count)).map { $0 }
        let values = xs.map { step -> Double in
            step == spikeStep ? 9 : 2 * exp(-Double(step) / 200_000) + 0.05 * sin(Double(step) * 0.7)
        }
        return (xs, values)
    }

    @Test func aOneStepSpikeAmongAMillionPointsIsInsideItsColumnsBand() {
        let spikeStep: Int64 = 612_345
        let (xs, values) = Self.spikySeries(count: 1_000_000, spikeStep: spikeStep)
        var bucketer = SeriesBucketer(xMin: 0, xMax: 999_999, bucketCount: 720)
        bucketer.add(xs: xs, values: values)
        let column = bucketer.index(of: Double(spikeStep))!
        #expect(bucketer.buckets[column].max == 9)
        #expect(bucketer.buckets.map(\.count).reduce(0, +) == 1_000_000)
        // Every other column stays in the curve's own range.
        #expect(bucketer.buckets.enumerated().allSatisfy { $0.offset == column || $0.element.max < 2.1 })
        // A stride of 320 samples (MLflow's UI) would have missed it.
        let stride = 1_000_000 / 320
        #expect(!Swift.stride(from: 0, to: 1_000_000, by: stride).contains { values[$0] == 9 })
    }

    @Test func nanAndInfinitiesAreCountedNotFoldedIntoTheBand() {
        var bucketer = SeriesBucketer(xMin: 0, xMax: 4, bucketCount: 1)
        for (x, value) in [(0.0, 1.0), (1, .nan), (2, 1.7976931348623157e308), (3, -1.7976931348623157e308), (4, 3), (4, .infinity)] {
            bucketer.add(x: x, value: value)
        }
        let bucket = bucketer.buckets[0]
        #expect(bucket.count == 6)
        #expect(bucket.finiteCount == 2)
        #expect(bucket.min == 1 && bucket.max == 3)
        #expect(bucket.nanCount == 1)
        #expect(bucket.positiveInfinityCount == 2)
        #expect(bucket.negativeInfinityCount == 1)
        #expect(bucket.last == 3)
        #expect(bucket.mean == 2)
    }

    @Test func anEmptySeriesHasEmptyBuckets() {
        var bucketer = SeriesBucketer(xMin: 0, xMax: 10, bucketCount: 5)
        bucketer.add(xs: [], values: [])
        #expect(bucketer.buckets.allSatisfy { $0.count == 0 && !$0.hasFinite })
        #expect(bucketer.valueRange == nil)
    }

    @Test func onePointOverARangeOfOneValueLandsInTheFirstBucket() {
        var bucketer = SeriesBucketer(xMin: 7, xMax: 7, bucketCount: 100)
        bucketer.add(xs: [7], values: [0.25])
        #expect(bucketer.buckets[0].count == 1)
        #expect(bucketer.buckets[0].last == 0.25)
        #expect(bucketer.buckets.dropFirst().allSatisfy { $0.count == 0 })
    }

    @Test func pointsOutsideTheRangeAreSkippedAndTheRightEdgeIsInTheLastBucket() {
        // x_min=10, x_max=20 over steps 0…30, as a zoom link asks.
        var bucketer = SeriesBucketer(xMin: 10, xMax: 20, bucketCount: 10)
        bucketer.add(xs: Array(0...30), values: (0...30).map(Double.init))
        #expect(bucketer.buckets.map(\.count).reduce(0, +) == 11)
        #expect(bucketer.buckets[0].min == 10)
        #expect(bucketer.buckets[9].max == 20)
        #expect(bucketer.buckets[9].count == 2)
    }

    @Test func relativeTimeShiftsByTheOffset() {
        var bucketer = SeriesBucketer(xMin: 0, xMax: 1000, bucketCount: 2)
        bucketer.add(xs: [5_000, 5_600, 6_000], values: [1, 2, 3], xOffset: 5_000)
        #expect(bucketer.buckets.map(\.count) == [1, 2])
    }

    @Test func lastIsTheValueWithTheLargestXWhateverTheReadOrder() {
        var bucketer = SeriesBucketer(xMin: 0, xMax: 10, bucketCount: 1)
        bucketer.add(xs: [9, 3, 5], values: [1, 2, 3])
        #expect(bucketer.buckets[0].last == 1)
        #expect(bucketer.buckets[0].lastX == 9)
    }

    @Test func mergingBucketersMakesTheGroupBand() {
        var first = SeriesBucketer(xMin: 0, xMax: 1, bucketCount: 1)
        first.add(x: 0, value: 5)
        var second = SeriesBucketer(xMin: 0, xMax: 1, bucketCount: 1)
        second.add(x: 1, value: -2)
        second.add(x: 0.5, value: .nan)
        first.merge(second)
        #expect(first.buckets[0].min == -2 && first.buckets[0].max == 5)
        #expect(first.buckets[0].count == 3 && first.buckets[0].nanCount == 1)
        #expect(first.buckets[0].last == -2)
    }
}
