import CairnCore
import CairnStore
import Testing

@testable import CairnServer

/// Cairn's own API bodies: Codable DTOs written by one encoder, in the shape clients read.
struct CairnAPIBodyTests {
    static func json(_ value: some Encodable & Sendable) throws -> JSONValue {
        try JSONValue.parse(try CairnAPIBody(value).bytes())
    }

    @Test func aMonitorWritesEveryKeyAndItsSpecAsStored() throws {
        let spec =
            #"{"drift":{"methods":{"petalLength":"psi"},"thresholds":{"sepal_width":0.25}},"model_name":"iris","name":"watch","window":{"seconds":600}}"#
        let monitor = StoredMonitor(
            id: "m1", name: "watch", modelName: "iris", alias: nil, spec: spec, creationTime: 5, lastUpdateTime: 6, lastRunTime: nil)
        let body = try Self.json(MonitorAPI.OneMonitor(monitor: try MonitorAPI.Monitor(monitor)))
        let written = try #require(body["monitor"])
        #expect(written["monitor_id"] == .string("m1"))
        #expect(written["model_name"] == .string("iris"))
        #expect(written["alias"] == .null)
        #expect(written["last_run_time"] == .null)
        #expect(written["last_update_time"] == .number(6, raw: "6"))
        // Feature names inside the spec are data, not keys to convert.
        #expect(written["spec"] == (try JSONValue.parse(Array(spec.utf8))))
        #expect(written["spec"]?["drift"]?["methods"]?["petalLength"] == .string("psi"))
    }

    @Test func anAlertSpellsNonFiniteValuesAndNulls() throws {
        let alert = StoredAlert(
            id: "a1", monitorID: "m1", check: "drift_share", state: .firing, value: .nan, threshold: 0.5, message: "m",
            modelName: "iris", modelVersion: nil, firedAt: 9, resolvedAt: nil)
        let written = try #require(try Self.json(MonitorAPI.Alerts(alerts: [MonitorAPI.Alert(alert)]))["alerts"])
        guard case .array(let alerts) = written, let first = alerts.first else {
            Issue.record("no alerts")
            return
        }
        #expect(first["alert_id"] == .string("a1") && first["monitor_id"] == .string("m1"))
        #expect(first["value"] == .string("NaN"))
        #expect(first["model_version"] == .null && first["resolved_at"] == .null)
        #expect(first["fired_at"] == .number(9, raw: "9"))
    }

    @Test func feedbackResultsCountEachStatusAndOmitAMissingReason() throws {
        let body = try Self.json(
            MonitorAPI.FeedbackResults([
                .init(requestID: "r1", status: "accepted", reason: nil), .init(requestID: "r2", status: "pending", reason: "later"),
            ]))
        #expect(
            body["accepted"] == .number(1, raw: "1") && body["pending"] == .number(1, raw: "1") && body["refused"] == .number(0, raw: "0"))
        guard case .array(let results)? = body["results"] else {
            Issue.record("no results")
            return
        }
        #expect(results[0]["request_id"] == .string("r1"))
        #expect(results[0]["reason"] == nil)
        #expect(results[1]["reason"] == .string("later"))
    }
}
