import CairnCore
import Hummingbird
import HummingbirdTesting
import Testing

@testable import CairnServer

@Suite struct HostPolicyTests {
    @Test func loopbackServerAnswersOnlyToLoopbackNames() {
        let policy = HostPolicy(bindHost: "127.0.0.1", allowedHosts: [])
        #expect(policy.allows(authority: "127.0.0.1:5000"))
        #expect(policy.allows(authority: "localhost"))
        #expect(policy.allows(authority: "[::1]:5000"))
        #expect(!policy.allows(authority: "evil.example:5000"))
        #expect(!policy.allows(authority: "127.0.0.1.evil.example"))
        #expect(policy.allows(origin: "http://localhost:3000"))
        #expect(!policy.allows(origin: "http://evil.example"))
        #expect(!policy.allows(origin: "null"))
    }

    @Test func allowedHostsExtendOrOpenThePolicy() {
        let named = HostPolicy(bindHost: "0.0.0.0", allowedHosts: ["mlflow.internal"])
        #expect(named.allows(authority: "MLflow.internal:443"))
        #expect(!named.allows(authority: "other.internal"))
        let open = HostPolicy(bindHost: "127.0.0.1", allowedHosts: ["*"])
        #expect(open.allows(authority: "anything:1"))
        let network = HostPolicy(bindHost: "0.0.0.0", allowedHosts: [])
        #expect(network.allows(authority: "10.1.2.3:5000"))
    }

    // The router test client always sends `localhost` as the authority; a foreign Host is
    // exercised against a live server in Tests/compat/test_wire.py.
    @Test func crossSiteWritesAreRefusedOverHTTP() async throws {
        try await APIFixture.withApp { client in
            let csrf = try await client.execute(
                uri: "/api/2.0/mlflow/experiments/create", method: .post,
                headers: [.contentType: "application/json", .origin: "https://attacker.example"],
                body: ByteBuffer(string: #"{"name":"csrf"}"#)
            )
            try expectError(csrf, .permissionDenied)
            let sameSite = try await client.execute(
                uri: "/api/2.0/mlflow/experiments/create", method: .post,
                headers: [.contentType: "application/json", .origin: "http://localhost:5000"],
                body: ByteBuffer(string: #"{"name":"ok"}"#)
            )
            #expect(sameSite.status == .ok)
            let missing = try await client.get("/api/2.0/mlflow/experiments/get-by-name?experiment_name=csrf")
            try expectError(missing, .resourceDoesNotExist)
        }
    }

    @Test func aCrossSiteFormPostToAPageIsRefusedWithAPage() async throws {
        try await APIFixture.withApp { client in
            let form = try await client.execute(
                uri: "/experiments", method: .post,
                headers: [
                    .contentType: "application/x-www-form-urlencoded", .origin: "https://attacker.example",
                    .accept: "text/html,application/xhtml+xml,*/*;q=0.8",
                ],
                body: ByteBuffer(string: "name=csrf")
            )
            #expect(form.status == .forbidden)
            #expect(form.headers[.contentType]?.hasPrefix("text/html") == true)
            #expect(String(buffer: form.body).contains("Cross-origin request"))
            // An API client's refusal stays MLflow's JSON even if it accepts HTML.
            let api = try await client.execute(
                uri: "/api/2.0/mlflow/experiments/create", method: .post,
                headers: [.contentType: "application/json", .origin: "https://attacker.example", .accept: "text/html"],
                body: ByteBuffer(string: #"{"name":"csrf"}"#)
            )
            try expectError(api, .permissionDenied)
        }
    }
}
