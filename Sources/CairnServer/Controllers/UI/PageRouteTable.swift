import HTTPTypes
import Hummingbird
import Synchronization

/// The page routes' paths and methods, recorded as the page controllers register them. The
/// router answers a known path asked with another method exactly as a path it does not know
/// (404); with this table a page path asked with the wrong method (a POST to a GET-only page)
/// is told apart and answered 405 with its `Allow` header.
public final class PageRouteTable: Sendable {
    private let routes = Mutex<[(path: RouterPath, methods: Set<HTTPRequest.Method>)]>([])

    public init() {}

    func record(_ path: RouterPath, method: HTTPRequest.Method) {
        routes.withLock { routes in
            if let index = routes.firstIndex(where: { $0.path == path }) {
                routes[index].methods.insert(method)
            } else {
                routes.append((path, [method]))
            }
        }
    }

    /// The methods the pages take at `path` (below the static prefix), nil when no page has
    /// that path. HEAD goes with GET, as the router generates it.
    func methods(at path: String) -> Set<HTTPRequest.Method>? {
        let segments = path.split(separator: "/", omittingEmptySubsequences: true)
        let matching = routes.withLock { routes in
            routes.filter { route in
                route.path.components.count == segments.count
                    && zip(route.path.components, segments).allSatisfy { element, segment in element ~= segment }
            }
        }
        guard !matching.isEmpty else { return nil }
        var methods = matching.reduce(into: Set<HTTPRequest.Method>()) { $0.formUnion($1.methods) }
        if methods.contains(.get) { methods.insert(.head) }
        return methods
    }

    /// `GET, HEAD, POST`: the `Allow` header's value, in a stable order.
    static func allowHeader(_ methods: Set<HTTPRequest.Method>) -> String {
        methods.map(\.rawValue).sorted().joined(separator: ", ")
    }
}

/// Sits between the page groups and the router: records each page route in the table and
/// registers it unchanged, so controllers add routes as to any group.
struct PageRouteRecorder<Context: RequestContext>: RouterMethods {
    let parent: any RouterMethods<Context>
    let table: PageRouteTable

    @discardableResult func on<Responder: HTTPResponder>(_ path: RouterPath, method: HTTPRequest.Method, responder: Responder) -> Self
    where Responder.Context == Context {
        table.record(path, method: method)
        parent.on(path, method: method, responder: responder)
        return self
    }

    @discardableResult func add(middleware: any MiddlewareProtocol<Request, Response, Context>) -> Self {
        _ = parent.add(middleware: middleware)
        return self
    }
}
