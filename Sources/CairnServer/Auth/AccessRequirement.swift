import CairnAuth
import CairnCore

/// What a request needs of its caller, as `AuthRules` reads it from the route and the request's
/// fields, and what the server does to grants once the request has succeeded.
struct AccessRequirement: Sendable {
    enum Check: Sendable {
        /// Authentication alone: the handler checks further or filters what it returns.
        case authenticated
        case admin
        /// Resource-blind reads (pages, Cairn's own listings): callers who may read everything.
        case readsEverything
        case resource(AuthResourceType, String, AuthAction)
        /// An API path no rule names: for admins only, and to anyone else it answers as a path
        /// with no route does (ENDPOINT_NOT_FOUND, which the client's fallbacks look for), so a
        /// route added without a rule is closed, never open.
        case unlisted
    }

    /// A change to grants after the request succeeded.
    enum Follow: Sendable {
        /// The creator gets MANAGE on what they made, as in MLflow.
        case creatorOfExperiment(name: String)
        case creatorOfModel(name: String)
        case renameModel(from: String, to: String)
        case dropModel(name: String)
    }

    var checks: [Check]
    var follow: Follow? = nil

    static let authenticated = AccessRequirement(checks: [.authenticated])
    static let admin = AccessRequirement(checks: [.admin])
    static let readsEverything = AccessRequirement(checks: [.readsEverything])
    static let unlisted = AccessRequirement(checks: [.unlisted])

    var isUnlisted: Bool { checks.contains { if case .unlisted = $0 { true } else { false } } }

    static func on(_ type: AuthResourceType, _ id: String, _ action: AuthAction) -> AccessRequirement {
        AccessRequirement(checks: [.resource(type, id, action)])
    }

    /// The resource named in the audit log: the first one checked.
    var resource: String? {
        for check in checks {
            if case .resource(let type, let id, _) = check { return "\(type.rawValue):\(id)" }
        }
        return nil
    }

    func isMet(by access: UserAccess) -> Bool {
        checks.allSatisfy { check in
            switch check {
            case .authenticated: true
            case .admin, .unlisted: access.isAdmin
            case .readsEverything: access.readsEverything
            case .resource(let type, let id, let action): access.can(action, type, id)
            }
        }
    }
}
