import CairnCore
import Hummingbird

/// Adapts a handler that takes parsed request fields (MLflow's conventions, which Cairn's own
/// API follows too), and the request's context (its id, logger and identity), into a
/// Hummingbird route closure.
func mlflow<Context: CairnRequestContext, Output: ResponseGenerator>(
    _ handler: @escaping @Sendable (RequestParameters, Context) async throws -> Output
) -> @Sendable (Request, Context) async throws -> Output {
    { request, context in
        try await handler(try await RequestParameters.of(request, context), context)
    }
}

/// Parsing of the search arguments shared by every MLflow search endpoint.
enum SearchRequest {
    static func filter(_ text: String?, kind: SearchKind) throws -> SearchFilter {
        do {
            return try SearchFilter.parse(text ?? "", for: kind)
        } catch {
            throw error.cairnError
        }
    }

    static func orderBy(_ clauses: [String], kind: SearchKind) throws -> [OrderByClause] {
        do {
            return try OrderByClause.parseList(clauses, for: kind)
        } catch {
            throw error.cairnError
        }
    }
}
