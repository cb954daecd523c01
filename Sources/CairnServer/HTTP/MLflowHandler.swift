import CairnCore
import Hummingbird

/// Adapts a handler that takes parsed MLflow request fields into a Hummingbird route closure.
func mlflow<Context: RequestContext>(
    _ handler: @escaping @Sendable (RequestParameters) async throws -> JSONBody
) -> @Sendable (Request, Context) async throws -> JSONBody {
    { request, _ in
        try await handler(try await RequestParameters.from(request))
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
