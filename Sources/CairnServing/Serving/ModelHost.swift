import CairnCore
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// Serves one model URI in one role (primary, canary or shadow) and follows it: when the
/// URI is an alias or `latest`, the host polls the registry, loads and warms a new version
/// in the background, swaps it in atomically, lets requests already on the old version
/// finish, then stops the old one. A version that fails to load leaves the old one serving;
/// the failure is logged, counted and shown in the model's metadata.
public final class ModelHost: Service, Sendable {
    public let uri: ModelURI
    public let role: String
    public var name: String { uri.servedName }
    let resolver: ModelResolver
    let loader: ModelLoader
    let pollInterval: Duration
    private let logger: Logger
    private let current = Mutex<ModelDeployment?>(nil)
    private let status = Mutex<(lastError: String?, failedVersion: String?)>((nil, nil))
    /// Work for `run()`: start a deployment's batch loop, or retire a replaced one.
    private enum Command: Sendable {
        case serve(ModelDeployment)
        case retire(ModelDeployment)
    }
    private let (commands, commandContinuation) = AsyncStream.makeStream(of: Command.self)

    public init(uri: ModelURI, role: String, resolver: ModelResolver, loader: ModelLoader, pollInterval: Duration, logger: Logger) {
        self.uri = uri
        self.role = role
        self.resolver = resolver
        self.loader = loader
        self.pollInterval = pollInterval
        self.logger = logger
    }

    /// Loads the model the URI names now. Called before the server listens: a model that
    /// cannot be loaded at start is a start-up error.
    public func loadInitial() async throws {
        let resolved = try await resolver.fetch(uri)
        let deployment = try await loader.load(resolved, name: name)
        install(deployment)
        loader.metrics.modelLoad(model: name, result: "ok")
        logger.info(
            "Model loaded",
            metadata: [
                "model": "\(uri)", "version": "\(deployment.versionLabel)", "runtime": "\(deployment.runtime.kind)", "role": "\(role)",
            ])
    }

    /// The deployment to score with, leased; call `release()` on it when done.
    public func lease() -> ModelDeployment? {
        current.withLock { deployment in
            deployment?.acquire()
            return deployment
        }
    }

    public var servingVersion: String? { current.withLock { $0?.versionLabel } }
    public var lastError: String? { status.withLock { $0.lastError } }

    private func install(_ deployment: ModelDeployment) {
        commandContinuation.yield(.serve(deployment))
        let previous = current.withLock { current in
            defer { current = deployment }
            return current
        }
        loader.metrics.setServedVersion(model: name, role: role, version: deployment.versionLabel)
        if let previous, previous.versionLabel != deployment.versionLabel {
            loader.metrics.clearServedVersion(model: name, role: role, version: previous.versionLabel)
        }
        if let previous { commandContinuation.yield(.retire(previous)) }
    }

    public func run() async throws {
        await withDiscardingTaskGroup { group in
            group.addTask { [self] in
                try? await cancelWhenGracefulShutdown { try await self.followAlias() }
            }
            group.addTask { [self] in
                // On shutdown (or cancellation) the current version drains its queue and
                // the command stream ends, which lets the group finish.
                try? await gracefulShutdown()
                if let deployment = current.withLock({ $0 }) { deployment.batcher.stop() }
                commandContinuation.finish()
            }
            for await command in commands {
                switch command {
                case .serve(let deployment):
                    group.addTask { await deployment.run() }
                case .retire(let retiring):
                    group.addTask { [self] in
                        // Requests in flight took their lease before the swap and finish on
                        // the old version; no new lease can be taken on it.
                        while retiring.activeLeases > 0 { try? await Task.sleep(for: .milliseconds(5)) }
                        retiring.batcher.stop()
                        logger.debug("Retired model version", metadata: ["model": "\(name)", "version": "\(retiring.versionLabel)"])
                    }
                }
            }
        }
    }

    /// Polls the registry for the version the URI names and swaps when it changes.
    func followAlias() async throws {
        guard case .registered(_, let selector) = uri, selector.isMovable else { return }
        while true {
            try await Task.sleep(for: pollInterval)
            do {
                try await checkForNewVersion()
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                logger.warning("Could not check the model's alias", metadata: ["model": "\(uri)", "error": "\(error)"])
            }
        }
    }

    /// One poll: loads and swaps in the version the URI names now, if it is new.
    public func checkForNewVersion() async throws {
        guard let version = try await resolver.currentVersion(of: uri), version != servingVersion else { return }
        if status.withLock({ $0.failedVersion }) == version { return }
        logger.info(
            "Model alias moved; loading the new version",
            metadata: ["model": "\(uri)", "version": "\(version)", "from": "\(servingVersion ?? "-")"])
        do {
            let resolved = try await resolver.fetch(uri, pinnedVersion: version)
            let deployment = try await loader.load(resolved, name: name)
            install(deployment)
            status.withLock { $0 = (nil, nil) }
            loader.metrics.modelLoad(model: name, result: "ok")
            logger.info("Model swapped", metadata: ["model": "\(uri)", "version": "\(version)"])
        } catch {
            status.withLock { $0 = ("version \(version) failed to load: \(error)", version) }
            loader.metrics.modelLoad(model: name, result: "failed")
            logger.error(
                "New model version failed to load; the old version keeps serving",
                metadata: ["model": "\(uri)", "version": "\(version)", "error": "\(error)"])
        }
    }
}
