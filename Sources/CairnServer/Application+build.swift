import CairnArtifacts
import CairnAuth
import CairnClient
import CairnCore
import CairnMonitor
import CairnPipelines
import CairnS3
import CairnStore
import Foundation
import Hummingbird
import Logging
import NIOPosix
import Prometheus
import ServiceLifecycle

/// Wires the stores and controllers for `configuration` and returns the application, ready to
/// run. Migrations run when it starts, before the server listens. The port, the data
/// directory and its lock are checked first, so those mistakes are reported before anything
/// is written.
public func buildApplication(_ configuration: ServerConfiguration, logger: Logger) async throws -> some ApplicationProtocol {
    try await ListenAddress(host: configuration.host, port: configuration.port).checkAvailable()
    try DataDirectory.prepare(configuration.dataDirectory, role: "data directory")
    let lock = try DataDirectoryLock(directory: configuration.dataDirectory)
    // The bucket is checked before the database opens: a wrong destination fails start-up
    // before anything is written.
    let artifacts = try await openArtifactRepository(configuration, logger: logger)
    let database = try await openDatabase(configuration, logger: logger)
    // Replicas on one PostgreSQL database elect the one that runs the work that must happen
    // once; a SQLite file has one server, which always leads.
    let election: LeaderElection? =
        database.database.kind == .postgres
        ? LeaderElection(
            holder: LeaderElection.processHolder(), lease: SQLLeaderLease(database: database.database),
            timing: configuration.leaderTiming, logger: logger) : nil
    let leadership: any Leadership = election ?? AlwaysLeader()
    let registry = PrometheusCollectorRegistry()
    let auth = configuration.auth.map { settings in
        ServerAuth(
            store: SQLAuthStore(database: database.database),
            policy: AccessPolicy(defaultPermission: settings.defaultPermission, protectedAliases: settings.protectedAliases),
            hasher: PasswordHasher(cost: settings.bcryptCost), logger: logger)
    }
    let baseRegistryStore = SQLRegistryStore(database: database.database)
    let webhooks = Webhooks(store: SQLWebhookStore(database: database.database), logger: logger, leadership: leadership)
    // Triggers dispatch to the pipeline service, which is built below (it needs the gate, which
    // needs the registry store these triggers listen to): they reach it through a reference
    // bound once it exists.
    let pipelineReference = PipelineServiceReference()
    let triggering = PipelineTriggering(
        store: SQLTriggerEventStore(database: database.database), dispatcher: pipelineReference, registry: pipelineReference,
        logger: logger, leadership: leadership)
    // Registry writes through the API announce themselves to MLflow webhooks and to
    // pipelines' model triggers.
    let registryListeners: [any RegistryEventListener] = [webhooks.outbox, triggering.registrySource]
    let registryStore = EventEmittingRegistryStore(base: baseRegistryStore, listeners: registryListeners, logger: logger)
    let monitorStore = SQLMonitorStore(database: database.database)
    let monitoring = Monitoring(
        store: monitorStore, registry: baseRegistryStore,
        logDirectory: configuration.resolvedInferenceLogDirectory, metrics: registry, logger: logger,
        alertListener: triggering.alertListener, leadership: leadership)
    // The gate scores models through this server's own API, as `cairn serve` would; with
    // --auth it presents the server's own credential.
    let promotions = Promotions(
        credentials: auth.map { .bearer($0.internalToken) },
        store: AnnouncingPromotionLogStore(base: SQLPromotionLogStore(database: database.database), listeners: registryListeners),
        registry: registryStore,
        serverURI: configuration.selfURI, modelCacheDirectory: configuration.dataDirectory + "/gate-models", logger: logger)
    let trackingStore = SQLTrackingStore(database: database.database)
    let pipelines = try await makePipelineService(
        configuration, database: database.database, tracking: trackingStore, artifacts: artifacts, gate: promotions.gate,
        trackingToken: auth?.internalToken, leadership: leadership, logger: logger)
    pipelineReference.bind(pipelines)
    let pageRoutes = PageRouteTable()
    let router = buildRouter(
        store: trackingStore,
        registryStore: registryStore,
        loggedModelStore: SQLLoggedModelStore(database: database.database),
        artifacts: artifacts,
        monitoring: monitoring,
        promotions: promotions,
        webhooks: webhooks,
        triggering: triggering,
        pipelines: pipelines,
        registry: registry,
        hostPolicy: HostPolicy(bindHost: configuration.host, allowedHosts: configuration.allowedHosts),
        staticPrefix: configuration.staticPrefix,
        pageRoutes: pageRoutes,
        auth: auth
    )

    // Hummingbird announces its own start at info level; Cairn's line below is the one
    // start-up line, so the framework logs from notice up unless debugging was asked for.
    var frameworkLogger = logger
    frameworkLogger.logLevel = max(logger.logLevel, .notice)
    var app = Application(
        router: router,
        // Limits vary by route (artifact uploads stream without one), so they are checked
        // where bodies are read; the connection closes after any 413.
        server: .cairnHTTP1(pages: (configuration.staticPrefix, pageRoutes)),
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "cairn"),
        onServerRunning: { channel in
            let port = channel.localAddress?.port ?? configuration.port
            logger.info("Cairn tracking server listening on http://\(configuration.host):\(port)")
        },
        logger: frameworkLogger
    )
    // Services stop in reverse order: the server first (in-flight requests finish), then
    // the database's own service, then the closer, so every write commits before close;
    // the data directory's lock, added first, goes last and so outlives every write.
    app.addServices(lock)
    if let databaseLock = database.lock { app.addServices(databaseLock) }
    app.addServices(DatabaseCloser(database: database.database))
    if let service = database.service { app.addServices(service) }
    // After the database (it renews through it to the end) and before every leader-only
    // service, so those stop before the lease is released.
    if let election { app.addServices(election) }
    // Stops before the database: its last flush commits the final requests' audit entries.
    if let auth { app.addServices(auth.audit) }
    if let local = artifacts as? LocalArtifactRepository {
        app.addServices(StaleUploadSweeper(repository: local, logger: logger, leadership: leadership))
    }
    app.addServices(monitoring.service)
    app.addServices(webhooks.service)
    app.addServices(triggering.scheduler)
    app.addServices(pipelines)
    // Migrations run once the services are up (PostgreSQL's pool must be running) and
    // before the server listens; a failure stops start-up.
    app.beforeServerStarts {
        try await Migrations.run(on: database.database, logger: logger, now: SystemClock.now())
        if let auth, let settings = configuration.auth {
            try await AdminBootstrap.ensureAdmin(
                store: auth.store, hasher: auth.hasher, settings: settings.admin, logger: logger, now: SystemClock.now())
        }
        election?.start()
        monitoring.service.start()
        webhooks.service.start()
        // On the leader, each time a replica becomes it: alerts and model triggers that a
        // dead leader may have left half-handled are offered again (their keys de-duplicate).
        triggering.scheduler.start {
            await triggering.alertListener.replayFiringAlerts(store: monitorStore, logger: logger)
            await triggering.registrySource.reconcile(with: baseRegistryStore)
        }
        pipelines.start()
    }
    return app
}

/// The router with every API and page mounted; separate from `buildApplication` so tests can
/// drive it without a socket. The registry and logged-model APIs are mounted when their stores
/// are given. With a static prefix (`/sub`), every route, the APIs' included, is under it, as
/// with MLflow's `--static-prefix`.
public func buildRouter(
    store: any TrackingStore,
    registryStore: (any RegistryStore)? = nil,
    loggedModelStore: (any LoggedModelStore)? = nil,
    artifacts: (any ArtifactRepository)? = nil,
    monitoring: Monitoring? = nil,
    promotions: Promotions? = nil,
    webhooks: Webhooks? = nil,
    triggering: PipelineTriggering? = nil,
    pipelines: PipelineService? = nil,
    registry: PrometheusCollectorRegistry,
    hostPolicy: HostPolicy = HostPolicy(bindHost: "127.0.0.1", allowedHosts: []),
    staticPrefix: String = "",
    pageRoutes: PageRouteTable = PageRouteTable(),
    auth: ServerAuth? = nil
) -> Router<AppRequestContext> {
    // HEAD answers as GET without the body, for pages (`curl -I`, link checkers) and, as
    // MLflow's Flask routes do, for the API's GET routes.
    let router = Router(context: AppRequestContext.self, options: .autoGenerateHeadEndpoints)
    router.add(middleware: RequestIDMiddleware())
    router.add(middleware: RequestMetricsMiddleware(registry: registry))
    router.add(middleware: ErrorRenderingMiddleware(.mlflowJSON, pagesPrefix: staticPrefix, pageRoutes: pageRoutes))
    router.add(middleware: HostOriginMiddleware(policy: hostPolicy))
    if let auth { router.add(middleware: AuthMiddleware(auth: auth, tracking: store, staticPrefix: staticPrefix)) }
    let root = router.group(RouterPath(staticPrefix))
    if let auth {
        UsersController(auth: auth).addRoutes(to: root)
        RolesController(auth: auth).addRoutes(to: root)
        AccessTokensController(auth: auth).addRoutes(to: root.group("api/cairn/v1"))
    }
    let multipart = artifacts as? any MultipartArtifactRepository
    ServiceController(
        registry: registry, servesArtifacts: artifacts != nil, multipartUploads: multipart != nil,
        multipartDownloads: artifacts is any PresignedDownloadRepository
    ).addRoutes(to: root)
    if let artifacts { ArtifactsController(repository: artifacts).addRoutes(to: root) }
    if let multipart { MultipartUploadsController(repository: multipart, staticPrefix: staticPrefix).addRoutes(to: root) }
    // The web UI talks to the same API under /ajax-api.
    for prefix in ["api/2.0/mlflow", "ajax-api/2.0/mlflow"] {
        let group = root.group(RouterPath(prefix))
        ExperimentsController(store: store).addRoutes(to: group)
        RunsController(store: store, now: SystemClock.now).addRoutes(to: group)
        RunArtifactsController(store: store, artifacts: artifacts).addRoutes(to: group)
        if let registryStore { RegistryController(store: registryStore).addRoutes(to: group) }
        if let loggedModelStore { LoggedModelsController(store: loggedModelStore).addRoutes(to: group) }
        if let webhooks { WebhooksController(store: webhooks.store, service: webhooks.service, now: webhooks.now).addRoutes(to: group) }
    }
    if let monitoring {
        MonitorsController(
            store: monitoring.store, registry: monitoring.registry, service: monitoring.service, log: monitoring.log,
            signatures: RegisteredSignatures(registry: monitoring.registry, artifacts: artifacts), now: monitoring.now
        ).addRoutes(to: root.group("api/cairn/v1"))
    }
    if let promotions {
        PromotionsController(store: promotions.store, registry: promotions.registry, gate: promotions.gate, now: promotions.now).addRoutes(
            to: root.group("api/cairn/v1"))
    }
    if let triggering { PipelineTriggersController(triggering: triggering).addRoutes(to: root.group("api/cairn/v1")) }
    if let pipelines {
        PipelinesController(service: pipelines, store: pipelines.store, threadPool: .singleton).addRoutes(to: root.group("api/cairn/v1"))
    }
    if let registryStore {
        LineageController(
            reader: LineageReader(
                tracking: store, registry: registryStore, pipelines: pipelines?.store, promotions: promotions?.store,
                monitors: monitoring?.store)
        ).addRoutes(to: root.group("api/cairn/v1"))
    }
    // The web UI: pages render their errors as HTML. Each area registers its controller here.
    let ui = UIPages(staticPrefix: staticPrefix)
    let pages = root.pages("", staticPrefix: staticPrefix, routes: pageRoutes)
    UIAssetsController().addRoutes(to: pages)
    if let auth { LoginPagesController(auth: auth, ui: ui).addRoutes(to: pages) }
    ExperimentPagesController(store: store, artifacts: artifacts, ui: ui, now: SystemClock.now).addRoutes(to: pages)
    RunsTablePagesController(store: store, ui: ui, now: SystemClock.now).addRoutes(to: pages)
    if let registryStore {
        ModelPagesController(
            registry: registryStore, tracking: store, signatures: RegisteredSignatures(registry: registryStore, artifacts: artifacts),
            promotions: promotions?.store, monitors: monitoring?.store, pipelines: pipelines?.store, ui: ui, now: SystemClock.now
        ).addRoutes(to: pages)
    }
    if let monitoring {
        MonitorPagesController(store: monitoring.store, service: monitoring.service, log: monitoring.log, ui: ui, now: monitoring.now)
            .addRoutes(to: pages)
    }
    if let pipelines {
        PipelinePagesController(
            service: pipelines, store: pipelines.store, tracking: store, promotions: promotions?.store, threadPool: .singleton, ui: ui,
            now: SystemClock.now
        ).addRoutes(to: pages)
    }

    RunPagesController(
        ui: ui, store: store, registry: registryStore, loggedModels: loggedModelStore, artifacts: artifacts, now: SystemClock.now
    ).addRoutes(to: pages)
    ComparePagesController(ui: ui, store: store).addRoutes(to: pages)
    ChartPagesController(store: store).addRoutes(to: pages)
    return router
}

/// The evaluation gate and its promotion log. `gate` is what the pipeline engine calls for
/// `gate:` stages (`GateEvaluating`).
public struct Promotions: Sendable {
    public let store: any PromotionLogStore
    public let registry: any RegistryStore
    public let gate: EvaluationGate
    public let now: WallClock

    public init(
        credentials: ClientConfiguration.Credentials? = nil,
        store: any PromotionLogStore, registry: any RegistryStore, serverURI: String, modelCacheDirectory: String, logger: Logger,
        now: @escaping WallClock = SystemClock.now
    ) {
        self.store = store
        self.registry = registry
        self.now = now
        gate = EvaluationGate(
            registry: registry, promotions: store, tracking: ClientConfiguration(trackingURI: serverURI, credentials: credentials),
            modelCacheDirectory: modelCacheDirectory, logger: logger, now: now)
    }
}

/// The pipeline engine and its service: stages run by the local executor (the default), and by
/// the Ray head at `configuration.ray` when one is given (checked, with its token, before the
/// server starts), with the server's address as their `MLFLOW_TRACKING_URI`; file-state
/// tables and stage logs under `<data-dir>/pipelines`.
func makePipelineService(
    _ configuration: ServerConfiguration, database: any MetadataDatabase, tracking: any TrackingStore,
    artifacts: any ArtifactRepository, gate: (any GateEvaluating)?, trackingToken: String? = nil,
    leadership: any Leadership = AlwaysLeader(), logger: Logger
) async throws -> PipelineService {
    let dataDirectory =
        configuration.dataDirectory.hasPrefix("/")
        ? configuration.dataDirectory : FileManager.default.currentDirectoryPath + "/" + configuration.dataDirectory
    let host = configuration.host == "0.0.0.0" || configuration.host == "::" ? "127.0.0.1" : configuration.host
    var executors: [any StageExecutor] = [LocalExecutor()]
    if let ray = configuration.ray {
        do {
            let executor = try await RayJobsExecutor.connect(ray)
            logger.info("Pipeline stages with executor: ray run on \(ray.address) (Ray \(executor.rayVersion ?? "unknown"))")
            executors.append(executor)
        } catch let error as StageExecutionError {
            throw CairnError.invalidParameter("The Ray head at \(ray.address) cannot be used: \(error.reason)")
        }
    }
    let store = SQLPipelineStore(database: database)
    let engine = PipelineEngine(
        store: store, tracking: tracking, artifacts: artifacts, threadPool: .singleton, executors: executors, gate: gate,
        configuration: .init(
            stateDirectory: dataDirectory + "/pipelines", trackingURI: "http://\(host):\(configuration.port)\(configuration.staticPrefix)",
            trackingToken: trackingToken, host: leadership.holder),
        logger: logger)
    return PipelineService(
        engine: engine, store: store, triggerEvents: SQLTriggerEventStore(database: database),
        loadSpec: { directory in
            try await NIOThreadPool.singleton.runIfActive {
                do {
                    return try PipelineSpecLoader().load(at: directory)
                } catch let error as PipelineSpecError {
                    throw error.cairnError
                }
            }
        }, logger: logger, leadership: leadership)
}

/// The monitoring side of the server: its store, the log it reads and the service that runs
/// monitors on their schedules.
public struct Monitoring: Sendable {
    public let store: any MonitorStore
    public let registry: any RegistryStore
    public let log: InferenceLogReader
    public let service: MonitorService
    public let now: WallClock

    public init(
        store: any MonitorStore, registry: any RegistryStore, logDirectory: String, metrics: PrometheusCollectorRegistry,
        options: MonitorService.Options = MonitorService.Options(), logger: Logger,
        now: @escaping WallClock = SystemClock.now, alertListener: (any MonitorAlertListener)? = nil,
        leadership: any Leadership = AlwaysLeader()
    ) {
        self.store = store
        self.registry = registry
        self.log = InferenceLogReader(directory: logDirectory)
        self.now = now
        service = MonitorService(
            store: store, evaluator: MonitorEvaluator(store: store, registry: registry, log: log, now: now), registry: metrics,
            options: options, logger: logger, now: now, alertListener: alertListener, leadership: leadership)
    }
}

/// MLflow 3 webhooks: their store, the outbox registry events fill and the service that
/// delivers it. URLs follow MLflow's `MLFLOW_WEBHOOK_ALLOWED_SCHEMES` and
/// `MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS`.
public struct Webhooks: Sendable {
    public let store: any WebhookStore
    public let service: WebhookService
    public let outbox: WebhookOutbox
    public let now: WallClock

    public init(
        store: any WebhookStore, options: WebhookService.Options = WebhookService.Options(), maxAttempts: Int = 5, logger: Logger,
        now: @escaping WallClock = SystemClock.now, leadership: any Leadership = AlwaysLeader()
    ) {
        self.store = store
        self.now = now
        service = WebhookService(
            store: store, policy: .fromEnvironment(), options: options, logger: logger, now: now, leadership: leadership)
        outbox = WebhookOutbox(store: store, maxAttempts: maxAttempts, logger: logger, now: now)
    }
}

/// The artifact repository for `--artifacts-destination`: a bucket for `s3://bucket/prefix`
/// (configured from the AWS variables and shared files, and checked to be reachable), else a
/// local directory.
func openArtifactRepository(_ configuration: ServerConfiguration, logger: Logger) async throws -> any ArtifactRepository {
    let destination = configuration.resolvedArtifactsDestination
    guard destination.hasPrefix("s3://") else {
        try DataDirectory.prepare(destination, role: "artifacts destination")
        return try LocalArtifactRepository(rootDirectory: destination)
    }
    let s3 = try S3Configuration.resolve(
        uri: destination, environment: ProcessInfo.processInfo.environment,
        readFile: { path in try? String(contentsOfFile: path, encoding: .utf8) })
    let repository = S3ArtifactRepository(configuration: s3)
    try await repository.checkBucket()
    logger.info(
        "Artifacts in \(s3.uri)",
        metadata: ["endpoint": "\(s3.endpoint)", "addressing": "\(s3.addressing.rawValue)", "region": "\(s3.region)"])
    return repository
}

struct OpenedDatabase {
    var database: any MetadataDatabase
    /// A service the database needs running (PostgreSQL's pool, SQLite's checkpoints).
    var service: (any Service)?
    /// A SQLite file's own lock: one server per file, whichever data directory it runs with.
    var lock: DataDirectoryLock? = nil
}

func openDatabase(_ configuration: ServerConfiguration, logger: Logger) async throws -> OpenedDatabase {
    let uri = configuration.backendStoreURI
    if let uri, uri.hasPrefix("postgresql://") || uri.hasPrefix("postgres://") {
        let database = try PostgresMetadataDatabase(url: uri.replacingOccurrences(of: "postgresql://", with: "postgres://"), logger: logger)
        return OpenedDatabase(database: database, service: database)
    }
    let path: String
    if let uri {
        guard uri.hasPrefix("sqlite:///") else {
            throw CairnError.invalidParameter("Unsupported --backend-store-uri '\(uri)': use sqlite:///<path> or postgresql://…")
        }
        path = String(uri.dropFirst("sqlite:///".count))
        // sqlite:////abs/path (four slashes) is absolute, sqlite:///rel/path relative, as in SQLAlchemy.
    } else {
        path = configuration.dataDirectory + "/cairn.db"
    }
    let directory = (path as NSString).deletingLastPathComponent
    if !directory.isEmpty { try DataDirectory.prepare(directory, role: "database directory") }
    let lock = try DataDirectoryLock(database: path)
    let database = try await SQLiteMetadataDatabase.open(path: path, logger: logger)
    return OpenedDatabase(database: database, service: database.checkpointService(), lock: lock)
}

/// Closes the metadata database when the service group shuts down.
struct DatabaseCloser: Service {
    let database: any MetadataDatabase

    func run() async throws {
        try? await gracefulShutdown()
        try await database.shutdown()
    }
}
