import CairnCore
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The columnar sidecar of one inference log segment (`inference-….jsonl` →
/// `inference-….cols`): the segment's records as `LoggedRecords`, one block per flush of the
/// writer, so a monitor reads a window without parsing its JSON. The JSON Lines segment stays
/// the source of truth; the sidecar is a cache of it that may lag behind or be lost.
///
/// A block is appended after its lines reach the segment, and is
///
///     magic "CLR2" | payload bytes u64 | segment range start u64, end u64 |
///     segment mtime (ns) i64 | segment inode u64 | checksum u64 | payload
///
/// (little-endian), where the range is the byte range of the segment its records were read
/// from and the mtime and inode are the segment's, by `fstat`, just after those lines were
/// written; the checksum is seeded with the segment's name, so a sidecar beside the wrong
/// segment fails it. Appending with a checksum rather than writing a temporary file and
/// renaming it per flush keeps a flush O(its records): a rename would rewrite the whole
/// sidecar each time. Nothing is fsynced (the segment is not either); after a crash, a block
/// that did not fully reach the disk fails its length or checksum and ends the sidecar there.
///
/// When a reader trusts it: only while the segment is exactly as the writer left it after the
/// last block, that is its size is the last block's end and its mtime and inode are the ones
/// the block recorded (`SegmentState`). Any write to the segment by anyone moves its mtime,
/// so an edit in place, even of the same length, makes the whole segment read from its JSON.
/// The writer keeps the chain unbroken between blocks: before each append it checks that its
/// segment is still in the state it recorded, and starts a new segment if not, so an edit
/// made before a later flush is not covered by that flush's block. A segment longer than its
/// last block is a flush in flight (its block follows its lines at once, and the reader reads
/// the sidecar again) or a crash's tail, which is read from the JSON, blocks and all, since
/// nothing then tells the tail from a foreign write. Limit: a timestamp is only as fine as the
/// kernel's clock for files; before Linux 6.13's multigrain timestamps an edit within the
/// same tick (a few milliseconds) as the writer's last write could keep its mtime.
enum InferenceLogSidecar {
    static let suffix = ".cols"
    static let magic: [UInt8] = Array("CLR2".utf8)
    static let headerBytes = 4 + 8 * 6

    static func path(ofSegment segment: String) -> String {
        String(segment.dropLast(".jsonl".count)) + suffix
    }

    /// One block, ready to append: `records` read from `segmentRange` of the segment, which
    /// is in `state` once they are written (its size is the range's end).
    static func block(_ records: LoggedRecords, segment: String, segmentRange: Range<Int>, state: SegmentState) -> [UInt8] {
        var payload = ByteWriter()
        encode(records, to: &payload)
        var block = ByteWriter(capacity: headerBytes + payload.bytes.count)
        block.bytes.append(contentsOf: magic)
        block.int(payload.bytes.count)
        block.int(segmentRange.lowerBound)
        block.int(segmentRange.upperBound)
        block.uint64(UInt64(bitPattern: state.modified))
        block.uint64(state.inode)
        block.uint64(
            checksum(payload.bytes[...], segment: segment, segmentRange: segmentRange, modified: state.modified, inode: state.inode))
        block.bytes.append(contentsOf: payload.bytes)
        return block.bytes
    }

    /// A block read back: its records, the segment bytes they cover, and the segment's mtime
    /// and inode once they were written.
    struct Block {
        var records: LoggedRecords
        var segmentRange: Range<Int>
        var modified: Int64
        var inode: UInt64

        /// The segment as the writer left it after this block's lines.
        var state: SegmentState { SegmentState(size: segmentRange.upperBound, modified: modified, inode: inode) }
    }

    /// The blocks of `sidecar` that can be trusted for the segment named `segment` of
    /// `segmentBytes` bytes, in order: each covers whole lines after the previous one's,
    /// the first of them its first record's (`segmentBytesAt(offset, count)` reads the
    /// segment). Reading stops at the first block that does not; what it would have covered
    /// is read from the JSON.
    static func blocks(_ sidecar: [UInt8], segment: String, segmentBytes: Int, segmentBytesAt: (Int, Int) -> [UInt8]) -> [Block] {
        blocks(sidecar[...], after: 0, segment: segment, segmentBytes: segmentBytes, segmentBytesAt: segmentBytesAt).blocks
    }

    /// `blocks` of a part of a sidecar whose earlier blocks covered the segment up to
    /// `covered`; also returns where in `sidecar` the good blocks end.
    static func blocks(
        _ sidecar: ArraySlice<UInt8>, after covered: Int, segment: String, segmentBytes: Int, segmentBytesAt: (Int, Int) -> [UInt8]
    ) -> (blocks: [Block], end: Int) {
        var blocks: [Block] = []
        var reader = ByteReader(sidecar)
        var covered = covered
        var good = sidecar.startIndex
        while reader.remaining > 0 {
            guard reader.remaining >= headerBytes, Array(reader.bytes(4) ?? []) == magic,
                let length = reader.int(), let start = reader.int(), let end = reader.int(), let modified = reader.uint64(),
                let inode = reader.uint64(), let sum = reader.uint64(),
                length >= 0, length <= reader.remaining, let payload = reader.bytes(length),
                start >= covered, start < end, end <= segmentBytes,
                start == 0 || segmentBytesAt(start - 1, 1) == [UInt8(ascii: "\n")], segmentBytesAt(end - 1, 1) == [UInt8(ascii: "\n")],
                checksum(payload, segment: segment, segmentRange: start..<end, modified: Int64(bitPattern: modified), inode: inode) == sum,
                let records = decode(payload), startsWithItsFirstRecord(records, segmentBytesAt(start, 4 << 10))
            else { break }
            blocks.append(Block(records: records, segmentRange: start..<end, modified: Int64(bitPattern: modified), inode: inode))
            covered = end
            good = sidecar.endIndex - reader.remaining
        }
        return (blocks, good)
    }

    /// A 64-bit checksum over four independent multiply-mix lanes: a sidecar is read whole
    /// at every evaluation, and a byte-at-a-time CRC would cost more than the columns'
    /// copy. It guards against torn and zero-filled writes, not against an adversary.
    static func checksum(_ bytes: ArraySlice<UInt8>, segment: String, segmentRange: Range<Int>, modified: Int64, inode: UInt64) -> UInt64 {
        func mix(_ lane: UInt64, _ word: UInt64) -> UInt64 {
            let x = (lane ^ word) &* 0xFF51_AFD7_ED55_8CCD
            return x ^ (x >> 29)
        }
        // FNV-1a of the name: `hashValue` is seeded per process.
        let name = segment.utf8.reduce(UInt64(0xCBF2_9CE4_8422_2325)) { ($0 ^ UInt64($1)) &* 0x100_0000_01B3 }
        var lanes: (UInt64, UInt64, UInt64, UInt64) = (
            0x9E37_79B9_7F4A_7C15 ^ UInt64(bytes.count), 0xC2B2_AE3D_27D4_EB4F ^ UInt64(segmentRange.lowerBound),
            0x1656_67B1_9E37_79F9 ^ UInt64(segmentRange.upperBound), mix(0x27D4_EB2F_1656_67C5, name)
        )
        bytes.withUnsafeBytes { raw in
            let words = raw.count / 8
            var i = 0
            while i + 4 <= words {
                lanes.0 = mix(lanes.0, raw.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self))
                lanes.1 = mix(lanes.1, raw.loadUnaligned(fromByteOffset: i * 8 + 8, as: UInt64.self))
                lanes.2 = mix(lanes.2, raw.loadUnaligned(fromByteOffset: i * 8 + 16, as: UInt64.self))
                lanes.3 = mix(lanes.3, raw.loadUnaligned(fromByteOffset: i * 8 + 24, as: UInt64.self))
                i += 4
            }
            while i < words {
                lanes.0 = mix(lanes.0, raw.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self))
                i += 1
            }
            var tail: UInt64 = 0
            for offset in (words * 8)..<raw.count { tail = tail << 8 | UInt64(raw[offset]) }
            lanes.1 = mix(lanes.1, tail)
        }
        return mix(mix(mix(mix(mix(lanes.0, lanes.1), lanes.2), lanes.3), UInt64(bitPattern: modified)), inode)
    }

    /// Whether the segment's bytes at a block's start begin with the line the writer wrote
    /// for its first record (the id comes first). A block whose first line did not parse is
    /// taken on its range and checksum alone.
    static func startsWithItsFirstRecord(_ records: LoggedRecords, _ bytes: [UInt8]) -> Bool {
        guard records.skippedLines == 0, let id = records.requestIDs.first else { return true }
        var expected = JSONWriter(capacity: id.utf8.count + 20)
        expected.raw(#"{"request_id":"#)
        expected.string(id)
        return bytes.starts(with: expected.bytes)
    }

    // MARK: - Encoding

    static func encode(_ records: LoggedRecords, to out: inout ByteWriter) {
        out.int(records.count)
        out.int(records.skippedLines)
        out.strings(records.requestIDs)
        out.array(records.timestamps)
        out.dictionaryStrings(records.models)
        out.dictionaryStrings(records.versions)
        out.array(records.statuses)
        out.array(records.latencies)
        out.array(records.lineBytes)
        out.array(records.sampledRowCounts)
        out.array(records.sampleStarts)
        out.array(records.sampleCounts)
        out.array(records.sampleIndexes)
        out.array(records.omittedBytes)
        out.array(records.schemaIndexes)
        out.array(records.frameRows)
        out.array(records.cellOffsets)
        out.array(records.predictionStarts)
        out.array(records.predictionCounts)
        out.int(records.schemas.count)
        for (schema, columns) in zip(records.schemas, records.cells) {
            out.int(schema.positional ? 1 : 0)
            out.int(schema.fields.count)
            for (field, cells) in zip(schema.fields, columns) {
                out.string(field.name)
                out.int(Int(field.kind.rawValue))
                switch field.kind {
                case .double: out.array(cells.doubles)
                case .int64: out.array(cells.ints)
                case .bool: out.array(cells.bools.map { $0 ? UInt8(1) : 0 })
                case .string: out.dictionaryStrings(cells.strings)
                }
            }
        }
        // Predictions: a kind per row (0 none, 1 number, 2 text), the numbers, the texts, and
        // the scores with a flag for each.
        let predictions = records.predictions
        out.array(
            predictions.map { prediction -> UInt8 in
                switch prediction?.value {
                case nil: 0
                case .number: 1
                case .text: 2
                }
            })
        out.array(predictions.map { prediction -> Double in if case .number(let value)? = prediction?.value { value } else { 0 } })
        out.dictionaryStrings(
            predictions.map { prediction -> String? in if case .text(let text)? = prediction?.value { text } else { nil } })
        out.array(predictions.map { $0?.score == nil ? UInt8(0) : 1 })
        out.array(predictions.map { $0?.score ?? 0 })
    }

    static func decode(_ payload: ArraySlice<UInt8>) -> LoggedRecords? {
        var reader = ByteReader(payload)
        var records = LoggedRecords()
        guard let count = reader.int(), count >= 0, let skipped = reader.int() else { return nil }
        records.skippedLines = skipped
        func ints(_ expected: Int?) -> [Int]? {
            guard let values: [Int] = reader.array(), expected.map({ values.count == $0 }) ?? true else { return nil }
            return values
        }
        guard let requestIDs = reader.strings(), requestIDs.count == count,
            let timestamps: [Int64] = reader.array(), timestamps.count == count,
            let models = reader.dictionaryStrings(), models.count == count,
            let versions = reader.dictionaryStrings(), versions.count == count,
            let statuses = ints(count), let latencies: [Int64] = reader.array(), latencies.count == count,
            let lineBytes = ints(count), let sampledRowCounts = ints(count), let sampleStarts = ints(count), let sampleCounts = ints(count),
            let sampleIndexes = ints(nil), let omittedBytes = ints(count), let schemaIndexes = ints(count), let frameRows = ints(count),
            let cellOffsets = ints(count), let predictionStarts = ints(count), let predictionCounts = ints(count),
            let schemaCount = reader.int(), schemaCount >= 0, schemaCount <= payload.count
        else { return nil }
        records.requestIDs = requestIDs
        records.timestamps = timestamps
        records.models = models.map { $0 ?? "" }
        records.versions = versions.map { $0 ?? "" }
        records.statuses = statuses
        records.latencies = latencies
        records.lineBytes = lineBytes
        records.sampledRowCounts = sampledRowCounts
        records.sampleStarts = sampleStarts
        records.sampleCounts = sampleCounts
        records.sampleIndexes = sampleIndexes
        records.omittedBytes = omittedBytes
        records.schemaIndexes = schemaIndexes
        records.frameRows = frameRows
        records.cellOffsets = cellOffsets
        records.predictionStarts = predictionStarts
        records.predictionCounts = predictionCounts
        for _ in 0..<schemaCount {
            guard let positional = reader.int(), let fieldCount = reader.int(), fieldCount >= 0, fieldCount <= payload.count else {
                return nil
            }
            var fields: [LoggedRecords.Field] = []
            var columns: [LoggedRecords.Cells] = []
            for _ in 0..<fieldCount {
                guard let name = reader.string(), let raw = reader.int(),
                    let kind = UInt8(exactly: raw).flatMap(LoggedRecords.Kind.init(rawValue:))
                else { return nil }
                var cells = LoggedRecords.Cells(kind: kind)
                switch kind {
                case .double:
                    guard let values: [Double] = reader.array() else { return nil }
                    cells.doubles = values
                case .int64:
                    guard let values: [Int64] = reader.array() else { return nil }
                    cells.ints = values
                case .bool:
                    guard let values: [UInt8] = reader.array() else { return nil }
                    cells.bools = values.map { $0 != 0 }
                case .string:
                    guard let values = reader.dictionaryStrings() else { return nil }
                    cells.strings = values
                }
                fields.append(.init(name: name, kind: kind))
                columns.append(cells)
            }
            // Every column of a schema holds the same rows.
            guard columns.allSatisfy({ $0.count == columns.first!.count }) else { return nil }
            records.schemas.append(.init(positional: positional != 0, fields: fields))
            records.cells.append(columns)
        }
        guard let kinds: [UInt8] = reader.array(), let numbers: [Double] = reader.array(), numbers.count == kinds.count,
            let texts = reader.dictionaryStrings(), texts.count == kinds.count,
            let scored: [UInt8] = reader.array(), scored.count == kinds.count,
            let scores: [Double] = reader.array(), scores.count == kinds.count, reader.remaining == 0
        else { return nil }
        records.predictions.reserveCapacity(kinds.count)
        for i in kinds.indices {
            let value: LoggedPrediction.Value
            switch kinds[i] {
            case 0:
                records.predictions.append(nil)
                continue
            case 1: value = .number(numbers[i])
            default: value = .text(texts[i] ?? "")
            }
            records.predictions.append(LoggedPrediction(value: value, score: scored[i] != 0 ? scores[i] : nil))
        }
        return valid(records) ? records : nil
    }

    /// Every index the reader will follow stays inside its array, so a block that passed its
    /// checksum but was written by a different build cannot crash a read.
    static func valid(_ records: LoggedRecords) -> Bool {
        for i in 0..<records.count {
            if records.sampleCounts[i] >= 0 {
                guard records.sampleStarts[i] >= 0, records.sampleStarts[i] + records.sampleCounts[i] <= records.sampleIndexes.count else {
                    return false
                }
            }
            if records.predictionCounts[i] >= 0 {
                guard records.predictionStarts[i] >= 0,
                    records.predictionStarts[i] + records.predictionCounts[i] <= records.predictions.count
                else { return false }
            }
            let schema = records.schemaIndexes[i]
            guard schema >= -1, schema < records.schemas.count, records.frameRows[i] >= 0 else { return false }
            if schema >= 0, let first = records.cells[schema].first {
                guard records.cellOffsets[i] >= 0, records.cellOffsets[i] + records.frameRows[i] <= first.count else { return false }
            }
        }
        return true
    }
}

/// A segment file as `fstat` describes it: what a sidecar block records after its lines
/// were written, and what a reader compares it with (see `InferenceLogSidecar`).
struct SegmentState: Equatable, Sendable {
    var size: Int
    /// The last modification, in nanoseconds since 1970.
    var modified: Int64
    var inode: UInt64

    init(size: Int, modified: Int64, inode: UInt64) {
        self.size = size
        self.modified = modified
        self.inode = inode
    }

    /// The state of the open file `descriptor`; nil when `fstat` fails.
    init?(descriptor: Int32) {
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { return nil }
        self.init(
            size: Int(status.st_size), modified: Int64(status.st_mtim.tv_sec) * 1_000_000_000 + Int64(status.st_mtim.tv_nsec),
            inode: UInt64(status.st_ino))
    }
}

/// Little-endian fields and arrays, as the sidecar lays them out.
struct ByteWriter {
    var bytes: [UInt8]

    init(capacity: Int = 0) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    mutating func uint64(_ value: UInt64) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func int(_ value: Int) { uint64(UInt64(bitPattern: Int64(value))) }

    /// A count and the values' bytes as they are in memory (every supported platform is
    /// little-endian).
    mutating func array<T: BitwiseCopyable>(_ values: [T]) {
        int(values.count)
        values.withUnsafeBytes { bytes.append(contentsOf: $0) }
    }

    mutating func string(_ text: String) {
        var text = text
        text.withUTF8 { utf8 in
            int(utf8.count)
            bytes.append(contentsOf: utf8)
        }
    }

    /// Distinct texts: a count of lengths, the lengths and one run of bytes.
    mutating func strings(_ texts: [String]) {
        var lengths: [Int] = []
        lengths.reserveCapacity(texts.count)
        var blob: [UInt8] = []
        for var text in texts {
            text.withUTF8 { utf8 in
                lengths.append(utf8.count)
                blob.append(contentsOf: utf8)
            }
        }
        array(lengths)
        array(blob)
    }

    /// Texts that repeat (categories, model names): a dictionary and a code per value, -1 for nil.
    mutating func dictionaryStrings(_ texts: [String?]) {
        var codes: [Int32] = []
        codes.reserveCapacity(texts.count)
        var dictionary: [String] = []
        var index: [String: Int32] = [:]
        for text in texts {
            guard let text else {
                codes.append(-1)
                continue
            }
            if let code = index[text] {
                codes.append(code)
            } else {
                let code = Int32(dictionary.count)
                index[text] = code
                dictionary.append(text)
                codes.append(code)
            }
        }
        strings(dictionary)
        array(codes)
    }

    mutating func dictionaryStrings(_ texts: [String]) { dictionaryStrings(texts.map { Optional($0) }) }
}

/// Reads what `ByteWriter` wrote; nil, never a trap, on anything short or out of range.
struct ByteReader {
    private let buffer: ArraySlice<UInt8>
    private var position: Int

    init(_ buffer: ArraySlice<UInt8>) {
        self.buffer = buffer
        position = buffer.startIndex
    }

    var remaining: Int { buffer.endIndex - position }

    mutating func bytes(_ count: Int) -> ArraySlice<UInt8>? {
        guard count >= 0, count <= remaining else { return nil }
        defer { position += count }
        return buffer[position..<(position + count)]
    }

    mutating func uint64() -> UInt64? {
        guard let raw = bytes(8) else { return nil }
        return UInt64(littleEndian: raw.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
    }

    mutating func int() -> Int? { uint64().map { Int(Int64(bitPattern: $0)) } }

    mutating func array<T: BitwiseCopyable>() -> [T]? {
        let size = MemoryLayout<T>.stride
        guard let count = int(), count >= 0, count <= remaining / size, let raw = bytes(count * size) else { return nil }
        return [T](unsafeUninitializedCapacity: count) { buffer, initialized in
            raw.withUnsafeBytes { source in
                UnsafeMutableRawBufferPointer(buffer).copyMemory(from: source)
            }
            initialized = count
        }
    }

    mutating func string() -> String? {
        guard let count = int(), let raw = bytes(count) else { return nil }
        return String(decoding: raw, as: UTF8.self)
    }

    mutating func strings() -> [String]? {
        guard let lengths: [Int] = array(), let blob: [UInt8] = array() else { return nil }
        var texts: [String] = []
        texts.reserveCapacity(lengths.count)
        var offset = 0
        for length in lengths {
            guard length >= 0, length <= blob.count - offset else { return nil }
            texts.append(String(decoding: blob[offset..<(offset + length)], as: UTF8.self))
            offset += length
        }
        return texts
    }

    mutating func dictionaryStrings() -> [String?]? {
        guard let dictionary = strings(), let codes: [Int32] = array() else { return nil }
        var texts: [String?] = []
        texts.reserveCapacity(codes.count)
        for code in codes {
            if code == -1 {
                texts.append(nil)
            } else {
                guard code >= 0, Int(code) < dictionary.count else { return nil }
                texts.append(dictionary[Int(code)])
            }
        }
        return texts
    }
}
