import CairnCore
import Foundation
import Synchronization
import Testing

@testable import CairnServing

@Suite struct ModelCacheTests {
    /// A fresh cache directory, removed after `body`.
    func withCache(_ body: (ModelCache) async throws -> Void) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-cache-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try await body(ModelCache(directory: directory))
    }

    /// Writes a small model folder: an MLmodel file and `bytes` of weights.
    static func writeModel(_ directory: String, bytes: Int = 10) throws {
        try Data("flavors: {}\n".utf8).write(to: URL(fileURLWithPath: directory + "/MLmodel"))
        try Data(repeating: 7, count: bytes).write(to: URL(fileURLWithPath: directory + "/model.onnx"))
    }

    /// Sets a folder's last-used time.
    static func age(_ path: String, days: Double) throws {
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -days * 86_400)], ofItemAtPath: path)
    }

    func entries(_ cache: ModelCache) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: cache.directory).filter { !$0.hasSuffix(".lock") }.sorted()
    }

    @Test func keyIsStableReadableAndTellsSourcesApart() {
        let key = ModelCache.key(label: "churn-v3", source: "http://a:5000\nmlflow-artifacts:/1/models/m-1/artifacts")
        #expect(key == ModelCache.key(label: "churn-v3", source: "http://a:5000\nmlflow-artifacts:/1/models/m-1/artifacts"))
        #expect(key.hasPrefix("churn-v3-"))
        #expect(key.count == "churn-v3-".count + 16)
        // The same name and version from another server, or re-registered elsewhere, is another model.
        #expect(key != ModelCache.key(label: "churn-v3", source: "http://b:5000\nmlflow-artifacts:/1/models/m-1/artifacts"))
        #expect(key != ModelCache.key(label: "churn-v3", source: "http://a:5000\nmlflow-artifacts:/1/models/m-2/artifacts"))
        #expect(!ModelCache.key(label: "../../etc/x y", source: "s").contains("/"))
    }

    @Test func defaultDirectoryFollowsTheEnvironment() {
        #expect(ModelCache.defaultDirectory(environment: ["CAIRN_CACHE_DIR": "/c", "XDG_CACHE_HOME": "/x", "HOME": "/h"]) == "/c/models")
        #expect(ModelCache.defaultDirectory(environment: ["XDG_CACHE_HOME": "/x", "HOME": "/h"]) == "/x/cairn/models")
        #expect(ModelCache.defaultDirectory(environment: ["HOME": "/h"]) == "/h/.cache/cairn/models")
    }

    @Test func secondFetchReusesTheFolderWithoutFilling() async throws {
        try await withCache { cache in
            let fills = Mutex(0)
            let first = try await cache.entry("m-v1-0000000000000001") { target in
                fills.withLock { $0 += 1 }
                try Self.writeModel(target)
            }
            let second = try await cache.entry("m-v1-0000000000000001") { _ in
                fills.withLock { $0 += 1 }
            }
            #expect(fills.withLock { $0 } == 1)
            #expect(first.downloaded && !second.downloaded)
            #expect(first.path == second.path)
            #expect(FileManager.default.fileExists(atPath: second.path + "/model.onnx"))
            #expect(try entries(cache) == ["m-v1-0000000000000001"])
        }
    }

    @Test func concurrentFetchesEndWithOneCompleteFolder() async throws {
        try await withCache { cache in
            let paths = try await withThrowingTaskGroup(of: String.self) { group in
                for _ in 0..<4 {
                    group.addTask {
                        try await cache.entry("m-v2-0000000000000002") { target in try Self.writeModel(target, bytes: 1000) }.path
                    }
                }
                return try await group.reduce(into: Set<String>()) { $0.insert($1) }
            }
            #expect(paths.count == 1)
            #expect(try entries(cache) == ["m-v2-0000000000000002"])
            let size =
                try FileManager.default.attributesOfItem(atPath: cache.directory + "/m-v2-0000000000000002/model.onnx")[.size] as? Int
            #expect(size == 1000)
        }
    }

    @Test func aFailedFillLeavesNothing() async throws {
        try await withCache { cache in
            await #expect(throws: CairnError.self) {
                _ = try await cache.entry("m-v3-0000000000000003") { target in
                    try Self.writeModel(target)
                    throw CairnError(.internalError, "connection dropped")
                }
            }
            let left = try entries(cache)
            #expect(left.isEmpty)
        }
    }

    @Test func pruneDropsOldThenLeastRecentlyUsedButNeverALeasedFolder() async throws {
        try await withCache { base in
            var cache = base
            cache.maxBytes = 2_500
            cache.maxAge = 30 * 86_400
            // Each folder holds 1000 bytes of weights plus its MLmodel file.
            for (name, days) in [("stale", 40.0), ("old", 3.0), ("older", 5.0), ("new", 1.0)] {
                _ = try await cache.entry(name) { try Self.writeModel($0, bytes: 1000) }
                try Self.age(cache.directory + "/" + name, days: days)
            }
            let removed = cache.prune()
            // "stale" is past the age limit; then the least recently used go until it fits.
            #expect(Set(removed) == ["stale", "older"])
            #expect(try entries(cache) == ["new", "old"])

            // A folder in use stays, however old: a worker may read it again.
            let inUse = try await cache.entry("old") { _ in }
            try Self.age(inUse.path, days: 90)
            #expect(cache.prune().isEmpty)
            #expect(try entries(cache) == ["new", "old"])
            withExtendedLifetime(inUse) {}
        }
    }

    @Test func pruneRemovesAbandonedDownloads() async throws {
        try await withCache { cache in
            let abandoned = cache.directory + "/.tmp-m-v1-0000000000000001-deadbeef"
            try FileManager.default.createDirectory(atPath: abandoned, withIntermediateDirectories: true)
            try Self.writeModel(abandoned)
            try Self.age(abandoned, days: 2)
            let recent = cache.directory + "/.tmp-m-v1-0000000000000001-cafebabe"
            try FileManager.default.createDirectory(atPath: recent, withIntermediateDirectories: true)
            #expect(cache.prune() == [".tmp-m-v1-0000000000000001-deadbeef"])
            #expect(FileManager.default.fileExists(atPath: recent))
        }
    }
}
