import Testing

@testable import CairnCore

/// The expected values are what MLflow 3's `_parse_model_uri` and `parse_runs_uri` return for
/// the same text (run through them when this table was written), except where the type's
/// comment says Cairn refuses earlier.
@Suite struct ModelURITests {
    @Test(arguments: [
        ("models:/churn/3", ModelURI.registered(name: "churn", selector: .version(3))),
        ("models:/churn/007", .registered(name: "churn", selector: .version(7))),
        ("models:/churn/0", .registered(name: "churn", selector: .version(0))),
        ("models:/churn/latest", .registered(name: "churn", selector: .latest)),
        ("models:/churn/LATEST", .registered(name: "churn", selector: .latest)),
        ("models:/churn/Production", .registered(name: "churn", selector: .stage("Production"))),
        ("models:/churn/staging", .registered(name: "churn", selector: .stage("staging"))),
        ("models:/churn@champion", .registered(name: "churn", selector: .alias("champion"))),
        ("models:/churn@a@b", .registered(name: "churn@a", selector: .alias("b"))),
        ("models:/a@b/2", .registered(name: "a@b", selector: .version(2))),
        ("models:/m-abc123", .loggedModel(id: "m-abc123")),
        ("models:/churn", .loggedModel(id: "churn")),
        // Names are sent as written: spaces kept, percent signs not decoded.
        ("models:/my model/1", .registered(name: "my model", selector: .version(1))),
        ("models:/my%20model/1", .registered(name: "my%20model", selector: .version(1))),
        ("models:/caf%C3%A9@prod", .registered(name: "caf%C3%A9", selector: .alias("prod"))),
        ("models:/café/2", .registered(name: "café", selector: .version(2))),
        // A query ends the path; `#` does not (allow_fragments=False).
        ("models:/churn/1?x=y", .registered(name: "churn", selector: .version(1))),
        ("models:/churn/1#frag", .registered(name: "churn", selector: .stage("1#frag"))),
        ("models:///churn/1", .registered(name: "churn", selector: .version(1))),
        (" models:/churn/1\n", .registered(name: "churn", selector: .version(1))),
        ("MODELS:/churn/2", .registered(name: "churn", selector: .version(2))),
        ("runs:/r1/model", .run(id: "r1", path: "model")),
        ("runs:/r1/a/b/c", .run(id: "r1", path: "a/b/c")),
        ("runs:/r1/a//b", .run(id: "r1", path: "a//b")),
        ("runs:/r1/my%20model", .run(id: "r1", path: "my%20model")),
        ("runs:/r1/model?x=1", .run(id: "r1", path: "model")),
        ("runs:/r1", .run(id: "r1", path: nil)),
        ("runs:/r1/", .run(id: "r1", path: nil)),
        ("/tmp/model", .localDirectory("/tmp/model")),
        ("model dir", .localDirectory("model dir")),
        ("C:/models/m", .localDirectory("C:/models/m")),
        ("file:///tmp/model", .localDirectory("/tmp/model")),
        ("file://localhost/tmp/model", .localDirectory("/tmp/model")),
    ])
    func parsesAsMLflowDoes(_ text: String, _ expected: ModelURI) throws {
        #expect(try ModelURI(parsing: text) == expected)
    }

    @Test(arguments: [
        "models:/", "models:", "models:churn/1", "models:/a/b/c", "models:/churn/", "models:/churn/1/", "models:/churn/ ",
        "models:/ /1", "models:/churn@", "models:/churn@ ", "runs:/", "runs:", "runs:///", "file://",
        // Refused here, later in MLflow: an empty name, an impossible version, a registry
        // host, a way out of the run's artifacts, a host for a file.
        "models:/@champ", "models:/churn/99999999999999999999999", "models://profile/churn/1", "runs:/r1/../x",
        "runs:/r1/a/../../b", "runs://host/r1/m", "file://elsewhere/tmp/model",
    ])
    func refusesMalformed(_ text: String) {
        let error = #expect(throws: CairnError.self) { try ModelURI(parsing: text) }
        #expect(error?.code == .invalidParameterValue)
    }

    /// `load_model` strips trailing slashes before `_parse_model_uri` (`split_models_uri`).
    @Test(arguments: [
        ("models:/churn/1/", ModelURI.registered(name: "churn", selector: .version(1))),
        ("models:/churn/1//", .registered(name: "churn", selector: .version(1))),
        ("models:/churn/latest/", .registered(name: "churn", selector: .latest)),
        ("models:/churn/Production/", .registered(name: "churn", selector: .stage("Production"))),
        ("models:/churn@champion/", .registered(name: "churn", selector: .alias("champion"))),
        ("models:/m-abc/", .loggedModel(id: "m-abc")),
        ("models:/churn/", .loggedModel(id: "churn")),
        ("models:/churn/1", .registered(name: "churn", selector: .version(1))),
        ("runs:/r1/model/", .run(id: "r1", path: "model/")),
        ("/tmp/model/", .localDirectory("/tmp/model/")),
    ])
    func loadingAcceptsWhatLoadModelAccepts(_ text: String, _ expected: ModelURI) throws {
        #expect(try ModelURI(loading: text) == expected)
    }

    @Test(arguments: ["", " ", "\n", "models:/", "models:/a/b/c"])
    func loadingRefusesAnEmptyOrMalformedURI(_ text: String) {
        let error = #expect(throws: CairnError.self) { try ModelURI(loading: text) }
        #expect(error?.code == .invalidParameterValue)
        #expect(error?.message.contains("empty") == text.allSatisfy(\.isWhitespace))
    }

    @Test(arguments: ["s3://bucket/model", "http://host/model", "mlflow-artifacts:/0/m/artifacts"])
    func refusesOtherSchemesByName(_ text: String) {
        let error = #expect(throws: CairnError.self) { try ModelURI(parsing: text) }
        #expect(error?.message.contains("Unsupported model URI scheme") == true)
    }

    @Test func printsTheCanonicalForm() throws {
        for text in [
            "models:/churn/3", "models:/churn/latest", "models:/churn/Production", "models:/churn@champion", "models:/m-1",
            "runs:/r1/a/b", "runs:/r1", "/tmp/model",
        ] {
            #expect(try ModelURI(parsing: text).description == text)
            #expect(try ModelURI(parsing: ModelURI(parsing: text).description) == ModelURI(parsing: text))
        }
    }

    @Test func onlyAFixedVersionStaysPut() {
        #expect(!ModelURI.Selector.version(1).isMovable)
        #expect(ModelURI.Selector.latest.isMovable)
        #expect(ModelURI.Selector.stage("Production").isMovable)
        #expect(ModelURI.Selector.alias("champion").isMovable)
    }
}
