import Crypto
import Foundation

/// The content hash of a data path a `data:` trigger watches: sha256 of a file's bytes, or for
/// a directory sha256 over its sorted manifest (`relative path`, NUL, file hash, newline for
/// each regular file under it), so any added, removed, renamed or changed file changes it.
/// Blocking file I/O: call it off the concurrency pool (the scheduler runs it on NIO's pool).
public enum DataFingerprint {
    /// Nil when nothing exists at `path`.
    public static func sha256(of path: String) throws -> String? {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return nil }
        guard isDirectory.boolValue else { return try hashFile(path) }
        let root = URL(fileURLWithPath: path)
        var files: [String] = []
        if let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.isRegularFileKey]) {
            for case let url as URL in walker where (try? url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true {
                files.append(String(url.standardizedFileURL.path.dropFirst(root.standardizedFileURL.path.count + 1)))
            }
        }
        var manifest = SHA256()
        for file in files.sorted() {
            manifest.update(data: Array(file.utf8) + [0] + Array(try hashFile(path + "/" + file).utf8) + [10])
        }
        return hex(manifest.finalize())
    }

    static func hashFile(_ path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw CocoaError(.fileReadNoPermission, userInfo: [NSFilePathErrorKey: path])
        }
        defer { try? handle.close() }
        var hasher = SHA256()
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty { hasher.update(data: chunk) }
        return hex(hasher.finalize())
    }

    static func hex(_ digest: SHA256.Digest) -> String {
        digest.map { String(format: "%02x", $0) }.joined()
    }
}
