import CairnClient
import CairnCore
import CairnMonitor
import CairnServing
import Foundation
import Hummingbird
import Logging
import Prometheus
import ServiceLifecycle

/// Loads the models `configuration` names (primary, and canary and shadow when given) and
/// returns the scoring application. Every model is loaded and warmed before this returns,
/// so the server never listens without a model; alias moves are followed once it runs.
public func buildServingApplication(_ configuration: ServeConfiguration, logger: Logger) async throws -> some ApplicationProtocol {
    // A busy port is reported before models are downloaded and loaded, not after.
    try await ListenAddress(host: configuration.host, port: configuration.port).checkAvailable()
    let registry = PrometheusCollectorRegistry()
    let metrics = ServingMetrics(registry: registry)
    let resolver = ModelResolver(tracking: configuration.tracking, cacheDirectory: configuration.cacheDirectory, logger: logger)
    let loader = ModelLoader(
        preference: configuration.runtime, python: configuration.python, pythonWorkers: configuration.pythonWorkers,
        batching: configuration.batching, metrics: metrics, logger: logger
    )
    func host(_ uri: ModelURI, role: String) async throws -> ModelHost {
        let host = ModelHost(
            uri: uri, role: role, resolver: resolver, loader: loader, pollInterval: configuration.pollInterval, logger: logger)
        try await host.loadInitial()
        return host
    }
    let primary = try await host(configuration.modelURI, role: "primary")
    let canary = try await configuration.canaryURI.asyncMap { try await host($0, role: "canary") }
    let shadow = try await configuration.shadowURI.asyncMap { uri in
        ShadowScorer(
            host: try await host(uri, role: "shadow"), logger: logger,
            onDrop: {
                registry.makeCounter(
                    name: "cairn_serving_shadow_dropped_total", labels: [], help: "Shadow copies dropped because the shadow fell behind."
                ).increment()
            })
    }
    let traffic = TrafficRouter(primary: primary, canary: canary, canaryPercent: configuration.canaryPercent, shadow: shadow)

    let inferenceLog = try configuration.inferenceLog.map { options in
        try DataDirectory.prepare(options.directory, role: "inference log directory")
        return try InferenceLogWriter(options: options, logger: logger, metrics: registry)
    }
    let router = buildServingRouter(traffic: traffic, registry: registry, inferenceLog: inferenceLog, bodyLimit: configuration.bodyLimit)
    var frameworkLogger = logger
    frameworkLogger.logLevel = max(logger.logLevel, .notice)
    var app = Application(
        router: router,
        // Every route shares one limit, so a declared length over it is refused before
        // any of the body is read.
        server: .cairnHTTP1(refuseOver: configuration.bodyLimit),
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "cairn"),
        onServerRunning: { channel in
            let port = channel.localAddress?.port ?? configuration.port
            logger.info(
                "Cairn serving \(configuration.modelURI) (version \(primary.servingVersion ?? "?")) on http://\(configuration.host):\(port)"
            )
        },
        logger: frameworkLogger
    )
    // Services stop in reverse order and the server (added by Hummingbird) first: the hosts
    // then drain their queues before their workers stop, and the inference log, added
    // first, writes out the last records once nothing can add more.
    if let inferenceLog { app.addServices(inferenceLog) }
    app.addServices(primary)
    if let canary { app.addServices(canary) }
    if let shadow { app.addServices(shadow.host, shadow) }
    return app
}

/// The scoring router; separate so tests can drive it without a socket.
public func buildServingRouter(
    traffic: TrafficRouter, registry: PrometheusCollectorRegistry, inferenceLog: InferenceLogWriter? = nil,
    bodyLimit: RequestBodyLimit = RequestBodyLimit(bytes: 64 << 20, flag: "--max-request-bytes")
) -> Router<AppRequestContext> {
    let router = Router(context: AppRequestContext.self)
    router.add(middleware: RequestIDMiddleware())
    router.add(middleware: ErrorRenderingMiddleware(.mlflowJSON))
    router.get("version") { _, _ in
        Response(
            status: .ok, headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: CairnVersion.current)))
    }
    router.get("metrics") { _, _ in
        var buffer: [UInt8] = []
        buffer.reserveCapacity(16 * 1024)
        registry.emit(into: &buffer)
        return Response(
            status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: buffer)))
    }
    ScoringController(traffic: traffic, inferenceLog: inferenceLog, bodyLimit: bodyLimit).addRoutes(to: router)
    OpenInferenceController(traffic: traffic, inferenceLog: inferenceLog, bodyLimit: bodyLimit).addRoutes(to: router)
    return router
}

extension Optional {
    func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async rethrows -> T? {
        guard let value = self else { return nil }
        return try await transform(value)
    }
}
