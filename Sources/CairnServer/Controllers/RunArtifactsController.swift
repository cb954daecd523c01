import CairnArtifacts
import CairnClient
import CairnCore
import CairnStore
import Hummingbird

/// MLflow's tracking-service artifact listing, `GET /mlflow/artifacts/list?run_id=&path=`
/// (what MLflow's own web UI calls): the entries directly under `path` in a run's artifacts,
/// each by its run-relative path, with the run's root URI. The artifact proxy's listing
/// (`/mlflow-artifacts/artifacts?path=`, basenames, no root) is `ArtifactsController`'s.
///
/// MLflow's answer: `{"root_uri": …, "files": [{"path", "is_dir", "file_size"}]}`, `files`
/// left out when empty and `file_size` for files only; `next_page_token` is never set by the
/// repositories it lists through, so it never appears. A run whose root this server does not
/// store (a location the client chose) lists nothing here: the client reads such a root itself.
struct RunArtifactsController<Context: CairnRequestContext>: Sendable {
    let store: any TrackingStore
    let artifacts: (any ArtifactRepository)?

    func addRoutes(to group: RouterGroup<Context>) {
        group.get("artifacts/list", use: mlflow(list))
    }

    @Sendable func list(_ parameters: RequestParameters, context: Context) async throws -> JSONBody {
        let runID = try parameters.runID()
        // MLflow's validate_path_is_safe: no `..`, not absolute, no `#`; the same refusal.
        let relativeText = try parameters.string("path") ?? ""
        guard !relativeText.contains("#") else { throw ArtifactPath.invalid }
        let relative = try ArtifactPath(relativeText)
        let run = try await store.getRun(id: runID)
        let rootURI = run.info.artifactUri
        var entries: [ArtifactEntry] = []
        if let artifacts, rootURI.hasPrefix("mlflow-artifacts:"), let directory = try? CairnClient.artifactsPath(rootURI) {
            entries = try await artifacts.list(try ArtifactPath(directory).appending(relative))
        }
        let prefix = relative.isRoot ? "" : relative.description + "/"
        return .object { writer in
            writer.key("root_uri")
            writer.string(rootURI)
            guard !entries.isEmpty else { return }
            writer.key("files")
            writer.beginArray()
            for entry in entries {
                writer.beginObject()
                writer.key("path")
                writer.string(prefix + entry.name)
                writer.key("is_dir")
                writer.bool(entry.isDirectory)
                if let size = entry.size, !entry.isDirectory {
                    writer.key("file_size")
                    writer.int(size)
                }
                writer.endObject()
            }
            writer.endArray()
        }
    }
}
