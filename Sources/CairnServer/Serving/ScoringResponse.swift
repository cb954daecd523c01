import CairnMonitor
import CairnServing
import HTTPTypes
import Hummingbird

/// The end of every scoring request, whichever protocol carried it: the response with the
/// headers that name who answered, its metrics, and its inference-log record under the
/// request's id (the context's, which `RequestIDMiddleware` also echoes in `X-Request-ID`).
enum ScoringResponse {
    static var modelHeader: HTTPField.Name { HTTPField.Name("X-Cairn-Model")! }
    static var versionHeader: HTTPField.Name { HTTPField.Name("X-Cairn-Model-Version")! }

    static func finish(
        status: HTTPResponse.Status, body: [UInt8], deployment: ModelDeployment, request: Request, requestID: String,
        requestBody: ByteBuffer, rows: Int, start: ContinuousClock.Instant, inferenceLog: InferenceLogWriter?
    ) -> Response {
        var response = Response(
            status: status, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
        // A full queue or a crashed worker: the client should come back shortly.
        if status == .serviceUnavailable { response.headers[.retryAfter] = "1" }
        response.headers[modelHeader] = deployment.name
        response.headers[versionHeader] = deployment.versionLabel
        let latency = ContinuousClock.now - start
        deployment.metrics.recordRequest(
            status: status.code, duration: latency, requestBytes: requestBody.readableBytes, responseBytes: body.count, rows: rows
        )
        inferenceLog?.log(
            requestID: requestID, request: request, body: requestBody, model: deployment.name, version: deployment.versionLabel,
            response: body, status: status.code, latency: latency
        )
        return response
    }
}
