import CairnArtifacts
import CairnStore
import Logging
import ServiceLifecycle

/// Removes what uploads killed with an earlier process left in the artifact root, once, at
/// start-up. A service rather than a step before the server listens: on a large tree the walk
/// takes a while, and nothing waits for it, since only idle leftovers are removed. With
/// replicas sharing one artifact directory, the leader sweeps, once per term.
struct StaleUploadSweeper: Service {
    let repository: LocalArtifactRepository
    let logger: Logger
    var leadership: any Leadership = AlwaysLeader()

    func run() async throws {
        try? await cancelWhenGracefulShutdown {
            await leadership.whileLeading { await sweep() }
        }
    }

    func sweep() async {
        do {
            let sweep = try await repository.removeStaleUploads()
            if sweep.temporaryFiles > 0 || sweep.multipartUploads > 0 {
                logger.info(
                    "Removed abandoned uploads from the artifact root",
                    metadata: [
                        "temporary_files": "\(sweep.temporaryFiles)",
                        "multipart_uploads": "\(sweep.multipartUploads)",
                    ])
            } else {
                logger.debug("No abandoned uploads in the artifact root")
            }
        } catch {
            // Leftovers are hidden and harmless; the server runs without the sweep.
            logger.warning("Could not sweep the artifact root for abandoned uploads", metadata: ["error": "\(error)"])
        }
    }
}
