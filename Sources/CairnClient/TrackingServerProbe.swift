import CairnCore
import Foundation
import Logging
import NIOCore
import NIOPosix

/// Checks that the tracking server accepts connections before the first real request. HTTP
/// requests wait out their whole timeout (30 s and more) retrying a refused connection and
/// then fail without the URL; this tries a few quick connects, logs a line per retry saying
/// what it waits for, and then fails in seconds with the URL and what to check.
public struct TrackingServerProbe: Sendable {
    public var attempts: Int
    public var connectTimeout: Duration
    /// The wait after the first failed attempt; it doubles after each further one.
    public var retryDelay: Duration

    public init(attempts: Int = 3, connectTimeout: Duration = .seconds(2), retryDelay: Duration = .milliseconds(500)) {
        self.attempts = max(1, attempts)
        self.connectTimeout = connectTimeout
        self.retryDelay = retryDelay
    }

    public func waitUntilReachable(_ trackingURI: String, logger: Logger) async throws {
        guard let url = URL(string: trackingURI), let rawHost = url.host, !rawHost.isEmpty else {
            throw CairnError.invalidParameter(
                "The tracking URI '\(trackingURI)' has no host: pass --tracking-uri http://host:port or set MLFLOW_TRACKING_URI.")
        }
        let host = rawHost.hasPrefix("[") ? String(rawHost.dropFirst().dropLast()) : rawHost
        let port = url.port ?? (url.scheme == "https" ? 443 : 80)
        var delay = retryDelay
        for attempt in 1...attempts {
            let reason: String
            do {
                let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                    .connectTimeout(TimeAmount(connectTimeout))
                    .connect(host: host, port: port).get()
                try? await channel.close()
                return
            } catch {
                reason = Self.reason(error, timeout: connectTimeout)
            }
            guard attempt < attempts else {
                throw Self.unreachable(trackingURI, reason: reason)
            }
            logger.warning(
                "Waiting for the tracking server at \(trackingURI) (\(reason)); attempt \(attempt) of \(attempts) failed, retrying in \(delay)"
            )
            try await Task.sleep(for: delay)
            delay *= 2
        }
    }

    /// The error for a tracking server that cannot be reached: its URL, why, and what to check.
    public static func unreachable(_ trackingURI: String, reason: String) -> CairnError {
        CairnError(
            .temporarilyUnavailable,
            "Cannot reach the tracking server at \(trackingURI) (\(reason)): is `cairn server` running there? Set --tracking-uri or MLFLOW_TRACKING_URI."
        )
    }

    /// A connection failure in a few words: "connection refused", "no answer within 2 seconds",
    /// "cannot resolve host.example".
    static func reason(_ error: any Error, timeout: Duration) -> String {
        switch error {
        case let error as NIOConnectionError:
            if let failure = error.connectionErrors.first { return reason(failure.error, timeout: timeout) }
            if error.dnsAError != nil || error.dnsAAAAError != nil { return "cannot resolve \(error.host)" }
            return "\(error)"
        case let error as IOError:
            return String(cString: strerror(error.errnoCode)).lowercased()
        case ChannelError.connectTimeout:
            return "no answer within \(timeout)"
        default:
            return "\(error)"
        }
    }
}
