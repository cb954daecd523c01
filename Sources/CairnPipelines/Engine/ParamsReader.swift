import CairnCore
import Foundation
import Yams

/// Reads the params a stage uses (`params:`) from their YAML (or JSON) files and renders each
/// value as canonical JSON, the form the cache key and the stage's MLflow params use.
struct ParamsReader {
    /// `directory` is the stage's working directory (absolute); params files are relative to it, as in DVC.
    let directory: String
    private var files: [String: Any] = [:]

    init(directory: String) {
        self.directory = directory
    }

    /// `file:key` → canonical JSON. Blocking (reads files).
    mutating func values(for references: [StageSpec.ParamsReference], stage: String) throws -> [String: String] {
        var values: [String: String] = [:]
        for reference in references {
            let document = try load(reference.file, stage: stage)
            if reference.keys.isEmpty {
                guard let mapping = Self.mapping(document) else { continue }
                for (key, value) in mapping { values["\(reference.file):\(key)"] = Self.canonical(value) }
                continue
            }
            for key in reference.keys {
                guard let value = Self.lookup(key, in: document) else {
                    throw CairnError.invalidParameter("stage '\(stage)': param '\(key)' is not in \(reference.file)")
                }
                values["\(reference.file):\(key)"] = Self.canonical(value)
            }
        }
        return values
    }

    private mutating func load(_ file: String, stage: String) throws -> Any {
        if let cached = files[file] { return cached }
        let path = file.hasPrefix("/") ? file : "\(directory)/\(file)"
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CairnError.invalidParameter("stage '\(stage)': params file \(file) does not exist")
        }
        let text = String(decoding: data, as: UTF8.self)
        let document: Any
        do {
            document = try Yams.load(yaml: text) ?? [String: Any]()
        } catch {
            throw CairnError.invalidParameter("stage '\(stage)': params file \(file) is not valid YAML: \(error)")
        }
        files[file] = document
        return document
    }

    private static func mapping(_ value: Any) -> [String: Any]? {
        if let mapping = value as? [String: Any] { return mapping }
        if let mapping = value as? [AnyHashable: Any] {
            return Dictionary(mapping.map { ("\($0.key)", $0.value) }, uniquingKeysWith: { a, _ in a })
        }
        return nil
    }

    /// A dotted key (`train.lr`; a list index as a number, `layers.0`).
    static func lookup(_ key: String, in document: Any) -> Any? {
        var current: Any = document
        for part in key.split(separator: ".", omittingEmptySubsequences: false).map(String.init) {
            if let mapping = mapping(current), let next = mapping[part] {
                current = next
            } else if let list = current as? [Any], let index = Int(part), list.indices.contains(index) {
                current = list[index]
            } else {
                return nil
            }
        }
        return current
    }

    /// JSON with sorted keys and no whitespace.
    static func canonical(_ value: Any) -> String {
        var writer = JSONWriter()
        write(value, into: &writer)
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    private static func write(_ value: Any, into writer: inout JSONWriter) {
        switch value {
        case let flag as Bool: writer.bool(flag)
        case let number as Int: writer.int(Int64(number))
        case let number as Double: writer.raw(number.isFinite ? "\(number)" : "\"\(number)\"")
        case let text as String: writer.string(text)
        case let list as [Any]:
            writer.beginArray()
            for item in list { write(item, into: &writer) }
            writer.endArray()
        case is NSNull: writer.null()
        default:
            if let mapping = mapping(value) {
                writer.beginObject()
                for key in mapping.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
                    writer.key(key)
                    write(mapping[key]!, into: &writer)
                }
                writer.endObject()
            } else {
                writer.string("\(value)")
            }
        }
    }
}
