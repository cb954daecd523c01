import AsyncHTTPClient
import CairnCore
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import NIOPosix

/// The proxied artifact store (`/api/2.0/mlflow-artifacts/`), where `cairn server` (and
/// `mlflow server --serve-artifacts`) keep models.
extension CairnClient {
    /// `mlflow-artifacts:/P` (or an http(s) URL of the proxied artifact API) → `P`.
    public static func artifactsPath(_ uri: String) throws(CairnError) -> String {
        if uri.hasPrefix("mlflow-artifacts:") {
            var rest = Substring(uri.dropFirst("mlflow-artifacts:".count))
            // `mlflow-artifacts://host:port/P` pins a host; the path is what matters here.
            if rest.hasPrefix("//") {
                rest = rest.dropFirst(2)
                rest = rest.firstIndex(of: "/").map { rest[$0...] } ?? ""
            }
            return rest.split(separator: "/").joined(separator: "/")
        }
        if let range = uri.range(of: "/api/2.0/mlflow-artifacts/artifacts/") {
            return String(uri[range.upperBound...])
        }
        throw CairnError(
            .invalidParameterValue,
            "Cannot download artifacts from '\(uri)': Cairn serves models stored through the tracking server's artifact proxy (mlflow-artifacts:/)."
        )
    }

    /// Every file under `path`, recursively, as paths relative to it; empty when there is
    /// nothing there.
    public func listArtifacts(_ path: String, relative: String = "") async throws -> [String] {
        let listing = try await get("api/2.0/mlflow-artifacts/artifacts", ["path": relative.isEmpty ? path : path + "/" + relative])
        guard case .array(let entries)? = listing["files"] else { return [] }
        var files: [String] = []
        for entry in entries {
            guard case .string(let name)? = entry["path"] else { continue }
            // A name is one segment: anything else could write outside the destination.
            guard !name.isEmpty, !name.contains("/"), name != "..", name != "." else {
                throw CairnError(.internalError, "The artifact listing holds an unsafe name '\(name)'.")
            }
            let child = relative.isEmpty ? name : relative + "/" + name
            if case .bool(true)? = entry["is_dir"] {
                files += try await listArtifacts(path, relative: child)
            } else {
                files.append(child)
            }
        }
        return files
    }

    /// Streams the artifact at `path` to `destination` chunk by chunk, written under a
    /// temporary name beside it and renamed once complete, so the destination is never half
    /// a file; its folder is created. File work runs on `threadPool`, off the concurrency pool.
    public func downloadArtifact(_ path: String, to destination: String, threadPool: NIOThreadPool = .singleton) async throws {
        let encoded = path.split(separator: "/").map { Self.encode(String($0)) }.joined(separator: "/")
        let response = try await send(
            .GET, url("api/2.0/mlflow-artifacts/artifacts/" + encoded), body: nil, contentType: nil, idempotent: true,
            timeout: configuration.transferTimeout)
        let temporary = destination + ".part-\(UUID().uuidString.prefix(8))"
        let handle = try await threadPool.runIfActive {
            try FileManager.default.createDirectory(
                atPath: (destination as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            guard FileManager.default.createFile(atPath: temporary, contents: nil), let handle = FileHandle(forWritingAtPath: temporary)
            else {
                throw CairnError(.internalError, "Cannot write \(temporary).")
            }
            return handle
        }
        do {
            for try await chunk in response.body {
                try await threadPool.runIfActive { try handle.write(contentsOf: chunk.readableBytesView) }
            }
            try await threadPool.runIfActive {
                try handle.close()
                if rename(temporary, destination) != 0 {
                    throw CairnError(.internalError, "Cannot rename \(temporary) to \(destination): \(String(cString: strerror(errno))).")
                }
            }
        } catch {
            try? await threadPool.runIfActive {
                try? handle.close()
                try? FileManager.default.removeItem(atPath: temporary)
            }
            throw error
        }
    }
}
