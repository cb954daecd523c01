import CairnCore

extension ModelURI {
    /// The name a model is served under (`/v2/models/{name}`, metric labels).
    public var servedName: String {
        switch self {
        case .registered(let name, _): name
        case .loggedModel(let id): id
        case .run(let id, let path): path.flatMap { $0.split(separator: "/").last.map(String.init) } ?? id
        case .localDirectory(let path): path.split(separator: "/").last.map(String.init) ?? "model"
        }
    }

    public var needsTrackingServer: Bool {
        if case .localDirectory = self { return false }
        return true
    }
}
