import Testing

@testable import CairnCore

@Suite struct TrackingValidationTests {
    @Test(arguments: ["loss", "a/b", "val.acc", "my metric", "k:1", "a-b_c", "éxito", "日本"])
    func acceptsValidKeys(_ key: String) {
        #expect(throws: Never.self) { try TrackingValidation.validateKey(key, kind: "key") }
    }

    @Test(arguments: ["", "a\u{0}b", "bad$", "a//b", "a/", "/abs", "..", "../up", "a/../b", ".", "./a", "a/.", "tab\t"])
    func rejectsInvalidKeys(_ key: String) {
        #expect(throws: CairnError.self) { try TrackingValidation.validateKey(key, kind: "key") }
    }

    @Test func rejectsOverlongKey() {
        let error = #expect(throws: CairnError.self) {
            try TrackingValidation.validateKey(String(repeating: "k", count: 251), kind: "key")
        }
        #expect(error?.code == .invalidParameterValue)
        #expect(throws: Never.self) { try TrackingValidation.validateKey(String(repeating: "k", count: 250), kind: "key") }
    }

    @Test(arguments: [
        ("a/b", "a/b"), ("a//b", "a/b"), ("a/./b", "a/b"), ("a/../b", "b"), ("../a", "../a"), ("/../a", "/a"),
        ("", "."), ("a/", "a"), ("//a", "//a"), ("///a", "/a"),
    ])
    func normalizesLikePosixpath(_ input: String, _ expected: String) {
        #expect(TrackingValidation.normalizePosixPath(input) == expected)
    }

    @Test func validatesIdentifiers() {
        #expect(throws: Never.self) { try TrackingValidation.validateRunID("0123abcdef") }
        #expect(throws: CairnError.self) { try TrackingValidation.validateRunID("../etc") }
        #expect(throws: CairnError.self) { try TrackingValidation.validateRunID("_x") }
        #expect(throws: CairnError.self) { try TrackingValidation.validateExperimentID(String(repeating: "1", count: 65)) }
    }

    @Test func experimentNameRules() throws {
        #expect(try TrackingValidation.validateExperimentName("exp") == "exp")
        #expect(throws: CairnError.missingParameter("name")) { try TrackingValidation.validateExperimentName("   ") }
        #expect(throws: CairnError.self) { try TrackingValidation.validateExperimentName(String(repeating: "x", count: 501)) }
    }

    @Test func nulIsRefusedInEveryNameAndValue() {
        let checks: [(String, () throws -> Void)] = [
            ("experiment name", { _ = try TrackingValidation.validateExperimentName("a\u{0}b") }),
            ("run name", { try TrackingValidation.validateRunName("run\u{0}") }),
            ("tag value", { try TrackingValidation.validateKeyValue(KeyValue(key: "k", value: "\u{0}")) }),
            ("tag key", { try TrackingValidation.validateKeyValue(KeyValue(key: "k\u{0}", value: "v")) }),
            ("model name", { _ = try RegistryValidation.validateModelName("m\u{0}") }),
            ("dataset", { try TrackingValidation.validateDataset(Dataset(name: "d\u{0}", digest: "1", sourceType: "s", source: "x")) }),
        ]
        for (label, check) in checks {
            let error = #expect(throws: CairnError.self, "\(label)") { try check() }
            #expect(error?.code == .invalidParameterValue, "\(label)")
        }
        #expect(throws: Never.self) { try TrackingValidation.validateRunName("ordinary run") }
        #expect(throws: Never.self) { try TrackingValidation.validateKeyValue(KeyValue(key: "k", value: "v with \u{1} control")) }
    }

    @Test func truncatesLongValues() {
        #expect(TrackingValidation.truncated(String(repeating: "v", count: 9000), limit: 8000).count == 8000)
        #expect(TrackingValidation.truncated("short", limit: 8000) == "short")
    }

    @Test func generatesRunNames() {
        let name = RunNameGenerator.generate()
        let parts = name.split(separator: "-")
        #expect(parts.count == 3)
        #expect(Int(parts[2]) != nil)
    }
}
