import CairnCore
import Foundation
import Yams

/// One stage's record in `cairn.lock`.
public struct LockEntry: Sendable, Equatable {
    public struct Item: Sendable, Equatable {
        public var path: String
        public var digest: String
        public var size: Int64
        /// For a directory, its file count (DVC's `nfiles`); nil for a file.
        public var files: Int?
        public init(path: String, digest: String, size: Int64, files: Int?) {
            self.path = path
            self.digest = digest
            self.size = size
            self.files = files
        }
    }

    public var cmd: String
    /// The cache key the stage ran with, and its MLflow run (Cairn's additions to DVC's shape).
    public var key: String
    public var run: String?
    public var deps: [Item]
    /// file → key → the value's canonical JSON.
    public var params: [String: [String: String]]
    public var outs: [Item]

    public init(cmd: String, key: String, run: String?, deps: [Item], params: [String: [String: String]], outs: [Item]) {
        self.cmd = cmd
        self.key = key
        self.run = run
        self.deps = deps
        self.params = params
        self.outs = outs
    }
}

/// `cairn.lock`: what ran, in `dvc.lock`'s shape (schema 2.0: per stage `cmd`, `deps`,
/// `params`, `outs`), so the file reads like the one DVC users know. Two deliberate
/// differences: the hash is sha256, written as DVC 3 writes its own (`hash: sha256` naming the
/// algorithm and the digest under that name, where DVC writes `hash: md5` and `md5:`), and each
/// stage also records its Cairn cache `key` and MLflow `run`. Written whole, to a temporary
/// file then renamed, after each stage, so a kill leaves the previous complete file.
public enum LockFile {
    public static let name = "cairn.lock"

    public static func render(_ entries: [String: LockEntry], order: [String]) -> String {
        var text = "schema: '2.0'\nstages:\n"
        let known = Set(order)
        let names = order.filter { entries[$0] != nil } + entries.keys.filter { !known.contains($0) }.sorted()
        for name in names {
            guard let entry = entries[name] else { continue }
            text += "  \(quote(name)):\n"
            text += "    cmd: \(quote(entry.cmd))\n"
            text += "    key: \(quote(entry.key))\n"
            if let run = entry.run { text += "    run: \(quote(run))\n" }
            if !entry.deps.isEmpty {
                text += "    deps:\n"
                for item in entry.deps { text += render(item) }
            }
            if !entry.params.isEmpty {
                text += "    params:\n"
                for file in entry.params.keys.sorted() {
                    text += "      \(quote(file)):\n"
                    for (key, value) in entry.params[file]!.sorted(by: { $0.key < $1.key }) {
                        // Canonical JSON is valid YAML (flow style).
                        text += "        \(quote(key)): \(value)\n"
                    }
                }
            }
            if !entry.outs.isEmpty {
                text += "    outs:\n"
                for item in entry.outs { text += render(item) }
            }
        }
        return text
    }

    private static func render(_ item: LockEntry.Item) -> String {
        var text = "    - path: \(quote(item.path))\n      hash: sha256\n      sha256: \(item.digest)\n      size: \(item.size)\n"
        if let files = item.files { text += "      nfiles: \(files)\n" }
        return text
    }

    /// A YAML double-quoted scalar (JSON's escapes are YAML's).
    static func quote(_ text: String) -> String {
        var writer = JSONWriter()
        writer.string(text)
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    /// Reads a lock file; nil when absent or not a lock this engine wrote (then every stage
    /// is treated as never run, never as up to date).
    public static func read(_ path: String) -> [String: LockEntry]? {
        guard let data = FileManager.default.contents(atPath: path),
            let document = try? Yams.load(yaml: String(decoding: data, as: UTF8.self)) as? [String: Any],
            let stages = document["stages"] as? [String: Any]
        else { return nil }
        var entries: [String: LockEntry] = [:]
        for (name, value) in stages {
            guard let stage = value as? [String: Any], let cmd = stage["cmd"] as? String, let key = stage["key"] as? String else {
                continue
            }
            func items(_ value: Any?) -> [LockEntry.Item] {
                (value as? [Any] ?? []).compactMap { raw in
                    guard let item = raw as? [String: Any], let path = item["path"] as? String, let digest = item["sha256"] as? String
                    else { return nil }
                    return LockEntry.Item(
                        path: path, digest: digest, size: Int64(item["size"] as? Int ?? 0), files: item["nfiles"] as? Int)
                }
            }
            var params: [String: [String: String]] = [:]
            for (file, values) in stage["params"] as? [String: Any] ?? [:] {
                var rendered: [String: String] = [:]
                for (key, value) in values as? [String: Any] ?? [:] { rendered[key] = ParamsReader.canonical(value) }
                params[file] = rendered
            }
            entries[name] = LockEntry(
                cmd: cmd, key: key, run: stage["run"] as? String, deps: items(stage["deps"]), params: params, outs: items(stage["outs"]))
        }
        return entries
    }
}
