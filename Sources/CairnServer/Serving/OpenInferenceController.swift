import CairnCore
import CairnMonitor
import CairnServing
import CairnTabular
import Hummingbird

/// The Open Inference Protocol (KServe V2) over REST. Errors use the protocol's own shape,
/// `{"error": "…"}`, not MLflow's.
struct OpenInferenceController<Context: CairnRequestContext>: Sendable {
    let traffic: TrafficRouter
    let inferenceLog: InferenceLogWriter?
    let bodyLimit: RequestBodyLimit

    func addRoutes(to router: Router<Context>) {
        router.get("v2") { _, _ in
            JSONBody.object { writer in
                writer.key("name")
                writer.string("cairn")
                writer.key("version")
                writer.string(CairnVersion.current)
                writer.key("extensions")
                writer.beginArray()
                writer.endArray()
            }
        }
        router.get("v2/health/live") { _, _ in
            JSONBody.object { writer in
                writer.key("live")
                writer.bool(true)
            }
        }
        router.get("v2/health/ready") { _, _ in
            let ready = traffic.primary.servingVersion != nil
            return JSONBody.object { writer in
                writer.key("ready")
                writer.bool(ready)
            }.response(status: ready ? .ok : .serviceUnavailable)
        }
        for prefix in ["v2/models/:name", "v2/models/:name/versions/:version"] {
            router.get(RouterPath(prefix)) { _, context in
                let (host, error) = resolve(context)
                guard let host, let version = host.servingVersion else { return error! }
                return metadata(host, version: version)
            }
            router.get(RouterPath(prefix + "/ready")) { _, context in
                let (host, error) = resolve(context)
                guard let host else { return error! }
                return JSONBody.object { writer in
                    writer.key("name")
                    writer.string(host.name)
                    writer.key("ready")
                    writer.bool(host.servingVersion != nil)
                }.response()
            }
            router.post(RouterPath(prefix + "/infer")) { request, context in
                try await infer(request, context: context)
            }
        }
    }

    static func failure(_ message: String, status: HTTPResponse.Status) -> Response {
        JSONBody.object { writer in
            writer.key("error")
            writer.string(message)
        }.response(status: status)
    }

    /// The host serving `{name}` (and `{version}`, when given); a canary answers for its own
    /// version.
    func resolve(_ context: Context) -> (ModelHost?, Response?) {
        // Path segments arrive percent-encoded: `/v2/models/a%20b` names the model `a b`.
        let name = PercentDecoding.decodeLeniently(context.parameters.get("name") ?? "", mode: .path)
        let version = context.parameters.get("version").map { PercentDecoding.decodeLeniently($0, mode: .path) }
        let candidates = ([traffic.primary] + (traffic.canary.map { [$0] } ?? [])).filter { $0.name == name }
        guard !candidates.isEmpty else { return (nil, Self.failure("Model '\(name)' is not served here.", status: .notFound)) }
        if let version {
            guard let host = candidates.first(where: { $0.servingVersion == version }) else {
                return (nil, Self.failure("Model '\(name)' version \(version) is not served here.", status: .notFound))
            }
            return (host, nil)
        }
        return (candidates.count == 1 ? candidates[0] : traffic.pick(), nil)
    }

    func metadata(_ host: ModelHost, version: String) -> Response {
        guard let deployment = host.lease() else { return Self.failure("Model is not ready.", status: .serviceUnavailable) }
        defer { deployment.release() }
        return JSONBody.object { writer in
            writer.key("name")
            writer.string(host.name)
            writer.key("versions")
            writer.beginArray()
            writer.string(version)
            writer.endArray()
            writer.key("platform")
            writer.string(deployment.runtime.kind == "onnx" ? "onnx_onnxv1" : "mlflow_pyfunc")
            for (key, tensors) in [("inputs", deployment.runtime.inputMetadata), ("outputs", deployment.runtime.outputMetadata)] {
                writer.key(key)
                writer.beginArray()
                for tensor in tensors {
                    writer.beginObject()
                    writer.key("name")
                    writer.string(tensor.name)
                    writer.key("datatype")
                    writer.string(tensor.datatype)
                    writer.key("shape")
                    writer.beginArray()
                    for dim in tensor.shape { writer.int(Int64(dim)) }
                    writer.endArray()
                    writer.endObject()
                }
                writer.endArray()
            }
            if let error = host.lastError {
                writer.key("parameters")
                writer.beginObject()
                writer.key("last_load_error")
                writer.string(error)
                writer.endObject()
            }
        }.response()
    }

    func infer(_ request: Request, context: Context) async throws -> Response {
        let start = ContinuousClock.now
        let (host, error) = resolve(context)
        guard let host else { return error! }
        let body = try await bodyLimit.collect(request.body)
        guard let deployment = host.lease() else { return Self.failure("Model is not ready.", status: .serviceUnavailable) }
        defer { deployment.release() }
        deployment.metrics.enter()
        defer { deployment.metrics.leave() }
        var rows = 0
        let status: HTTPResponse.Status
        let responseBytes: [UInt8]
        do throws(CairnError) {
            let parsed = try InferenceRequest.parse(body.readableBytesView)
            let input = try parsed.modelInput(
                for: deployment.runtime.inputMetadata, signature: deployment.signature, nativeTensors: deployment.runtime.kind == "onnx")
            rows = input.rowCount
            let answer = try await deployment.score(input, params: [:])
            responseBytes = try parsed.responseBody(modelName: host.name, version: deployment.versionLabel, output: try answer.result.get())
            status = .ok
        } catch {
            responseBytes =
                JSONBody.object { writer in
                    writer.key("error")
                    writer.string(error.message)
                }.bytes
            status = HTTPResponse.Status(code: error.code.httpStatus)
        }
        return ScoringResponse.finish(
            status: status, body: responseBytes, deployment: deployment, request: request, requestID: context.requestID, requestBody: body,
            rows: rows, start: start, inferenceLog: inferenceLog
        )
    }
}
