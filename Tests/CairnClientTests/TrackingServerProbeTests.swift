import CairnCore
import Foundation
import Logging
import NIOCore
import NIOPosix
import Synchronization
import Testing

@testable import CairnClient

/// Collects log messages so a test can read what was logged.
final class CollectingLogHandler: LogHandler, Sendable {
    let messages = Mutex<[String]>([])
    var metadata: Logger.Metadata {
        get { [:] }
        set {}
    }
    var logLevel: Logger.Level {
        get { .trace }
        set {}
    }
    subscript(metadataKey _: String) -> Logger.Metadata.Value? {
        get { nil }
        set {}
    }

    func log(event: LogEvent) {
        messages.withLock { $0.append("\(event.message)") }
    }
}

/// A loopback port nothing listens on: bound, then closed.
func closedPort() async throws -> Int {
    let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: 0).get()
    let port = channel.localAddress!.port!
    try await channel.close()
    return port
}

@Suite struct TrackingServerProbeTests {

    @Test func aServerThatIsDownIsNamedWithWhatToCheckAfterLoggedRetries() async throws {
        let url = "http://127.0.0.1:\(try await closedPort())"
        let handler = CollectingLogHandler()
        let logger = Logger(label: "test", factory: { _ in handler })
        let probe = TrackingServerProbe(attempts: 3, connectTimeout: .seconds(2), retryDelay: .milliseconds(1))
        do {
            try await probe.waitUntilReachable(url, logger: logger)
            Issue.record("A closed port was reported reachable.")
        } catch let error as CairnError {
            #expect(error.message.contains("Cannot reach the tracking server at \(url) (connection refused)"))
            #expect(error.message.contains("cairn server"))
            #expect(error.message.contains("MLFLOW_TRACKING_URI"))
        }
        let lines = handler.messages.withLock { $0 }
        #expect(lines.count == 2)
        #expect(lines.allSatisfy { $0.contains("Waiting for the tracking server at \(url) (connection refused)") })
    }

    @Test func aListeningServerPassesAtOnce() async throws {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: 0).get()
        let handler = CollectingLogHandler()
        try await TrackingServerProbe().waitUntilReachable(
            "http://127.0.0.1:\(channel.localAddress!.port!)/", logger: Logger(label: "test", factory: { _ in handler }))
        try await channel.close()
        #expect(handler.messages.withLock { $0 }.isEmpty)
    }
}
