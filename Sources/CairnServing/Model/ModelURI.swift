import CairnCore

/// Where `cairn serve` / `cairn predict` find a model, in MLflow's URI forms.
public enum ModelURI: Sendable, Equatable, CustomStringConvertible {
    /// `models:/name@alias`: followed when the alias moves.
    case alias(name: String, alias: String)
    /// `models:/name/3`, or `models:/name/latest` (version nil).
    case version(name: String, version: String?)
    /// `models:/m-…`: an MLflow 3 logged model.
    case loggedModel(id: String)
    /// `runs:/<run_id>/path`.
    case run(id: String, path: String)
    /// A local directory holding an `MLmodel` file.
    case localDirectory(String)

    public init(parsing text: String) throws(CairnError) {
        if text.hasPrefix("models:/") {
            let rest = String(text.dropFirst("models:/".count))
            guard !rest.isEmpty, !rest.hasPrefix("/") else { throw Self.invalid(text) }
            if let at = rest.lastIndex(of: "@") {
                let name = String(rest[..<at]), alias = String(rest[rest.index(after: at)...])
                guard !name.isEmpty, !alias.isEmpty, !alias.contains("/") else { throw Self.invalid(text) }
                self = .alias(name: name, alias: alias)
                return
            }
            let parts = rest.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
            switch parts.count {
            case 1 where rest.hasPrefix("m-"):
                self = .loggedModel(id: rest)
            case 2 where !parts[0].isEmpty && !parts[1].isEmpty:
                if parts[1] == "latest" {
                    self = .version(name: parts[0], version: nil)
                } else {
                    guard let number = Int(parts[1]), number > 0 else {
                        throw CairnError(.invalidParameterValue, "Model version must be a positive integer or 'latest' in '\(text)'.")
                    }
                    self = .version(name: parts[0], version: String(number))
                }
            default:
                throw Self.invalid(text)
            }
        } else if text.hasPrefix("runs:/") {
            let rest = text.dropFirst("runs:/".count)
            guard let slash = rest.firstIndex(of: "/"), !rest[..<slash].isEmpty else { throw Self.invalid(text) }
            let path = rest[rest.index(after: slash)...].split(separator: "/").joined(separator: "/")
            guard !path.isEmpty, !path.split(separator: "/").contains("..") else { throw Self.invalid(text) }
            self = .run(id: String(rest[..<slash]), path: path)
        } else if text.hasPrefix("file://") {
            self = .localDirectory(String(text.dropFirst("file://".count)))
        } else if text.contains(":/") {
            throw CairnError(.invalidParameterValue, "Unsupported model URI scheme in '\(text)'. Use models:/name@alias, models:/name/version, models:/m-id, runs:/id/path or a local directory.")
        } else {
            self = .localDirectory(text)
        }
    }

    static func invalid(_ text: String) -> CairnError {
        CairnError(.invalidParameterValue, "Not a valid model URI: '\(text)'. Use models:/name@alias, models:/name/version, models:/m-id or runs:/id/path.")
    }

    /// The name a model is served under (`/v2/models/{name}`, metric labels).
    public var servedName: String {
        switch self {
        case .alias(let name, _), .version(let name, _): name
        case .loggedModel(let id): id
        case .run(_, let path): path.split(separator: "/").last.map(String.init) ?? path
        case .localDirectory(let path): path.split(separator: "/").last.map(String.init) ?? "model"
        }
    }

    public var needsTrackingServer: Bool {
        if case .localDirectory = self { return false }
        return true
    }

    public var description: String {
        switch self {
        case .alias(let name, let alias): "models:/\(name)@\(alias)"
        case .version(let name, let version): "models:/\(name)/\(version ?? "latest")"
        case .loggedModel(let id): "models:/\(id)"
        case .run(let id, let path): "runs:/\(id)/\(path)"
        case .localDirectory(let path): path
        }
    }
}
