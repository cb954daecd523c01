import AsyncHTTPClient
import CairnCore
import Foundation
import NIOSSL
import Testing
@testable import CairnClient

@Suite struct ClientConfigurationTests {
    typealias Configuration = ClientConfiguration

    @Test func trackingURIComesFromTheFlagFirstThenTheEnvironment() throws {
        let environment = ["MLFLOW_TRACKING_URI": "http://env:5000/"]
        #expect(try Configuration.fromEnvironment(trackingURI: nil, environment: environment).trackingURI == "http://env:5000")
        #expect(try Configuration.fromEnvironment(trackingURI: "http://flag:5000", environment: environment).trackingURI == "http://flag:5000")
        // An empty flag or variable is no value, as in MLflow.
        #expect(try Configuration.fromEnvironment(trackingURI: "", environment: environment).trackingURI == "http://env:5000")
        #expect(try Configuration.fromEnvironment(trackingURI: nil, environment: ["MLFLOW_TRACKING_URI": ""]).trackingURI == nil)
        #expect(try Configuration.fromEnvironment(trackingURI: nil, environment: [:]).trackingURI == nil)
    }

    @Test func credentialsAsMLflowReadsThem() throws {
        func credentials(_ environment: [String: String]) throws -> Configuration.Credentials? {
            try Configuration.fromEnvironment(trackingURI: "http://h", environment: environment).credentials
        }
        #expect(try credentials([:]) == nil)
        #expect(try credentials(["MLFLOW_TRACKING_TOKEN": "t0k"]) == .bearer("t0k"))
        #expect(try credentials(["MLFLOW_TRACKING_USERNAME": "ann", "MLFLOW_TRACKING_PASSWORD": "pw"]) == .basic(username: "ann", password: "pw"))
        // A user name and password (both set) win over a token; either alone is not Basic.
        #expect(try credentials(["MLFLOW_TRACKING_USERNAME": "ann", "MLFLOW_TRACKING_PASSWORD": "pw", "MLFLOW_TRACKING_TOKEN": "t"]) == .basic(username: "ann", password: "pw"))
        #expect(try credentials(["MLFLOW_TRACKING_USERNAME": "ann", "MLFLOW_TRACKING_TOKEN": "t"]) == .bearer("t"))
        #expect(try credentials(["MLFLOW_TRACKING_PASSWORD": "pw"]) == nil)
        #expect(try credentials(["MLFLOW_TRACKING_TOKEN": ""]) == nil)
        #expect(Configuration.Credentials.basic(username: "ann", password: "p:w").authorization == "Basic YW5uOnA6dw==")
        #expect(Configuration.Credentials.bearer("t0k").authorization == "Bearer t0k")
        // A configuration printed in a log shows no secret.
        let printed = "\(Configuration(trackingURI: "http://h", credentials: .basic(username: "ann", password: "pw-secret"))) \(Configuration.Credentials.bearer("tok-secret"))"
        #expect(printed.contains("ann") && !printed.contains("pw-secret") && !printed.contains("tok-secret"))
    }

    @Test(arguments: [("true", true), ("TRUE", true), ("1", true), ("false", false), ("False", false), ("0", false)])
    func insecureTLSTakesMLflowsBooleans(_ text: String, _ expected: Bool) throws {
        #expect(try Configuration.fromEnvironment(trackingURI: "https://h", environment: ["MLFLOW_TRACKING_INSECURE_TLS": text]).insecureTLS == expected)
    }

    @Test(arguments: ["yes", "", "2"])
    func anythingElseIsRefusedNamingTheVariable(_ text: String) {
        let error = #expect(throws: CairnError.self) {
            try Configuration.fromEnvironment(trackingURI: "https://h", environment: ["MLFLOW_TRACKING_INSECURE_TLS": text])
        }
        #expect(error?.message.contains("MLFLOW_TRACKING_INSECURE_TLS") == true)
    }

    @Test func retriesAndTimeoutHaveMLflowsDefaultsAndVariables() throws {
        let defaults = try Configuration.fromEnvironment(trackingURI: "http://h", environment: [:])
        #expect(defaults.retry == RetryPolicy(maxRetries: 7, backoffFactor: 2, backoffJitter: 1))
        #expect(defaults.timeout == .seconds(120))
        #expect(!defaults.insecureTLS)
        let set = try Configuration.fromEnvironment(trackingURI: "http://h", environment: [
            "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "3", "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1", "MLFLOW_HTTP_REQUEST_BACKOFF_JITTER": "0.5",
            "MLFLOW_HTTP_REQUEST_TIMEOUT": "30", "MLFLOW_HTTP_RESPECT_RETRY_AFTER_HEADER": "false",
        ])
        #expect(set.retry == RetryPolicy(maxRetries: 3, backoffFactor: 1, backoffJitter: 0.5, respectRetryAfter: false))
        #expect(set.timeout == .seconds(30))
        // MLflow's limits: at most 10 retries, a factor of at most 120.
        #expect(throws: CairnError.self) { try Configuration.fromEnvironment(trackingURI: "http://h", environment: ["MLFLOW_HTTP_REQUEST_MAX_RETRIES": "11"]) }
        #expect(throws: CairnError.self) { try Configuration.fromEnvironment(trackingURI: "http://h", environment: ["MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "121"]) }
        #expect(throws: CairnError.self) { try Configuration.fromEnvironment(trackingURI: "http://h", environment: ["MLFLOW_HTTP_REQUEST_TIMEOUT": "soon"]) }
    }

    @Test func aClientNeedsAnHTTPTrackingServer() {
        for uri in [nil, "file:///tmp/mlruns", "sqlite:///mlflow.db", "databricks"] as [String?] {
            let error = #expect(throws: CairnError.self) { try CairnClient(ClientConfiguration(trackingURI: uri)) }
            #expect(error?.message.contains("--tracking-uri http://host:port or set MLFLOW_TRACKING_URI") == true)
        }
    }

    @Test func backoffIsUrllib3sWithMLflowsFactorAndCap() {
        let policy = RetryPolicy()
        #expect(policy.delay(beforeRetry: 1, random: 0.5) == .zero)
        #expect(policy.delay(beforeRetry: 2, random: 0) == .seconds(4))
        #expect(policy.delay(beforeRetry: 3, random: 0.5) == .milliseconds(8500))
        #expect(policy.delay(beforeRetry: 7, random: 0) == .seconds(120))
        #expect(policy.delay(beforeRetry: 3, retryAfter: 5) == .seconds(5))
        #expect(RetryPolicy(respectRetryAfter: false).delay(beforeRetry: 2, retryAfter: 5, random: 0) == .seconds(4))
    }

    @Test func insecureTLSSelectsAClientThatSkipsVerification() throws {
        let secure = try CairnClient(Configuration.fromEnvironment(trackingURI: "https://h", environment: [:]))
        let insecure = try CairnClient(Configuration.fromEnvironment(trackingURI: "https://h", environment: ["MLFLOW_TRACKING_INSECURE_TLS": "true"]))
        #expect(!secure.skipsCertificateVerification)
        #expect(insecure.skipsCertificateVerification)
        #expect(CairnClient.httpConfiguration(insecureTLS: true).tlsConfiguration?.certificateVerification == CertificateVerification.none)
        #expect(CairnClient.httpConfiguration(insecureTLS: false).tlsConfiguration?.certificateVerification != CertificateVerification.none)
    }
}
