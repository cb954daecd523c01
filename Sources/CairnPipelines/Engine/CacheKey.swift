import CairnCore
import Crypto
import Foundation

/// What a stage's result depends on, kept as components so `status --why` can name the first
/// one that changed, and hashed into a versioned key: `v1:` + sha256 of the canonical JSON of
/// the components (keys sorted, arrays in a defined order, no whitespace).
///
/// Unlike KFP's names-only key or Metaflow's reuse by step name, every input is there by
/// content: the rendered command (or the gate spec), the resolved params values, the sorted
/// `(path, sha256)` of deps, the out paths with their flags, and the executor's fingerprint.
public struct CacheKeyComponents: Sendable, Equatable, Codable {
    /// Bumped whenever what goes into the key changes, so old entries can never match.
    public static let currentVersion = 1

    public struct Dependency: Sendable, Equatable, Codable {
        public var path: String
        /// nil when the path does not exist (such a key never hits: the stage cannot run).
        public var digest: String?
        public init(path: String, digest: String?) {
            self.path = path
            self.digest = digest
        }
    }

    public struct Output: Sendable, Equatable, Codable {
        public var path: String
        public var cache: Bool
        public var persist: Bool
        public init(path: String, cache: Bool, persist: Bool) {
            self.path = path
            self.cache = cache
            self.persist = persist
        }
    }

    public var version: Int
    /// The rendered command lines joined with ` && ` (as run), or `gate:` and the gate spec's
    /// canonical JSON.
    public var command: String
    /// `file:key` → the value's canonical JSON.
    public var params: [String: String]
    /// Sorted by path.
    public var deps: [Dependency]
    /// Outs, metrics and plots, sorted by path.
    public var outs: [Output]
    public var executor: String

    public init(
        version: Int = CacheKeyComponents.currentVersion, command: String, params: [String: String], deps: [Dependency],
        outs: [Output], executor: String
    ) {
        self.version = version
        self.command = command
        self.params = params
        self.deps = deps.sorted { $0.path.utf8.lexicographicallyPrecedes($1.path.utf8) }
        self.outs = outs.sorted { $0.path.utf8.lexicographicallyPrecedes($1.path.utf8) }
        self.executor = executor
    }

    /// The canonical JSON the key hashes: the same components give the same bytes in every
    /// process, whatever order params or deps were read in.
    public var canonicalJSON: [UInt8] {
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("command")
        writer.string(command)
        writer.key("deps")
        writer.beginArray()
        for dep in deps {
            writer.beginArray()
            writer.string(dep.path)
            if let digest = dep.digest { writer.string(digest) } else { writer.null() }
            writer.endArray()
        }
        writer.endArray()
        writer.key("executor")
        writer.string(executor)
        writer.key("outs")
        writer.beginArray()
        for out in outs {
            writer.beginObject()
            writer.key("cache")
            writer.bool(out.cache)
            writer.key("path")
            writer.string(out.path)
            writer.key("persist")
            writer.bool(out.persist)
            writer.endObject()
        }
        writer.endArray()
        writer.key("params")
        writer.beginObject()
        for name in params.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
            writer.key(name)
            writer.raw(params[name]!)
        }
        writer.endObject()
        writer.key("version")
        writer.int(Int64(version))
        writer.endObject()
        return writer.bytes
    }

    /// `v<version>:<sha256 hex>`.
    public var key: String {
        "v\(version):" + Hex.encode(SHA256.hash(data: canonicalJSON))
    }

    /// The stored form (Codable's, keys sorted), read back by `decode`.
    public var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    public static func decode(_ json: String) -> CacheKeyComponents? {
        try? JSONDecoder().decode(CacheKeyComponents.self, from: Data(json.utf8))
    }

    /// The first component that differs from `previous`, in the order a person would look:
    /// the command, then params, deps, outs and the executor; nil when none does.
    /// E.g. `deps: data/train.csv changed`, `params: lr 0.1 → 0.2`.
    public func firstDifference(from previous: CacheKeyComponents) -> String? {
        if version != previous.version { return "key version: \(previous.version) → \(version)" }
        if command != previous.command { return "cmd changed" }
        if params != previous.params {
            let names = Set(params.keys).union(previous.params.keys).sorted()
            for name in names where params[name] != previous.params[name] {
                let before = previous.params[name].map(Self.shortValue) ?? "(absent)"
                let after = params[name].map(Self.shortValue) ?? "(absent)"
                return "params: \(Self.paramName(name)) \(before) → \(after)"
            }
        }
        if deps != previous.deps {
            let old = Dictionary(previous.deps.map { ($0.path, $0.digest) }, uniquingKeysWith: { a, _ in a })
            let new = Dictionary(deps.map { ($0.path, $0.digest) }, uniquingKeysWith: { a, _ in a })
            for dep in deps {
                guard let before = old[dep.path] else { return "deps: \(dep.path) added" }
                if before != dep.digest { return dep.digest == nil ? "deps: \(dep.path) missing" : "deps: \(dep.path) changed" }
            }
            for dep in previous.deps where new[dep.path] == nil { return "deps: \(dep.path) removed" }
        }
        if outs != previous.outs {
            let old = Dictionary(previous.outs.map { ($0.path, $0) }, uniquingKeysWith: { a, _ in a })
            for out in outs {
                guard let before = old[out.path] else { return "outs: \(out.path) added" }
                if before != out { return "outs: \(out.path) flags changed" }
            }
            return
                "outs: removed \(previous.outs.map(\.path).filter { path in !outs.contains { $0.path == path } }.joined(separator: ", "))"
        }
        if executor != previous.executor { return "executor: \(previous.executor) → \(executor)" }
        return nil
    }

    /// `params.yaml:train.lr` is shown as `train.lr`; another file's keys keep the file.
    private static func paramName(_ name: String) -> String {
        name.hasPrefix("params.yaml:") ? String(name.dropFirst("params.yaml:".count)) : name
    }

    private static func shortValue(_ json: String) -> String {
        json.count > 60 ? String(json.prefix(57)) + "…" : json
    }
}
