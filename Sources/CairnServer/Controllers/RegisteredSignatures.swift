import CairnArtifacts
import CairnClient
import CairnCore
import CairnServing
import CairnStore
import NIOCore

/// The input columns a registered model version's `MLmodel` signature declares, read from the
/// server's own artifact store, so what is uploaded or configured for the version (a reference
/// table, a monitor's drift settings) can be checked against the model before it is stored.
///
/// Nil when this server cannot know them: no artifact store, a version stored elsewhere than
/// the proxied store (`mlflow-artifacts:/`), no `MLmodel`, or a signature without named columns
/// (none, a tensor, positional columns).
struct RegisteredSignatures: Sendable {
    let registry: any RegistryStore
    let artifacts: (any ArtifactRepository)?

    /// An `MLmodel` is a few kilobytes; a larger file is not one to parse on a request.
    static var maximumMLmodelBytes: Int64 { 1 << 20 }

    func inputs(name: String, version: String) async throws -> [ModelSignature.ColumnSpec]? {
        guard let artifacts else { return nil }
        let location = try await registry.getModelVersionDownloadUri(name: name, version: version)
        guard location.hasPrefix("mlflow-artifacts:"), let directory = try? CairnClient.artifactsPath(location),
            let path = try? ArtifactPath(directory.isEmpty ? MLmodel.fileName : directory + "/" + MLmodel.fileName),
            case .file(let size) = try await artifacts.status(of: path), size <= Self.maximumMLmodelBytes
        else { return nil }
        var bytes = ByteBuffer()
        for try await var chunk in try await artifacts.read(path) { bytes.writeBuffer(&chunk) }
        // A version whose MLmodel does not parse fails where it is served; here it is only
        // a signature that cannot be known.
        guard let model = try? MLmodel(yaml: String(buffer: bytes)), case .columns(let columns)? = model.signature?.inputs,
            columns.allSatisfy({ $0.name != nil })
        else { return nil }
        return columns
    }
}
