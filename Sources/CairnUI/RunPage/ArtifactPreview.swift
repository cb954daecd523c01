import CairnCore

/// What the artifacts tab shows for one file: its text (pretty JSON, YAML, plain text), a
/// table (CSV), an image, an `MLmodel`'s signature, or a notice saying why it is not shown
/// (too large, binary) with its size and a download link. Every field is a value the
/// template escapes; none is markup.
public struct ArtifactPreview: Sendable, Equatable {
    /// How a file is previewed, chosen by its name as MLflow's UI does.
    public enum Kind: String, Sendable, Equatable {
        case text, json, yaml, csv, tsv, image, mlmodel, binary
    }

    public var kind: Kind
    public var text: String?
    public var table: PreviewTable?
    public var imageURL: String?
    public var signature: SignatureTable?
    /// Why nothing (or only part) is shown.
    public var notice: String?
    /// Template switches (Mustache renders stored properties only).
    public var isImage: Bool
    public var isTable: Bool

    public init(
        kind: Kind, text: String? = nil, table: PreviewTable? = nil, imageURL: String? = nil, signature: SignatureTable? = nil,
        notice: String? = nil
    ) {
        self.kind = kind
        self.text = text
        self.table = table
        self.imageURL = imageURL
        self.signature = signature
        self.notice = notice
        self.isImage = imageURL != nil
        self.isTable = table != nil
    }

    /// Files larger than this are not read for a text preview; the page offers the download.
    public static let textLimit: Int64 = 1 << 20
    /// Images larger than this are not embedded.
    public static let imageLimit: Int64 = 20 << 20
    /// A CSV preview reads at most this much of the file, however large, and shows at most
    /// `tableRowLimit` rows of it.
    public static let tableByteLimit: Int64 = 256 << 10
    public static let tableRowLimit = 100

    public static func kind(ofFileNamed name: String) -> Kind {
        let lower = name.lowercased()
        if lower == "mlmodel" { return .mlmodel }
        guard let dot = lower.lastIndex(of: ".") else {
            // Extensionless files (`MLproject`, `LICENSE`) are read as text if they decode.
            return .text
        }
        switch lower[lower.index(after: dot)...] {
        case "json", "jsonl", "ipynb": return .json
        case "yaml", "yml": return .yaml
        case "csv": return .csv
        case "tsv": return .tsv
        case "png", "jpg", "jpeg", "gif", "bmp", "webp", "svg": return .image
        case "txt", "log", "err", "out", "md", "markdown", "rst", "cfg", "ini", "toml", "conf", "py", "r", "sql", "sh", "js", "ts",
            "html", "htm", "xml", "css", "swift", "java", "scala", "go", "rs", "c", "h", "cpp", "proto", "tex", "mlproject", "env",
            "properties", "requirements", "lock":
            return .text
        case "pkl", "pickle", "joblib", "npy", "npz", "pt", "pth", "onnx", "pb", "h5", "hdf5", "parquet", "feather", "arrow",
            "bin", "zip", "gz", "tgz", "bz2", "xz", "tar", "whl", "so", "dylib", "dll", "exe", "pdf", "safetensors", "ckpt",
            "model", "db", "sqlite":
            return .binary
        default: return .text
        }
    }

    /// How many bytes a preview of `kind` reads of a file of `size` bytes; nil when it reads
    /// none (an image, a binary file, or a text file past the limit).
    public static func bytesToRead(kind: Kind, size: Int64) -> Int64? {
        switch kind {
        case .image, .binary: return nil
        case .csv, .tsv: return min(size, tableByteLimit)
        case .text, .json, .yaml, .mlmodel: return size <= textLimit ? size : nil
        }
    }

    /// The bytes as text, or nil when they are not: a NUL byte or invalid UTF-8 marks a binary
    /// file. When `truncated`, a multi-byte character cut by the limit is dropped, not counted
    /// against the file.
    public static func decodeText(_ bytes: [UInt8], truncated: Bool) -> String? {
        var bytes = bytes[...]
        if truncated {
            // Drop an incomplete trailing sequence: a lead byte among the last three whose
            // character needs more bytes than are left.
            for back in 1...3 where bytes.count >= back {
                let index = bytes.endIndex - back
                let byte = bytes[index]
                guard byte & 0xC0 == 0xC0 else { continue }
                let length = byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : 2
                if back < length { bytes = bytes[..<index] }
                break
            }
        }
        guard !bytes.contains(0) else { return nil }
        var decoder = UTF8()
        var iterator = bytes.makeIterator()
        var text = String.UnicodeScalarView()
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue(let scalar): text.append(scalar)
            case .emptyInput: return String(text)
            case .error: return nil
            }
        }
    }

    /// `text` re-indented when it is a JSON document, as it is otherwise (JSON Lines, or a
    /// file that does not parse).
    public static func prettyJSON(_ text: String) -> String {
        guard let value = try? JSONValue.parse(text) else { return text }
        var out = ""
        writePretty(value, indent: 0, into: &out)
        return out
    }

    private static func writePretty(_ value: JSONValue, indent: Int, into out: inout String) {
        let pad = String(repeating: "  ", count: indent + 1)
        let closePad = String(repeating: "  ", count: indent)
        switch value {
        case .null: out += "null"
        case .bool(let flag): out += flag ? "true" : "false"
        case .number(_, let raw): out += raw
        case .string(let string): out += quoted(string)
        case .array(let items):
            guard !items.isEmpty else {
                out += "[]"
                return
            }
            out += "[\n"
            for (index, item) in items.enumerated() {
                out += pad
                writePretty(item, indent: indent + 1, into: &out)
                out += index < items.count - 1 ? ",\n" : "\n"
            }
            out += closePad + "]"
        case .object(let fields):
            guard !fields.isEmpty else {
                out += "{}"
                return
            }
            out += "{\n"
            var index = 0
            for (key, item) in fields {
                out += pad + quoted(key) + ": "
                writePretty(item, indent: indent + 1, into: &out)
                index += 1
                out += index < fields.count ? ",\n" : "\n"
            }
            out += closePad + "}"
        }
    }

    private static func quoted(_ string: String) -> String {
        var writer = JSONWriter(capacity: string.utf8.count + 2)
        writer.string(string)
        return String(decoding: writer.takeBytes(), as: UTF8.self)
    }
}

/// The first rows of a CSV or TSV file.
public struct PreviewTable: Sendable, Equatable {
    public var header: [String]
    public var rows: [PreviewRow]
    /// "first 100 rows" style note when the file has more than is shown.
    public var note: String?

    public init(header: [String], rows: [[String]], note: String?) {
        self.header = header
        self.rows = rows.map(PreviewRow.init(cells:))
        self.note = note
    }
}

public struct PreviewRow: Sendable, Equatable {
    public var cells: [String]
}

/// An `MLmodel`'s signature: its inputs and outputs, one row per column or tensor.
public struct SignatureTable: Sendable, Equatable {
    public var inputs: [SignatureRow]
    public var outputs: [SignatureRow]
    public var hasInputs: Bool
    public var hasOutputs: Bool

    public init(inputs: [SignatureRow], outputs: [SignatureRow]) {
        self.inputs = inputs
        self.outputs = outputs
        self.hasInputs = !inputs.isEmpty
        self.hasOutputs = !outputs.isEmpty
    }

    /// Rows of one side of a signature: MLflow writes each as a JSON string holding a list of
    /// `{"name", "type", "required"}` columns or one `{"type": "tensor", "tensor-spec"}`.
    /// Nil when the text is not such a list.
    public static func rows(fromSchemaJSON text: String) -> [SignatureRow]? {
        guard case .array(let entries)? = try? JSONValue.parse(text) else { return nil }
        var rows: [SignatureRow] = []
        for (index, entry) in entries.enumerated() {
            guard case .string(let type)? = entry["type"] else { return nil }
            var name = "#\(index)"
            if case .string(let given)? = entry["name"] { name = given }
            var detail = type
            if type == "tensor", case .object(let spec)? = entry["tensor-spec"] {
                var dtype = "?"
                if case .string(let given)? = spec["dtype"] { dtype = given }
                var shape: [String] = []
                if case .array(let dims)? = spec["shape"] {
                    shape = dims.map { if case .number(_, let raw) = $0 { raw } else { "?" } }
                }
                detail = "tensor \(dtype) (\(shape.joined(separator: ", ")))"
            }
            var required = true
            if case .bool(let flag)? = entry["required"] { required = flag }
            rows.append(SignatureRow(name: name, type: detail, required: required ? "yes" : "no"))
        }
        return rows
    }
}

public struct SignatureRow: Sendable, Equatable {
    public var name: String
    public var type: String
    public var required: String

    public init(name: String, type: String, required: String) {
        self.name = name
        self.type = type
        self.required = required
    }
}
