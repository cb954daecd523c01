/// Where a model is, in the URI forms MLflow's client accepts: parsed once, here, for the
/// registry (`models:/` sources of new versions) and for serving (`cairn serve`, `predict`,
/// `monitor reference`).
///
/// `models:/` follows MLflow's `_parse_model_uri` (`mlflow/store/artifact/utils/models.py`)
/// and `runs:/` its `RunsArtifactRepository.parse_runs_uri`, including what they leave alone:
/// names are not percent-decoded (MLflow sends them to the registry as written), a numeric
/// suffix is a version, `latest` in any case is the newest version, any other suffix is a
/// stage, and a single segment without `@` is a logged model's id. Cairn refuses at parse
/// time what MLflow only fails on later: an empty model name, a version too large to exist,
/// a registry host (`models://profile/…`) and `..` in a run's artifact path.
public enum ModelURI: Sendable, Hashable, CustomStringConvertible {
    /// `models:/name/3`, `models:/name/latest`, `models:/name/Production`, `models:/name@alias`.
    case registered(name: String, selector: Selector)
    /// `models:/m-…`: an MLflow 3 logged model.
    case loggedModel(id: String)
    /// `runs:/<run_id>` or `runs:/<run_id>/path/in/the/run` (path nil for the run's root).
    case run(id: String, path: String?)
    /// A local directory (a plain path or `file://`).
    case localDirectory(String)

    /// Which version of a registered model a `models:/` URI names.
    public enum Selector: Sendable, Hashable {
        case version(Int64)
        /// The newest version (`latest`, any case).
        case latest
        /// The newest version in a stage (`Production`, `staging`, …, as written).
        case stage(String)
        case alias(String)

        /// Whether the version it names can change while a model is served.
        public var isMovable: Bool {
            if case .version = self { return false }
            return true
        }
    }

    /// A URI given to load a model (`cairn serve`, `predict`, `monitor reference`), read as
    /// `mlflow.pyfunc.load_model` reads it, which takes more than `_parse_model_uri`: its
    /// `split_models_uri` strips trailing slashes first, so `models:/churn/1/` loads version 1.
    /// An empty URI is refused (MLflow would look for a model in the working directory).
    public init(loading raw: String) throws(CairnError) {
        var text = Self.cleaned(raw)
        guard !text.allSatisfy(\.isWhitespace) else {
            throw CairnError.invalidParameter(
                "The model URI is empty. Use models:/name/version, models:/name@alias, models:/m-id, runs:/id/path or a local model directory."
            )
        }
        guard text.lowercased().hasPrefix("models:") else {
            try self.init(parsing: raw)
            return
        }
        while text.hasSuffix("/") { text.removeLast() }
        try self.init(parsing: text)
    }

    public init(parsing raw: String) throws(CairnError) {
        let text = Self.cleaned(raw)
        guard let colon = text.firstIndex(of: ":"), Self.isScheme(text[..<colon]) else {
            self = .localDirectory(raw)
            return
        }
        let scheme = text[..<colon].lowercased()
        var rest = text[text.index(after: colon)...]
        var authority: Substring?
        if rest.hasPrefix("//") {
            let afterSlashes = rest.dropFirst(2)
            let end = afterSlashes.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? afterSlashes.endIndex
            authority = afterSlashes[..<end]
            rest = afterSlashes[end...]
        }
        // As `urlparse(…, allow_fragments=False)`: a query ends the path, `#` does not.
        let path = rest.firstIndex(of: "?").map { rest[..<$0] } ?? rest
        switch scheme {
        case "models":
            if let authority, !authority.isEmpty {
                throw CairnError.invalidParameter(
                    "'\(raw)' names a registry host ('\(authority)'): Cairn resolves models:/ URIs through its tracking server; use models:/name/version with --tracking-uri."
                )
            }
            self = try Self.models(path, raw)
        case "runs":
            guard authority?.isEmpty ?? true else { throw Self.invalid(raw) }
            self = try Self.runs(path, raw)
        case "file":
            guard authority.map({ $0.isEmpty || $0 == "localhost" }) ?? true, !path.isEmpty else { throw Self.invalid(raw) }
            self = .localDirectory(String(path))
        default:
            guard text.contains(":/") else {
                self = .localDirectory(raw)
                return
            }
            throw CairnError.invalidParameter(
                "Unsupported model URI scheme in '\(raw)'. Use models:/name@alias, models:/name/version, models:/m-id, runs:/id/path or a local directory."
            )
        }
    }

    /// `_parse_model_uri` on the path of a `models:` URI.
    static func models(_ path: Substring, _ raw: String) throws(CairnError) -> ModelURI {
        guard path.hasPrefix("/"), path.count > 1 else { throw invalid(raw) }
        let parts = path.drop(while: { $0 == "/" }).split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, let first = parts.first, !isBlank(first) else { throw invalid(raw) }
        if parts.count == 2 {
            let name = String(first)
            let suffix = parts[1]
            guard !isBlank(suffix) else { throw invalid(raw) }
            if suffix.allSatisfy({ $0.isASCII && $0.isNumber }) {
                guard let number = Int64(suffix) else {
                    throw CairnError.invalidParameter("Model version '\(suffix)' in '\(raw)' is too large.")
                }
                return .registered(name: name, selector: .version(number))
            }
            if suffix.lowercased() == "latest" { return .registered(name: name, selector: .latest) }
            return .registered(name: name, selector: .stage(String(suffix)))
        }
        if let at = first.lastIndex(of: "@") {
            let name = first[..<at]
            let alias = first[first.index(after: at)...]
            guard !isBlank(alias), !isBlank(name) else { throw invalid(raw) }
            return .registered(name: String(name), selector: .alias(String(alias)))
        }
        return .loggedModel(id: String(first))
    }

    /// `parse_runs_uri`: the run id, then the rest of the path as written.
    static func runs(_ path: Substring, _ raw: String) throws(CairnError) -> ModelURI {
        guard path.hasPrefix("/"), path.count > 1 else { throw invalid(raw) }
        let body = path.dropFirst()
        let slash = body.firstIndex(of: "/")
        let runID = slash.map { body[..<$0] } ?? body
        guard !runID.isEmpty else { throw invalid(raw) }
        guard let slash else { return .run(id: String(runID), path: nil) }
        let artifactPath = body[body.index(after: slash)...]
        // Never a way out of the run's artifacts, whatever the artifact store does with it.
        guard !artifactPath.split(separator: "/").contains("..") else { throw invalid(raw) }
        return .run(id: String(runID), path: artifactPath.isEmpty ? nil : String(artifactPath))
    }

    static func invalid(_ text: String) -> CairnError {
        .invalidParameter(
            "Not a valid model URI: '\(text)'. Use models:/name/version, models:/name/latest, models:/name/stage, models:/name@alias, models:/m-id or runs:/id/path."
        )
    }

    /// Python's `urlsplit` drops leading C0 controls and spaces and every tab, CR and LF.
    static func cleaned(_ text: String) -> String {
        var scalars = String.UnicodeScalarView()
        scalars.append(contentsOf: text.unicodeScalars.drop(while: { $0.value <= 0x20 }).filter { $0 != "\t" && $0 != "\r" && $0 != "\n" })
        return String(scalars)
    }

    /// An RFC 3986 scheme of two characters or more (one letter is a Windows drive to MLflow).
    static func isScheme(_ text: Substring) -> Bool {
        guard text.count > 1, let first = text.first, first.isASCII, first.isLetter else { return false }
        return text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "+" || $0 == "-" || $0 == ".") }
    }

    static func isBlank(_ text: Substring) -> Bool {
        text.allSatisfy(\.isWhitespace)
    }

    public var description: String {
        switch self {
        case .registered(let name, .version(let number)): "models:/\(name)/\(number)"
        case .registered(let name, .latest): "models:/\(name)/latest"
        case .registered(let name, .stage(let stage)): "models:/\(name)/\(stage)"
        case .registered(let name, .alias(let alias)): "models:/\(name)@\(alias)"
        case .loggedModel(let id): "models:/\(id)"
        case .run(let id, let path): path.map { "runs:/\(id)/\($0)" } ?? "runs:/\(id)"
        case .localDirectory(let path): path
        }
    }
}
