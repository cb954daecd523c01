import CairnClient
import CairnCore
import Foundation
import NIOCore
import NIOPosix
import Testing

@testable import CairnServing

@Suite struct ModelResolverTests {
    @Test func resolverFailsFastNamingTheServer() async throws {
        let closed = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: 0).get()
        let url = "http://127.0.0.1:\(closed.localAddress!.port!)"
        try await closed.close()
        var resolver = ModelResolver(
            tracking: ClientConfiguration(trackingURI: url),
            cacheDirectory: FileManager.default.temporaryDirectory.path + "/cairn-unused-\(UUID().uuidString)")
        resolver.probe = TrackingServerProbe(attempts: 2, retryDelay: .milliseconds(1))
        let error = await #expect(throws: CairnError.self) {
            _ = try await resolver.fetch(.registered(name: "churn", selector: .version(1)))
        }
        #expect(error?.message.contains("Cannot reach the tracking server at \(url)") == true)
    }

    @Test func aRegistryURIWithoutATrackingServerSaysWhatToSet() async throws {
        let resolver = ModelResolver(tracking: ClientConfiguration(trackingURI: nil), cacheDirectory: "/nonexistent")
        let error = await #expect(throws: CairnError.self) {
            _ = try await resolver.fetch(.registered(name: "churn", selector: .alias("champion")))
        }
        #expect(error?.message.contains("--tracking-uri") == true)
        #expect(error?.message.contains("MLFLOW_TRACKING_URI") == true)
    }
}
