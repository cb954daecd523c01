import CairnCore
import Testing

@testable import CairnS3

/// Credentials, region, endpoint and addressing resolved from the environment and the
/// shared files, in boto3's order.
@Suite struct S3ConfigurationTests {
    static let credentialsFile = """
        # comment
        [default]
        aws_access_key_id = DEFAULTKEY
        aws_secret_access_key = defaultsecret

        [team]
        aws_access_key_id=TEAMKEY
        aws_secret_access_key=teamsecret
        aws_session_token = teamtoken
        """
    static let configFile = """
        [default]
        region = eu-west-1

        [profile team]
        region = ap-south-1
        s3 =
            addressing_style = virtual
        ; another comment
        [profile local]
        endpoint_url = http://127.0.0.1:9000
        aws_access_key_id = LOCALKEY
        aws_secret_access_key = localsecret
        """

    func resolve(_ environment: [String: String], uri: String = "s3://my-bucket/some/prefix") throws -> S3Configuration {
        let files = ["/home/me/.aws/credentials": Self.credentialsFile, "/home/me/.aws/config": Self.configFile]
        return try S3Configuration.resolve(uri: uri, environment: ["HOME": "/home/me"].merging(environment) { $1 }, readFile: { files[$0] })
    }

    @Test func parsesINIWithSubsections() {
        let config = AWSSharedConfig(parsing: Self.configFile)
        #expect(config.configProfile("default")?["region"] == "eu-west-1")
        #expect(config.configProfile("team")?["s3.addressing_style"] == "virtual")
        #expect(config.configProfile("team")?["region"] == "ap-south-1")
        #expect(config.configProfile("local")?["endpoint_url"] == "http://127.0.0.1:9000")
        #expect(config.configProfile("missing") == nil)
        let credentials = AWSSharedConfig(parsing: Self.credentialsFile)
        #expect(credentials.credentialsProfile("team")?["aws_session_token"] == "teamtoken")
    }

    @Test func environmentCredentialsComeFirst() throws {
        let configuration = try resolve([
            "AWS_ACCESS_KEY_ID": "ENVKEY", "AWS_SECRET_ACCESS_KEY": "envsecret", "AWS_SESSION_TOKEN": "envtoken",
            "AWS_REGION": "us-west-2",
        ])
        #expect(configuration.credentials == AWSCredentials(accessKeyID: "ENVKEY", secretAccessKey: "envsecret", sessionToken: "envtoken"))
        #expect(configuration.region == "us-west-2")
        #expect(configuration.bucket == "my-bucket")
        #expect(configuration.prefix == "some/prefix")
        // No endpoint URL: AWS's regional endpoint, virtual-hosted.
        #expect(configuration.endpoint == .init(secure: true, host: "s3.us-west-2.amazonaws.com"))
        #expect(configuration.addressing == .virtualHosted)
        #expect(configuration.location(of: "some/prefix/a b.txt").authority == "my-bucket.s3.us-west-2.amazonaws.com")
        #expect(configuration.location(of: "some/prefix/a b.txt").path == "/some/prefix/a%20b.txt")
    }

    @Test func defaultProfileFromTheFiles() throws {
        let configuration = try resolve([:])
        #expect(configuration.credentials == AWSCredentials(accessKeyID: "DEFAULTKEY", secretAccessKey: "defaultsecret"))
        #expect(configuration.region == "eu-west-1")
    }

    @Test func namedProfile() throws {
        let configuration = try resolve(["AWS_PROFILE": "team", "AWS_DEFAULT_REGION": "ca-central-1"])
        #expect(configuration.credentials.sessionToken == "teamtoken")
        #expect(configuration.credentials.accessKeyID == "TEAMKEY")
        // AWS_DEFAULT_REGION wins over the profile's region.
        #expect(configuration.region == "ca-central-1")
        #expect(configuration.addressing == .virtualHosted)
    }

    @Test func credentialsAndEndpointFromTheConfigFile() throws {
        let configuration = try resolve(["AWS_PROFILE": "local"])
        #expect(configuration.credentials.accessKeyID == "LOCALKEY")
        #expect(configuration.endpoint == .init(secure: false, host: "127.0.0.1", port: 9000))
        #expect(configuration.addressing == .path)
        #expect(configuration.location(of: "some/prefix/k").authority == "127.0.0.1:9000")
        #expect(configuration.location(of: "some/prefix/k").path == "/my-bucket/some/prefix/k")
        #expect(configuration.location(of: nil).path == "/my-bucket")
    }

    @Test func mlflowEndpointVariableWinsAndMeansPathStyle() throws {
        let configuration = try resolve([
            "MLFLOW_S3_ENDPOINT_URL": "https://minio.internal:9443/", "AWS_ENDPOINT_URL": "http://other:1",
        ])
        #expect(configuration.endpoint == .init(secure: true, host: "minio.internal", port: 9443))
        #expect(configuration.endpoint.authority == "minio.internal:9443")
        #expect(configuration.addressing == .path)
        let aws = try resolve(["AWS_ENDPOINT_URL": "http://localhost:80"])
        #expect(aws.endpoint.authority == "localhost")
    }

    @Test func sharedFileLocationsFromTheEnvironment() throws {
        let files = ["/etc/creds": "[default]\naws_access_key_id = FILEKEY\naws_secret_access_key = s\n"]
        let configuration = try S3Configuration.resolve(
            uri: "s3://bucket", environment: ["AWS_SHARED_CREDENTIALS_FILE": "/etc/creds", "AWS_CONFIG_FILE": "/etc/none"],
            readFile: { files[$0] })
        #expect(configuration.credentials.accessKeyID == "FILEKEY")
        #expect(configuration.prefix == "")
        #expect(configuration.region == "us-east-1")
    }

    @Test func refusals() throws {
        #expect(throws: CairnError.self) { try resolve(["AWS_PROFILE": "nobody"], uri: "s3://my-bucket") }
        #expect(throws: CairnError.self) {
            try S3Configuration.resolve(uri: "s3://bucket", environment: [:], readFile: { _ in nil })
        }
        for uri in [
            "s3://", "s3://UPPER", "s3://ab", "s3://bucket_name/x", "file:///tmp", "s3://bucket/../x", "s3://bucket/a/.cairn-tmp-x",
        ] {
            #expect(throws: CairnError.self, "\(uri)") { try S3Configuration.parse(uri: uri) }
        }
        #expect(throws: CairnError.self) {
            try resolve(["AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s", "MLFLOW_S3_ENDPOINT_URL": "ftp://x"])
        }
        let parsed = try S3Configuration.parse(uri: "s3://bucket//a//b/")
        #expect(parsed.bucket == "bucket" && parsed.prefix == "a/b")
    }

    @Test func credentialsNeverPrintTheSecret() {
        let credentials = AWSCredentials(accessKeyID: "AKID", secretAccessKey: "hush", sessionToken: "zq9token")
        #expect(!"\(credentials)".contains("hush"))
        #expect(!"\(credentials)".contains("zq9"))
    }
}
