import CairnArtifacts
import CairnCore
import CairnTabular
import CairnUI
import NIOCore
import Yams

/// Reads as much of an artifact as its preview needs, and no more: at most
/// `ArtifactPreview.textLimit` bytes for text, the head of a CSV however large the file,
/// nothing for images and binary files (the page links the download instead). Reads go
/// through the repository's streaming read, which does its file I/O on the thread pool.
struct ArtifactPreviewReader: Sendable {
    let repository: any ArtifactRepository

    func preview(of path: ArtifactPath, size: Int64) async throws -> ArtifactPreview {
        let name = path.name ?? ""
        let kind = ArtifactPreview.kind(ofFileNamed: name)
        switch kind {
        case .image:
            guard size <= ArtifactPreview.imageLimit else {
                return ArtifactPreview(
                    kind: .binary,
                    notice:
                        "This image is \(UIFormat.bytes(size)), too large to show here (limit \(UIFormat.bytes(ArtifactPreview.imageLimit))); download it instead."
                )
            }
            return ArtifactPreview(kind: .image)
        case .binary:
            return Self.binaryNotice(size: size)
        case .text, .json, .yaml, .mlmodel, .csv, .tsv:
            break
        }
        guard let limit = ArtifactPreview.bytesToRead(kind: kind, size: size) else {
            return ArtifactPreview(
                kind: kind,
                notice:
                    "This file is \(UIFormat.bytes(size)), too large to preview (limit \(UIFormat.bytes(ArtifactPreview.textLimit))); download it instead."
            )
        }
        let bytes = try await readPrefix(path, limit: Int(limit))
        let truncated = Int64(bytes.count) < size
        guard let text = ArtifactPreview.decodeText(bytes, truncated: truncated) else { return Self.binaryNotice(size: size) }
        switch kind {
        case .json:
            return ArtifactPreview(kind: .json, text: ArtifactPreview.prettyJSON(text))
        case .mlmodel:
            return ArtifactPreview(kind: .mlmodel, text: text, signature: Self.signature(inMLmodel: text))
        case .csv, .tsv:
            return Self.table(text, kind: kind, truncated: truncated)
        default:
            return ArtifactPreview(kind: kind, text: text)
        }
    }

    static func binaryNotice(size: Int64) -> ArtifactPreview {
        ArtifactPreview(kind: .binary, notice: "Binary file (\(UIFormat.bytes(size))): not shown as text; download it instead.")
    }

    /// The first `limit` bytes of the file; the read stops there, so the rest of a large file
    /// is never read.
    func readPrefix(_ path: ArtifactPath, limit: Int) async throws -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(min(limit, 1 << 16))
        for try await chunk in try await repository.read(path) {
            bytes += chunk.readableBytesView.prefix(limit - bytes.count)
            if bytes.count >= limit { break }
        }
        return bytes
    }

    /// The signature's inputs and outputs; nil when the file has none or does not parse.
    static func signature(inMLmodel text: String) -> SignatureTable? {
        guard let root = try? Yams.load(yaml: text) as? [String: Any], let signature = root["signature"] as? [String: Any] else {
            return nil
        }
        let inputs = (signature["inputs"] as? String).flatMap(SignatureTable.rows(fromSchemaJSON:)) ?? []
        let outputs = (signature["outputs"] as? String).flatMap(SignatureTable.rows(fromSchemaJSON:)) ?? []
        guard !inputs.isEmpty || !outputs.isEmpty else { return nil }
        return SignatureTable(inputs: inputs, outputs: outputs)
    }

    /// The first rows as a table. A CSV that does not parse (an unterminated quote, say) is
    /// shown as text instead.
    static func table(_ text: String, kind: ArtifactPreview.Kind, truncated: Bool) -> ArtifactPreview {
        var records: [[String]] = []
        let rowLimit = ArtifactPreview.tableRowLimit + 1
        if kind == .tsv {
            for line in text.split(omittingEmptySubsequences: true, whereSeparator: \.isNewline).prefix(rowLimit + 1) {
                records.append(line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init))
            }
        } else {
            var parser = CSVParser()
            do {
                // Feed line by line so a large head stops being parsed once enough rows are in.
                var remaining = Substring(text)
                while records.count <= rowLimit, !remaining.isEmpty {
                    let end = remaining.firstIndex(of: "\n").map { remaining.index(after: $0) } ?? remaining.endIndex
                    records += try parser.feed(remaining[..<end].utf8)
                    remaining = remaining[end...]
                }
                if remaining.isEmpty, !truncated, let last = try parser.finish() { records.append(last) }
            } catch {
                return ArtifactPreview(kind: kind, text: text, notice: "Not shown as a table: \(error.message)")
            }
        }
        guard let header = records.first else { return ArtifactPreview(kind: kind, text: text) }
        let body = Array(records.dropFirst().prefix(ArtifactPreview.tableRowLimit))
        let more = records.count - 1 > body.count || truncated
        let note = more ? "The first \(body.count) rows; download the file for all of it." : nil
        return ArtifactPreview(kind: kind, table: PreviewTable(header: header, rows: body, note: note))
    }
}
