import CairnCore
import CairnMonitor
import CairnServing
import CairnTabular
import Foundation
import HTTPTypes
import Hummingbird

/// MLflow's scoring protocol, as `mlflow models serve` speaks it: `/ping`, `/health`,
/// `/version` and `POST /invocations` with JSON or CSV.
struct ScoringController<Context: CairnRequestContext>: Sendable {
    let traffic: TrafficRouter
    let inferenceLog: InferenceLogWriter?
    let bodyLimit: RequestBodyLimit

    func addRoutes(to router: Router<Context>) {
        for path in ["ping", "health"] {
            router.get(RouterPath(path)) { _, _ in
                let ready = traffic.primary.servingVersion != nil
                return Response(
                    status: ready ? .ok : .notFound, headers: [.contentType: "application/json"],
                    body: ResponseBody(byteBuffer: ByteBuffer(string: "\n")))
            }
        }
        router.post("invocations") { request, context in
            try await invoke(request, context: context)
        }
    }

    func invoke(_ request: Request, context: Context) async throws -> Response {
        let start = ContinuousClock.now
        let body = try await bodyLimit.collect(request.body)
        let host = traffic.pick()
        guard let deployment = host.lease() else {
            throw CairnError(.temporarilyUnavailable, "No model is loaded.")
        }
        defer { deployment.release() }
        deployment.metrics.enter()
        defer { deployment.metrics.leave() }
        // A body refused before scoring goes through the same finish as a scored one: it
        // gets its request id and its log record, and counts in the error rate.
        var parsed: ScoringRequest?
        let status: HTTPResponse.Status
        let responseBytes: [UInt8]
        do throws(CairnError) {
            let scoring = try Self.parse(body: body, contentType: request.headers[.contentType], signature: deployment.signature)
            parsed = scoring
            let answer = try await deployment.score(scoring)
            responseBytes = try PredictionWriter.mlflowBody(try answer.result.get(), params: scoring.params)
            status = .ok
        } catch {
            responseBytes = JSONBody.error(error).bytes
            status = HTTPResponse.Status(code: error.code.httpStatus)
        }
        let response = ScoringResponse.finish(
            status: status, body: responseBytes, deployment: deployment, request: request, requestID: context.requestID, requestBody: body,
            rows: parsed?.frame.rowCount ?? 0, start: start, inferenceLog: inferenceLog
        )
        if status == .ok, let parsed { traffic.shadow?.offer(parsed) }
        return response
    }

    /// MLflow accepts JSON and CSV, with no content-type parameter but `charset=utf-8`.
    static func parse(body: ByteBuffer, contentType: String?, signature: ModelSignature?) throws(CairnError) -> ScoringRequest {
        let parts = (contentType ?? "application/json").split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
        let type = parts.first?.lowercased() ?? ""
        for parameter in parts.dropFirst() {
            let pair = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            guard pair.count == 2, pair[0] == "charset" else {
                throw CairnError(
                    .unsupportedMediaType,
                    "Unrecognized content type parameters: \(pair[0]). The MLflow scoring protocol takes only charset=utf-8.")
            }
            guard pair[1] == "utf-8" || pair[1] == "utf8" else {
                throw CairnError(.unsupportedMediaType, "The scoring server only supports UTF-8")
            }
        }
        switch type {
        case "application/json":
            return try ScoringRequest.parseJSON(body.readableBytesView)
        case "text/csv":
            return try ScoringRequest.parseCSV(body.readableBytesView, textColumns: signature?.textColumns ?? [])
        default:
            throw CairnError(
                .unsupportedMediaType,
                "This predictor only supports the following content types: ['text/csv', 'application/json']. Got '\(type)'.")
        }
    }
}
