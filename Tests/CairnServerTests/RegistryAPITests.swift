import CairnCore
import Hummingbird
import HummingbirdTesting
import Testing

@testable import CairnServer

@Suite struct RegistryAPITests {
    @Test func registeredModelLifecycleOverHTTP() async throws {
        try await APIFixture.withApp { client in
            let api = "/api/2.0/mlflow"
            let created = try await client.post(
                "\(api)/registered-models/create", #"{"name":"rm1","tags":[{"key":"k","value":"v"}],"description":"d"}"#)
            #expect(created.status == .ok)
            let model = try json(created)["registered_model"]
            #expect(model?["name"] == .string("rm1"))
            #expect(model?["description"] == .string("d"))
            guard case .number? = model?["creation_timestamp"] else {
                Issue.record("timestamp is not a number")
                return
            }
            try expectError(try await client.post("\(api)/registered-models/create", #"{"name":"rm1"}"#), .resourceAlreadyExists)
            try expectError(try await client.post("\(api)/registered-models/create", #"{"name":"a/b"}"#), .invalidParameterValue)
            try expectError(try await client.post("\(api)/registered-models/create", "{}"), .invalidParameterValue)

            let fetched = try json(try await client.get("\(api)/registered-models/get?name=rm1"))
            #expect(fetched["registered_model"]?["tags"] == .array([.object(["key": .string("k"), "value": .string("v")])]))
            try expectError(try await client.get("\(api)/registered-models/get?name=missing"), .resourceDoesNotExist)

            let updated = try json(try await client.patch("\(api)/registered-models/update", #"{"name":"rm1","description":"d2"}"#))
            #expect(updated["registered_model"]?["description"] == .string("d2"))
            #expect(try await client.post("\(api)/registered-models/set-tag", #"{"name":"rm1","key":"k2","value":"v2"}"#).status == .ok)
            #expect(try await client.delete("\(api)/registered-models/delete-tag", #"{"name":"rm1","key":"k"}"#).status == .ok)
            try expectError(
                try await client.post("\(api)/registered-models/set-tag", #"{"name":"rm1","key":"k3"}"#), .invalidParameterValue)

            let renamed = try json(try await client.post("\(api)/registered-models/rename", #"{"name":"rm1","new_name":"rm2"}"#))
            #expect(renamed["registered_model"]?["name"] == .string("rm2"))
            #expect(renamed["registered_model"]?["tags"] == .array([.object(["key": .string("k2"), "value": .string("v2")])]))

            let search = try await client.get(
                "\(api)/registered-models/search?filter=name+LIKE+%27rm%25%27+AND+tag.%60mlflow.prompt.is_prompt%60+%21%3D+%27true%27&max_results=10"
            )
            guard case .array(let models)? = try json(search)["registered_models"] else {
                Issue.record("no models")
                return
            }
            #expect(models.map { $0["name"] } == [.string("rm2")])
            #expect(String(buffer: try await client.get("\(api)/registered-models/search?filter=name+%3D+%27zz%27").body) == "{}")
            try expectError(try await client.get("\(api)/registered-models/search?max_results=1001"), .invalidParameterValue)
            try expectError(try await client.get("\(api)/registered-models/search?filter=name+%3D+1+OR+name+%3D+2"), .invalidParameterValue)

            #expect(try await client.delete("\(api)/registered-models/delete", #"{"name":"rm2"}"#).status == .ok)
            try expectError(try await client.delete("\(api)/registered-models/delete", #"{"name":"rm2"}"#), .resourceDoesNotExist)
            // The web UI's mirror serves the registry too.
            #expect(try await client.post("/ajax-api/2.0/mlflow/registered-models/create", #"{"name":"rm2"}"#).status == .ok)
        }
    }

    @Test func versionsAliasesAndStagesOverHTTP() async throws {
        try await APIFixture.withApp { client in
            let api = "/api/2.0/mlflow"
            _ = try await client.post("\(api)/registered-models/create", #"{"name":"m"}"#)
            for index in 1...3 {
                let created = try json(
                    try await client.post(
                        "\(api)/model-versions/create",
                        #"{"name":"m","source":"s3://bucket/\#(index)","tags":[{"key":"i","value":"\#(index)"}]}"#))
                #expect(created["model_version"]?["version"] == .string("\(index)"))
                #expect(created["model_version"]?["status"] == .string("READY"))
                #expect(created["model_version"]?["current_stage"] == .string("None"))
            }
            try expectError(
                try await client.post("\(api)/model-versions/create", #"{"name":"m","source":"/etc/passwd"}"#), .invalidParameterValue)
            try expectError(
                try await client.post("\(api)/model-versions/create", #"{"name":"nope","source":"s3://b/x"}"#), .resourceDoesNotExist)

            #expect(
                try await client.post("\(api)/registered-models/alias", #"{"name":"m","alias":"champion","version":"2"}"#).status == .ok)
            let byAlias = try json(try await client.get("\(api)/registered-models/alias?name=m&alias=champion"))
            #expect(byAlias["model_version"]?["version"] == .string("2"))
            #expect(byAlias["model_version"]?["aliases"] == .array([.string("champion")]))
            try expectError(try await client.get("\(api)/registered-models/alias?name=m&alias=nope"), .invalidParameterValue)
            try expectError(try await client.get("\(api)/registered-models/alias?name=zz&alias=nope"), .resourceDoesNotExist)
            try expectError(
                try await client.post("\(api)/registered-models/alias", #"{"name":"m","alias":"latest","version":"2"}"#),
                .invalidParameterValue)
            let model = try json(try await client.get("\(api)/registered-models/get?name=m"))
            #expect(model["registered_model"]?["aliases"] == .array([.object(["alias": .string("champion"), "version": .string("2")])]))
            #expect(try await client.delete("\(api)/registered-models/alias", #"{"name":"m","alias":"champion"}"#).status == .ok)

            let transitioned = try json(
                try await client.post(
                    "\(api)/model-versions/transition-stage",
                    #"{"name":"m","version":"3","stage":"production","archive_existing_versions":true}"#))
            #expect(transitioned["model_version"]?["current_stage"] == .string("Production"))
            try expectError(
                try await client.post(
                    "\(api)/model-versions/transition-stage",
                    #"{"name":"m","version":"3","stage":"bogus","archive_existing_versions":false}"#), .invalidParameterValue)
            let latest = try json(
                try await client.post("\(api)/registered-models/get-latest-versions", #"{"name":"m","stages":["Production"]}"#))
            #expect(latest["model_versions"]?[0]?["version"] == .string("3"))
            let fallback = try json(
                try await client.get("\(api)/registered-models/get-latest-versions?name=m&stages=None&stages=Production"))
            guard case .array(let both)? = fallback["model_versions"] else {
                Issue.record("no versions")
                return
            }
            #expect(both.count == 2)

            let updated = try json(
                try await client.patch("\(api)/model-versions/update", #"{"name":"m","version":"1","description":"hi"}"#))
            #expect(updated["model_version"]?["description"] == .string("hi"))
            #expect(
                try await client.post("\(api)/model-versions/set-tag", #"{"name":"m","version":"1","key":"a","value":"b"}"#).status == .ok)
            #expect(try await client.delete("\(api)/model-versions/delete-tag", #"{"name":"m","version":"1","key":"a"}"#).status == .ok)
            let uri = try json(try await client.get("\(api)/model-versions/get-download-uri?name=m&version=2"))
            #expect(uri["artifact_uri"] == .string("s3://bucket/2"))
            try expectError(try await client.get("\(api)/model-versions/get?name=m&version=x"), .invalidParameterValue)

            let search = try json(
                try await client.get("\(api)/model-versions/search?filter=name%3D%27m%27&order_by=version_number+ASC&max_results=2"))
            guard case .array(let page)? = search["model_versions"], case .string(let token)? = search["next_page_token"] else {
                Issue.record("no page")
                return
            }
            #expect(page.map { $0["version"] } == [.string("1"), .string("2")])
            let rest = try json(
                try await client.get(
                    "\(api)/model-versions/search?filter=name%3D%27m%27&order_by=version_number+ASC&max_results=2&page_token=\(token)"))
            #expect(rest["model_versions"]?[0]?["version"] == .string("3"))

            #expect(try await client.delete("\(api)/model-versions/delete", #"{"name":"m","version":"1"}"#).status == .ok)
            try expectError(try await client.get("\(api)/model-versions/get?name=m&version=1"), .resourceDoesNotExist)
        }
    }

    @Test func loggedModelsOverHTTP() async throws {
        try await APIFixture.withApp { client in
            let api = "/api/2.0/mlflow"
            let created = try json(
                try await client.post(
                    "\(api)/logged-models",
                    #"{"experiment_id":"0","name":"clf","params":[{"key":"alpha","value":"0.5"}],"tags":[{"key":"mlflow.user","value":"me"}]}"#
                ))
            guard case .string(let id)? = created["model"]?["info"]?["model_id"] else {
                Issue.record("no model id")
                return
            }
            #expect(created["model"]?["info"]?["status"] == .string("LOGGED_MODEL_PENDING"))
            #expect(created["model"]?["info"]?["artifact_uri"] == .string("mlflow-artifacts:/0/models/\(id)/artifacts"))
            #expect(created["model"]?["info"]?["experiment_id"] == .string("0"))
            try expectError(try await client.post("\(api)/logged-models", #"{"experiment_id":"404"}"#), .resourceDoesNotExist)
            try expectError(try await client.post("\(api)/logged-models", #"{"name":"x"}"#), .invalidParameterValue)

            let fetched = try json(try await client.get("\(api)/logged-models/\(id)"))
            #expect(fetched["model"]?["data"]?["params"] == .array([.object(["key": .string("alpha"), "value": .string("0.5")])]))
            try expectError(try await client.get("\(api)/logged-models/m-0000"), .resourceDoesNotExist)

            let finalized = try json(
                try await client.patch("\(api)/logged-models/\(id)", #"{"model_id":"\#(id)","status":"LOGGED_MODEL_READY"}"#))
            #expect(finalized["model"]?["info"]?["status"] == .string("LOGGED_MODEL_READY"))
            try expectError(
                try await client.patch("\(api)/logged-models/\(id)", #"{"model_id":"\#(id)","status":"BOGUS"}"#), .invalidParameterValue)

            #expect(try await client.patch("\(api)/logged-models/\(id)/tags", #"{"tags":[{"key":"a","value":"1"}]}"#).status == .ok)
            #expect(try await client.delete("\(api)/logged-models/\(id)/tags/a").status == .ok)
            try expectError(try await client.delete("\(api)/logged-models/\(id)/tags/a"), .resourceDoesNotExist)
            #expect(
                try await client.post("\(api)/logged-models/\(id)/params", #"{"model_id":"\#(id)","params":[{"key":"beta","value":"2"}]}"#)
                    .status == .ok)

            let run = try json(try await client.post("\(api)/runs/create", #"{"experiment_id":"0"}"#))
            guard case .string(let runID)? = run["run"]?["info"]?["run_id"] else {
                Issue.record("no run")
                return
            }
            #expect(
                try await client.post(
                    "\(api)/runs/log-batch",
                    #"{"run_id":"\#(runID)","metrics":[{"key":"loss","value":1.25,"timestamp":5,"step":0,"model_id":"\#(id)"}]}"#
                ).status == .ok)
            let withMetrics = try json(try await client.get("\(api)/logged-models/\(id)"))
            #expect(withMetrics["model"]?["data"]?["metrics"]?[0]?["run_id"] == .string(runID))

            let search = try json(
                try await client.post(
                    "\(api)/logged-models/search",
                    #"{"experiment_ids":["0"],"filter":"name = 'clf'","order_by":[{"field_name":"metrics.loss","ascending":false}]}"#))
            #expect(search["models"]?[0]?["info"]?["model_id"] == .string(id))
            let none = try await client.post("\(api)/logged-models/search", #"{"experiment_ids":["0"],"filter":"name = 'lr'"}"#)
            #expect(String(buffer: none.body) == "{}")
            try expectError(
                try await client.post("\(api)/logged-models/search", #"{"experiment_ids":["0"],"order_by":[{"field_name":"params.x"}]}"#),
                .invalidParameterValue)

            #expect(try await client.delete("\(api)/logged-models/\(id)", #"{"model_id":"\#(id)"}"#).status == .ok)
            try expectError(try await client.get("\(api)/logged-models/\(id)"), .resourceDoesNotExist)
            #expect(try await client.get("\(api)/logged-models/\(id)?allow_deleted=true").status == .ok)
            try expectError(try await client.get("\(api)/logged-models/m%00x"), .invalidParameterValue)
        }
    }

    @Test func registerFromLoggedModelLikeTheClient() async throws {
        try await APIFixture.withApp { client in
            let api = "/api/2.0/mlflow"
            let run = try json(try await client.post("\(api)/runs/create", #"{"experiment_id":"0"}"#))
            guard case .string(let runID)? = run["run"]?["info"]?["run_id"] else {
                Issue.record("no run")
                return
            }
            let created = try json(
                try await client.post("\(api)/logged-models", #"{"experiment_id":"0","name":"model","source_run_id":"\#(runID)"}"#))
            guard case .string(let id)? = created["model"]?["info"]?["model_id"] else {
                Issue.record("no model id")
                return
            }
            _ = try await client.post("\(api)/registered-models/create", #"{"name":"X"}"#)
            let version = try json(
                try await client.post("\(api)/model-versions/create", #"{"name":"X","source":"models:/\#(id)","model_id":"\#(id)"}"#))
            #expect(version["model_version"]?["run_id"] == .string(runID))
            let uri = try json(try await client.get("\(api)/model-versions/get-download-uri?name=X&version=1"))
            #expect(uri["artifact_uri"] == .string("mlflow-artifacts:/0/models/\(id)/artifacts"))
            let model = try json(try await client.get("\(api)/logged-models/\(id)"))
            #expect(model["model"]?["info"]?["tags"]?[0]?["value"] == .string(#"[{"name": "X", "version": 1}]"#))
        }
    }
}

extension JSONValue {
    subscript(index: Int) -> JSONValue? {
        if case .array(let items) = self, items.indices.contains(index) { return items[index] }
        return nil
    }
}
