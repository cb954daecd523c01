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
        #expect(
            try Configuration.fromEnvironment(trackingURI: "http://flag:5000", environment: environment).trackingURI == "http://flag:5000")
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
        #expect(
            try credentials(["MLFLOW_TRACKING_USERNAME": "ann", "MLFLOW_TRACKING_PASSWORD": "pw"])
                == .basic(username: "ann", password: "pw"))
        // A user name and password (both set) win over a token; either alone is not Basic.
        #expect(
            try credentials(["MLFLOW_TRACKING_USERNAME": "ann", "MLFLOW_TRACKING_PASSWORD": "pw", "MLFLOW_TRACKING_TOKEN": "t"])
                == .basic(username: "ann", password: "pw"))
        #expect(try credentials(["MLFLOW_TRACKING_USERNAME": "ann", "MLFLOW_TRACKING_TOKEN": "t"]) == .bearer("t"))
        #expect(try credentials(["MLFLOW_TRACKING_PASSWORD": "pw"]) == nil)
        #expect(try credentials(["MLFLOW_TRACKING_TOKEN": ""]) == nil)
        #expect(Configuration.Credentials.basic(username: "ann", password: "p:w").authorization == "Basic YW5uOnA6dw==")
        #expect(Configuration.Credentials.bearer("t0k").authorization == "Bearer t0k")
        // A configuration printed in a log shows no secret.
        let printed =
            "\(Configuration(trackingURI: "http://h", credentials: .basic(username: "ann", password: "pw-secret"))) \(Configuration.Credentials.bearer("tok-secret"))"
        #expect(printed.contains("ann") && !printed.contains("pw-secret") && !printed.contains("tok-secret"))
    }

    @Test(arguments: [("true", true), ("TRUE", true), ("1", true), ("false", false), ("False", false), ("0", false)])
    func insecureTLSTakesMLflowsBooleans(_ text: String, _ expected: Bool) throws {
        #expect(
            try Configuration.fromEnvironment(trackingURI: "https://h", environment: ["MLFLOW_TRACKING_INSECURE_TLS": text]).insecureTLS
                == expected)
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
        let set = try Configuration.fromEnvironment(
            trackingURI: "http://h",
            environment: [
                "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "3", "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
                "MLFLOW_HTTP_REQUEST_BACKOFF_JITTER": "0.5",
                "MLFLOW_HTTP_REQUEST_TIMEOUT": "30", "MLFLOW_HTTP_RESPECT_RETRY_AFTER_HEADER": "false",
            ])
        #expect(set.retry == RetryPolicy(maxRetries: 3, backoffFactor: 1, backoffJitter: 0.5, respectRetryAfter: false))
        #expect(set.timeout == .seconds(30))
        // MLflow's limits: at most 10 retries, a factor of at most 120.
        #expect(throws: CairnError.self) {
            try Configuration.fromEnvironment(trackingURI: "http://h", environment: ["MLFLOW_HTTP_REQUEST_MAX_RETRIES": "11"])
        }
        #expect(throws: CairnError.self) {
            try Configuration.fromEnvironment(trackingURI: "http://h", environment: ["MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "121"])
        }
        #expect(throws: CairnError.self) {
            try Configuration.fromEnvironment(trackingURI: "http://h", environment: ["MLFLOW_HTTP_REQUEST_TIMEOUT": "soon"])
        }
    }

    @Test func aClientNeedsAnHTTPTrackingServer() {
        let error = #expect(throws: CairnError.self) { try CairnClient(ClientConfiguration(trackingURI: nil)) }
        #expect(error?.message == "A tracking server is needed: pass --tracking-uri http://host:port or set MLFLOW_TRACKING_URI.")
    }

    /// A URI that is set says what is wrong with it, never that none is set.
    @Test(arguments: [
        ("not a url", "'not a url' is not an http(s) URL"),
        ("ftp://x", "'ftp://x' is not an http(s) URL"),
        ("databricks", "'databricks' names Databricks"),
        ("databricks://profile", "names Databricks"),
        ("127.0.0.1:21500", "has no scheme: use http://127.0.0.1:21500"),
        ("localhost:5000", "has no scheme: use http://localhost:5000"),
        ("sqlite:///mlflow.db", "'sqlite:///mlflow.db' is a store, not a server"),
        ("file:///tmp/mlruns", "is a store, not a server"),
        ("/tmp/mlruns", "is a store, not a server"),
        ("postgresql://ann:s3cret@db/mlflow", "'postgresql://db/mlflow' is a store, not a server"),
        ("http://127.0.0.1:99999", "'http://127.0.0.1:99999' has port 99999: a port is from 1 to 65535"),
        ("http://:5000", "'http://:5000' is not a valid URL with a host"),
    ])
    func aTrackingURIThatIsNotAServersSaysWhatIsWrong(_ uri: String, _ expected: String) {
        let error = #expect(throws: CairnError.self) { try CairnClient(ClientConfiguration(trackingURI: uri)) }
        #expect(error?.message.contains(expected) == true, "\(error?.message ?? "")")
        #expect(error?.message.contains("A tracking server is needed") == false)
        #expect(error?.message.contains("s3cret") == false)
    }

    @Test func credentialsInTheURIAreBasicAuthAndLeaveTheURI() throws {
        func configuration(_ uri: String, _ environment: [String: String] = [:]) throws -> Configuration {
            try Configuration.fromEnvironment(trackingURI: uri, environment: environment)
        }
        let plain = try configuration("http://us%40er:p%3Aw@h:5000/prefix/")
        #expect(plain.trackingURI == "http://h:5000/prefix")
        #expect(plain.credentials == .basic(username: "us@er", password: "p:w"))
        // `requests` replaces the header MLflow sets from the variables with the URL's.
        let both = try configuration(
            "https://ann:pw@h", ["MLFLOW_TRACKING_USERNAME": "bob", "MLFLOW_TRACKING_PASSWORD": "x", "MLFLOW_TRACKING_TOKEN": "t"])
        #expect(both.credentials == .basic(username: "ann", password: "pw"))
        // A user without a password sends nothing from the URL (`get_auth_from_url`).
        let userOnly = try configuration("http://ann@h", ["MLFLOW_TRACKING_TOKEN": "t"])
        #expect(userOnly.trackingURI == "http://h" && userOnly.credentials == .bearer("t"))
        #expect(try configuration("http://h:5000").credentials == nil)
        #expect(Configuration.redacted("http://ann:pw@h:1/x") == "http://***@h:1/x")
        #expect(Configuration.redacted("http://h:1/x@y") == "http://h:1/x@y")
        let error = #expect(throws: CairnError.self) { try configuration("http://ann:p%0Aw@h") }
        #expect(error?.message.contains("control character") == true && error?.message.contains("p%0Aw") == false)
    }

    @Test(arguments: ["MLFLOW_TRACKING_TOKEN", "MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD"])
    func aLineBreakInACredentialIsRefusedNamingTheVariable(_ name: String) {
        var environment = ["MLFLOW_TRACKING_USERNAME": "ann", "MLFLOW_TRACKING_PASSWORD": "pw", "MLFLOW_TRACKING_TOKEN": "t"]
        environment[name] = "secret\r\nX-Injected: 1"
        let error = #expect(throws: CairnError.self) {
            try Configuration.fromEnvironment(trackingURI: "http://h", environment: environment)
        }
        #expect(error?.message.hasPrefix(name) == true)
        #expect(error?.message.contains("secret") == false)
    }

    /// MLflow's `int("")` and `float("")` fail as its empty booleans do: set but empty is refused.
    @Test(arguments: [
        "MLFLOW_HTTP_REQUEST_TIMEOUT", "MLFLOW_HTTP_REQUEST_MAX_RETRIES", "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR",
        "MLFLOW_HTTP_REQUEST_BACKOFF_JITTER",
    ])
    func anEmptyNumberIsRefusedAsAnEmptyBooleanIs(_ name: String) {
        let error = #expect(throws: CairnError.self) { try Configuration.fromEnvironment(trackingURI: "http://h", environment: [name: ""]) }
        #expect(error?.message.hasPrefix(name) == true)
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
        let insecure = try CairnClient(
            Configuration.fromEnvironment(trackingURI: "https://h", environment: ["MLFLOW_TRACKING_INSECURE_TLS": "true"]))
        #expect(!secure.skipsCertificateVerification)
        #expect(insecure.skipsCertificateVerification)
        #expect(CairnClient.httpConfiguration(insecureTLS: true).tlsConfiguration?.certificateVerification == CertificateVerification.none)
        #expect(CairnClient.httpConfiguration(insecureTLS: false).tlsConfiguration?.certificateVerification != CertificateVerification.none)
    }
}
