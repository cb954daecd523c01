import CairnCore
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

extension InferenceLogReader {
    /// The records `query` selects, for a monitor: the same records, order and payload
    /// budget as `read(_:)`, but taken from each segment's columnar sidecar where it can be
    /// trusted, already decoded, and from the JSON only where it cannot (no sidecar, a
    /// sidecar that stops short after a crash, a block that does not match the segment).
    /// Blocking: call it on a thread pool.
    public func readWindow(_ query: InferenceLogQuery) throws -> LoggedWindow {
        var read = WindowRead()
        func include(model: String, version: String, timestamp: Int64) -> Bool {
            if let wanted = query.model, model != wanted { return false }
            if let wanted = query.version, version != wanted { return false }
            if let since = query.since, timestamp < since { return false }
            if let until = query.until, timestamp >= until { return false }
            return true
        }
        // As `read`, record by record: the same trims of the payload at the same points,
        // so the same records keep theirs, and what is released (a block's columns once
        // none of its records keeps its payload) no longer holds memory.
        func added(_ bytes: Int) {
            read.payloadBytes += bytes
            if let budget = query.maxPayloadBytes, read.payloadBytes > budget + budget / 2 {
                read.payloadBytes = read.trim(to: budget)
            }
        }
        // As `read`: newest segments first, skipping those that closed before the range or
        // before the oldest of the newest `lastRecords` already found.
        for segment in try segments().reversed() {
            if let last = query.lastRecords, last > 0, read.timestamps.count >= last {
                let cutoff = read.timestamps.sorted(by: >)[last - 1]
                if segment.modified < cutoff { continue }
            }
            if let since = query.since, segment.modified < since { continue }
            func readJSON(_ range: Range<Int>?) throws {
                try Self.forEachLine(path: segment.path, range: range) { line in
                    guard let entry = Self.parse(line) else {
                        read.skipped += 1
                        return true
                    }
                    guard include(model: entry.model, version: entry.version, timestamp: entry.timestamp) else { return true }
                    read.append(block: -1, index: read.entries.count, timestamp: entry.timestamp)
                    read.entries.append(entry.owningItsBytes())
                    added(line.count)
                    return true
                }
            }
            var covered = 0
            for block in Self.sidecarBlocks(segment: segment.path) {
                if block.segmentRange.lowerBound > covered { try readJSON(covered..<block.segmentRange.lowerBound) }
                let records = block.records
                read.skipped += records.skippedLines
                let blockIndex = read.blocks.count
                read.blocks.append(records)
                read.liveRecords.append(0)
                for index in 0..<records.count
                where include(model: records.models[index], version: records.versions[index], timestamp: records.timestamps[index]) {
                    read.append(block: blockIndex, index: index, timestamp: records.timestamps[index])
                    read.liveRecords[blockIndex] += 1
                    added(records.lineBytes[index])
                }
                if read.liveRecords[blockIndex] == 0 { read.blocks[blockIndex].releasePayload() }
                covered = block.segmentRange.upperBound
            }
            try readJSON(covered..<Int.max)
        }

        // Oldest first, as `read` sorts: the order is usually already right (one writer
        // stamps records as it queues them), so check before paying for a sort.
        var order = Array(read.blockOfRecord.indices)
        if !order.indices.dropFirst().allSatisfy({ !read.before(order[$0], order[$0 - 1]) }) {
            order.sort(by: read.before)
        }
        if let last = query.lastRecords, order.count > last {
            order.removeFirst(order.count - max(0, last))
        }
        // As `trimPayload` after the sort: the newest run of records whose lines fit the
        // budget keep their payload.
        if let budget = query.maxPayloadBytes { _ = read.trim(to: budget, among: order) }
        return LoggedWindow(
            blocks: read.blocks, entries: read.entries, blockOfRecord: order.map { read.blockOfRecord[$0] },
            indexOfRecord: order.map { read.indexOfRecord[$0] },
            payloadOmitted: order.map { read.omitted[$0] }, skippedLines: read.skipped)
    }

    /// The trustworthy blocks of a segment's sidecar (none when it has none): all of them
    /// while the segment is as the writer left it after the last one, none otherwise (see
    /// `InferenceLogSidecar`). The sidecar is read before the segment is looked at: the
    /// writer appends lines before the block that covers them, so every block read covers
    /// lines already there, and a segment found longer than the last block is most likely a
    /// flush in flight, whose block the next read of the sidecar finds.
    static func sidecarBlocks(segment: String) -> [InferenceLogSidecar.Block] {
        let path = InferenceLogSidecar.path(ofSegment: segment)
        guard var sidecar = readWhole(path), !sidecar.isEmpty, let handle = FileHandle(forReadingAtPath: segment) else { return [] }
        defer { try? handle.close() }
        let name = (segment as NSString).lastPathComponent
        var blocks: [InferenceLogSidecar.Block] = []
        var parsed = 0
        for _ in 0..<3 {
            guard let state = SegmentState(descriptor: handle.fileDescriptor) else { return [] }
            let (more, end) = InferenceLogSidecar.blocks(
                sidecar[parsed...], after: blocks.last?.segmentRange.upperBound ?? 0, segment: name, segmentBytes: state.size
            ) { offset, count in
                guard (try? handle.seek(toOffset: UInt64(offset))) != nil, let bytes = try? handle.read(upToCount: count) else { return [] }
                return Array(bytes)
            }
            blocks += more
            parsed = end
            guard let last = blocks.last else { return [] }
            if last.state == state { return blocks }
            // Written after its last block (an edit, a crash's tail) unless a flush is in
            // flight: then the segment is longer, and its block (maybe half written when the
            // sidecar was read) is about to follow.
            guard state.size > last.segmentRange.upperBound, let appended = readWhole(path, from: sidecar.count), !appended.isEmpty
            else { return [] }
            sidecar += appended
        }
        return []
    }

    /// A file's bytes from `offset` on, read straight into an array (no `Data` to copy out
    /// of: a sidecar is hundreds of megabytes for a million-row window); nil when it cannot
    /// be opened.
    static func readWhole(_ path: String, from offset: Int = 0) -> [UInt8]? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { return nil }
        let size = max(0, Int(status.st_size) - offset)
        return [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
            count = 0
            while count < size {
                let read = pread(descriptor, buffer.baseAddress! + count, size - count, off_t(offset + count))
                if read < 0, errno == EINTR { continue }
                guard read > 0 else { break }
                count += read
            }
        }
    }
}

/// The records a window read has found so far, in reading order: each a sidecar record
/// (block, index) or a parsed JSON entry (block -1).
struct WindowRead {
    var blocks: [LoggedRecords] = []
    /// Per block, its records in the window whose payload is still kept.
    var liveRecords: [Int] = []
    var entries: [InferenceLogEntry] = []
    var blockOfRecord: [Int] = []
    var indexOfRecord: [Int] = []
    var timestamps: [Int64] = []
    var omitted: [Bool] = []
    var skipped = 0
    var payloadBytes = 0

    mutating func append(block: Int, index: Int, timestamp: Int64) {
        blockOfRecord.append(block)
        indexOfRecord.append(index)
        timestamps.append(timestamp)
        omitted.append(false)
    }

    func requestID(_ record: Int) -> String {
        blockOfRecord[record] >= 0
            ? blocks[blockOfRecord[record]].requestIDs[indexOfRecord[record]] : entries[indexOfRecord[record]].requestID
    }

    func lineBytes(_ record: Int) -> Int {
        blockOfRecord[record] >= 0
            ? blocks[blockOfRecord[record]].lineBytes[indexOfRecord[record]] : entries[indexOfRecord[record]].line.count
    }

    /// `read`'s order: time, then request id.
    func before(_ a: Int, _ b: Int) -> Bool {
        timestamps[a] != timestamps[b] ? timestamps[a] < timestamps[b] : requestID(a) < requestID(b)
    }

    /// `InferenceLogReader.trimPayload` over these records (all of them, or `among`):
    /// releases the payload of all but the newest whose lines fit in `budget`; returns the
    /// bytes kept.
    mutating func trim(to budget: Int, among: [Int]? = nil) -> Int {
        let newestFirst = (among ?? Array(blockOfRecord.indices)).filter { !omitted[$0] }.sorted { before($1, $0) }
        var kept = 0
        var full = false
        for record in newestFirst {
            let bytes = lineBytes(record)
            if !full, kept + bytes <= budget {
                kept += bytes
                continue
            }
            full = true
            omitted[record] = true
            let block = blockOfRecord[record]
            if block < 0 {
                entries[indexOfRecord[record]].releasePayload()
            } else {
                liveRecords[block] -= 1
                if liveRecords[block] == 0 { blocks[block].releasePayload() }
            }
        }
        return kept
    }
}
