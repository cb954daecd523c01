import NIOCore

/// A sealed stretch of one metric series: its points as three little-endian columns in one
/// blob, so a chart of a long history reads a few hundred rows instead of a million.
///
/// The metric rows stay the source of truth (every MLflow API reads them); a block is a copy
/// of the rows in one (timestamp, step) range of its series, kept in the metrics index's own
/// order, (timestamp, step, stored value, is_nan), so blocks read in order and followed by
/// the rows past the last block give exactly the sequence the index scan gives.
///
/// Layout: `n` timestamps (Int64), then `n` steps (Int64), then `n` values (the stored value's
/// bits; NaN where the row's `is_nan` is set), each little-endian, 24 bytes a point.
struct MetricBlock: Sendable {
    /// Points gathered before a series' tail is sealed: 96 KiB a block, about 245 blocks for a
    /// million points, and at most one seal per 4,096 points logged to a series.
    static let capacity = 4_096
    static let bytesPerPoint = 24

    var timestamps: [Int64] = []
    var steps: [Int64] = []
    var values: [Double] = []

    init() {}

    var count: Int { timestamps.count }

    /// Decodes a stored blob; a length that is not a whole number of points is refused.
    init(encoded bytes: UnsafeRawBufferPointer) throws {
        let count = try Self.pointCount(bytes)
        timestamps.reserveCapacity(count)
        steps.reserveCapacity(count)
        values.reserveCapacity(count)
        for index in 0..<count {
            timestamps.append(Self.int64(bytes, at: index * 8))
            steps.append(Self.int64(bytes, at: (count + index) * 8))
            values.append(Double(bitPattern: UInt64(bitPattern: Self.int64(bytes, at: (2 * count + index) * 8))))
        }
    }

    init(encoded buffer: ByteBuffer) throws {
        self = try buffer.withUnsafeReadableBytes { try MetricBlock(encoded: $0) }
    }

    func encoded() -> ByteBuffer {
        var buffer = ByteBufferAllocator().buffer(capacity: count * Self.bytesPerPoint)
        guard count > 0 else { return buffer }
        #if _endian(little)
            // The columns' memory is already the layout: three copies.
            let columnBytes = count * 8
            buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: 3 * columnBytes) { target in
                timestamps.withUnsafeBytes { target.baseAddress!.copyMemory(from: $0.baseAddress!, byteCount: columnBytes) }
                steps.withUnsafeBytes { (target.baseAddress! + columnBytes).copyMemory(from: $0.baseAddress!, byteCount: columnBytes) }
                values.withUnsafeBytes { (target.baseAddress! + 2 * columnBytes).copyMemory(from: $0.baseAddress!, byteCount: columnBytes) }
                return 3 * columnBytes
            }
        #else
            for timestamp in timestamps { buffer.writeInteger(timestamp, endianness: .little) }
            for step in steps { buffer.writeInteger(step, endianness: .little) }
            for value in values { buffer.writeInteger(value.bitPattern, endianness: .little) }
        #endif
        return buffer
    }

    /// Appends a point read from the metrics table, which already comes in index order.
    mutating func append(timestamp: Int64, step: Int64, storedValue: Double, isNaN: Bool) {
        timestamps.append(timestamp)
        steps.append(step)
        values.append(isNaN ? .nan : storedValue)
    }

    /// A point as the metrics table holds it, for merging into a block.
    struct Point {
        var timestamp: Int64
        var step: Int64
        var storedValue: Double
        var isNaN: Bool

        var sortKey: SortKey { SortKey(timestamp: timestamp, step: step, value: isNaN ? 0 : storedValue, isNaN: isNaN) }
    }

    /// Merges points logged late (at or before the block's last (timestamp, step)) into their
    /// places in index order, in one pass however many there are; a point the block already
    /// holds (a retry, as the metrics table's unique index would say) is skipped. True when
    /// anything was added.
    mutating func merge(_ points: [Point]) -> Bool {
        let additions = points.sorted { $0.sortKey < $1.sortKey }
        var merged = MetricBlock()
        merged.timestamps.reserveCapacity(count + additions.count)
        merged.steps.reserveCapacity(count + additions.count)
        merged.values.reserveCapacity(count + additions.count)
        var index = 0
        var added = false
        for point in additions {
            let key = point.sortKey
            while index < count, sortKey(at: index) < key {
                merged.appendPoint(of: self, at: index)
                index += 1
            }
            if index < count, sortKey(at: index) == key { continue }
            if let last = merged.count > 0 ? merged.sortKey(at: merged.count - 1) : nil, last == key { continue }
            merged.append(timestamp: point.timestamp, step: point.step, storedValue: point.storedValue, isNaN: point.isNaN)
            added = true
        }
        guard added else { return false }
        while index < count {
            merged.appendPoint(of: self, at: index)
            index += 1
        }
        self = merged
        return true
    }

    private mutating func appendPoint(of other: MetricBlock, at index: Int) {
        timestamps.append(other.timestamps[index])
        steps.append(other.steps[index])
        values.append(other.values[index])
    }

    /// The block cut, once past twice the capacity, into about equal blocks of at most
    /// `capacity` points (more only where one (timestamp, step) group is larger), each ending at
    /// a group's end so each covers a (timestamp, step) range of its own. Late points merged
    /// into one block would otherwise grow it without bound (writers logging far-apart ranges
    /// of one series at once); splitting only at twice the capacity, into equal parts, keeps a
    /// trickle of late points (concurrent requests arriving out of order) from cutting off a
    /// one-point block each time.
    func split(capacity: Int) -> [MetricBlock] {
        guard count > 2 * capacity else { return [self] }
        let parts = (count + capacity - 1) / capacity
        let size = (count + parts - 1) / parts
        var pieces: [MetricBlock] = []
        var start = 0
        while count - start > size {
            var cut = start + size
            while cut > start, timestamps[cut - 1] == timestamps[cut], steps[cut - 1] == steps[cut] { cut -= 1 }
            if cut == start {
                cut = start + size
                while cut < count, timestamps[cut - 1] == timestamps[cut], steps[cut - 1] == steps[cut] { cut += 1 }
            }
            pieces.append(slice(start..<cut))
            start = cut
        }
        if start < count { pieces.append(slice(start..<count)) }
        return pieces
    }

    private func slice(_ range: Range<Int>) -> MetricBlock {
        var piece = MetricBlock()
        piece.timestamps = Array(timestamps[range])
        piece.steps = Array(steps[range])
        piece.values = Array(values[range])
        return piece
    }

    /// The metrics index's order: NaN rows are stored with value 0 and `is_nan` true.
    struct SortKey: Comparable {
        var timestamp: Int64
        var step: Int64
        var value: Double
        var isNaN: Bool

        static func < (lhs: SortKey, rhs: SortKey) -> Bool {
            if lhs.timestamp != rhs.timestamp { return lhs.timestamp < rhs.timestamp }
            if lhs.step != rhs.step { return lhs.step < rhs.step }
            if lhs.value != rhs.value { return lhs.value < rhs.value }
            return !lhs.isNaN && rhs.isNaN
        }
    }

    func sortKey(at index: Int) -> SortKey {
        let value = values[index]
        return SortKey(timestamp: timestamps[index], step: steps[index], value: value.isNaN ? 0 : value, isNaN: value.isNaN)
    }

    var stepRange: ClosedRange<Int64> { steps.min()!...steps.max()! }
    var timestampRange: ClosedRange<Int64> { timestamps.min()!...timestamps.max()! }

    // MARK: - Reading straight into a chart's columns

    static func pointCount(_ bytes: UnsafeRawBufferPointer) throws -> Int {
        guard bytes.count % bytesPerPoint == 0 else { throw MetricBlockError(byteCount: bytes.count) }
        return bytes.count / bytesPerPoint
    }

    /// Appends the block's x column (steps or timestamps) and values to `series`, only the
    /// points with x in `range` (nil: all). A block wholly inside the range is copied column
    /// by column; this is what a chart of a million points spends its read on.
    static func appendColumns(
        of bytes: UnsafeRawBufferPointer, axis: MetricSeriesAxis, range: ClosedRange<Int64>?, blockX: ClosedRange<Int64>,
        to series: inout MetricSeries
    ) throws {
        let count = try pointCount(bytes)
        guard count > 0 else { return }
        let xOffset = axis == .timestamp ? 0 : count * 8
        let valueOffset = 2 * count * 8
        if range.map({ $0.contains(blockX.lowerBound) && $0.contains(blockX.upperBound) }) ?? true {
            appendInt64s(bytes, offset: xOffset, count: count, to: &series.xs)
            appendDoubles(bytes, offset: valueOffset, count: count, to: &series.values)
            return
        }
        guard let range else { return }
        for index in 0..<count {
            let x = int64(bytes, at: xOffset + index * 8)
            guard range.contains(x) else { continue }
            series.xs.append(x)
            series.values.append(Double(bitPattern: UInt64(bitPattern: int64(bytes, at: valueOffset + index * 8))))
        }
    }

    @inline(__always)
    static func int64(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> Int64 {
        Int64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: Int64.self))
    }

    private static func appendInt64s(_ bytes: UnsafeRawBufferPointer, offset: Int, count: Int, to column: inout [Int64]) {
        #if _endian(little)
            let start = bytes.baseAddress! + offset
            if Int(bitPattern: start) % MemoryLayout<Int64>.alignment == 0 {
                // SQLite and NIO hand blobs over in malloc'd (so aligned) memory: one copy.
                column.append(contentsOf: UnsafeBufferPointer(start: start.assumingMemoryBound(to: Int64.self), count: count))
                return
            }
        #endif
        for index in 0..<count { column.append(int64(bytes, at: offset + index * 8)) }
    }

    private static func appendDoubles(_ bytes: UnsafeRawBufferPointer, offset: Int, count: Int, to column: inout [Double]) {
        #if _endian(little)
            let start = bytes.baseAddress! + offset
            if Int(bitPattern: start) % MemoryLayout<Double>.alignment == 0 {
                column.append(contentsOf: UnsafeBufferPointer(start: start.assumingMemoryBound(to: Double.self), count: count))
                return
            }
        #endif
        for index in 0..<count { column.append(Double(bitPattern: UInt64(bitPattern: int64(bytes, at: offset + index * 8)))) }
    }
}

/// A stored block whose length is not a whole number of points: the table was written by
/// something else, and the chart must not draw from it.
struct MetricBlockError: Error, CustomStringConvertible {
    var byteCount: Int
    var description: String { "A metric block of \(byteCount) bytes is not a whole number of 24-byte points" }
}
