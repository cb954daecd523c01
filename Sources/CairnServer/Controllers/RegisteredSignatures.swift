import CairnArtifacts
import CairnClient
import CairnCore
import CairnServing
import CairnStore
import NIOCore

/// A registered model version's `MLmodel` (and the files it names, such as its input example),
/// read from the server's own artifact store: the input columns its signature declares, so
/// what is uploaded or configured for the version (a reference table, a monitor's drift
/// settings) can be checked against the model before it is stored, and the whole file for the
/// version's page.
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
        // A version whose MLmodel does not parse fails where it is served; here it is only
        // a signature that cannot be known.
        guard let text = try await mlmodelText(name: name, version: version), let model = try? MLmodel(yaml: text),
            case .columns(let columns)? = model.signature?.inputs, columns.allSatisfy({ $0.name != nil })
        else { return nil }
        return columns
    }

    /// The version's `MLmodel` as text, nil when this server cannot read it.
    func mlmodelText(name: String, version: String) async throws -> String? {
        try await file(MLmodel.fileName, name: name, version: version, maximumBytes: Self.maximumMLmodelBytes)
    }

    /// A file of the version's model directory (`relativePath` inside it) as text, nil when this
    /// server cannot read it or it is larger than `maximumBytes`.
    func file(_ relativePath: String, name: String, version: String, maximumBytes: Int64) async throws -> String? {
        guard let artifacts else { return nil }
        let location = try await registry.getModelVersionDownloadUri(name: name, version: version)
        guard location.hasPrefix("mlflow-artifacts:"), let directory = try? CairnClient.artifactsPath(location),
            let path = try? ArtifactPath(directory.isEmpty ? relativePath : directory + "/" + relativePath),
            case .file(let size) = try await artifacts.status(of: path), size <= maximumBytes
        else { return nil }
        var bytes = ByteBuffer()
        for try await var chunk in try await artifacts.read(path) { bytes.writeBuffer(&chunk) }
        return String(buffer: bytes)
    }
}
