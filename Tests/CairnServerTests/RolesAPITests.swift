import CairnCore
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

@testable import CairnServer

func jsonFirst(_ value: JSONValue?) -> JSONValue? {
    if case .array(let items)? = value { return items.first }
    return nil
}

func jsonInt(_ value: JSONValue?) -> Int64? {
    if case .number(_, let raw)? = value { return Int64(raw) }
    return nil
}

/// MLflow 3.17's role API against `cairn server --auth`, and roles taking part in decisions.
@Suite struct RolesAPITests {
    @Test func rolesAreManagedByAdminsWithMLflowsAnswers() async throws {
        try await AuthAPIFixture.withApp { client, _ in
            let admin = As(client, "admin", AuthAPIFixture.adminPassword)
            _ = try await admin.post("/api/2.0/mlflow/users/create", #"{"username":"u","password":"\#(AuthAPIFixture.password)"}"#)
            let user = As(client, "u")

            let created = try json(
                try await admin.post("/api/3.0/mlflow/roles/create", #"{"workspace":"default","name":"readers","description":"r"}"#))
            let roleID = try #require(jsonInt(created["role"]?["id"]))
            #expect(jsonText(created["role"]?["name"]) == "readers" && jsonText(created["role"]?["workspace"]) == "default")
            #expect(created["role"]?["permissions"] == .array([]))
            try expectError(
                try await admin.post("/api/3.0/mlflow/roles/create", #"{"workspace":"default","name":"readers"}"#), .resourceAlreadyExists)
            try expectError(try await admin.post("/api/3.0/mlflow/roles/create", #"{"workspace":"default"}"#), .invalidParameterValue)
            try expectError(
                try await admin.post("/api/3.0/mlflow/roles/create", #"{"workspace":"default","name":"__user_1__"}"#),
                .invalidParameterValue)
            // A non-admin may not manage roles, nor learn whether one exists.
            try expectError(
                try await user.post("/api/3.0/mlflow/roles/create", #"{"workspace":"default","name":"mine"}"#), .permissionDenied)
            try expectError(try await user.get("/api/3.0/mlflow/roles/get?role_id=\(roleID)"), .permissionDenied)
            try expectError(try await user.get("/api/3.0/mlflow/roles/get?role_id=9999"), .permissionDenied)
            try expectError(try await admin.get("/api/3.0/mlflow/roles/get?role_id=9999"), .resourceDoesNotExist)
            try expectError(try await admin.get("/api/3.0/mlflow/roles/get?role_id=abc"), .invalidParameterValue)
            try expectError(try await user.get("/api/3.0/mlflow/roles/list"), .permissionDenied)

            let added = try json(
                try await admin.post(
                    "/api/3.0/mlflow/roles/permissions/add",
                    #"{"role_id":\#(roleID),"resource_type":"experiment","resource_pattern":"*","permission":"EDIT"}"#))
            let permissionID = try #require(jsonInt(added["role_permission"]?["id"]))
            #expect(jsonInt(added["role_permission"]?["role_id"]) == roleID)
            try expectError(
                try await admin.post(
                    "/api/3.0/mlflow/roles/permissions/add",
                    #"{"role_id":\#(roleID),"resource_type":"experiment","resource_pattern":"*","permission":"READ"}"#),
                .resourceAlreadyExists)
            try expectError(
                try await admin.post(
                    "/api/3.0/mlflow/roles/permissions/add",
                    #"{"role_id":\#(roleID),"resource_type":"workspace","resource_pattern":"*","permission":"READ"}"#),
                .invalidParameterValue)
            try expectError(
                try await admin.post(
                    "/api/3.0/mlflow/roles/permissions/add",
                    #"{"role_id":9999,"resource_type":"experiment","resource_pattern":"*","permission":"READ"}"#),
                .resourceDoesNotExist)

            // The user, default READ, cannot log until the role is theirs; then can, until unassigned.
            let experimentID = try #require(
                jsonText(try json(try await admin.post("/api/2.0/mlflow/experiments/create", #"{"name":"e"}"#))["experiment_id"]))
            let run = #"{"experiment_id":"\#(experimentID)"}"#
            try expectError(try await user.post("/api/2.0/mlflow/runs/create", run), .permissionDenied)
            let assigned = try json(try await admin.post("/api/3.0/mlflow/roles/assign", #"{"username":"u","role_id":\#(roleID)}"#))
            #expect(jsonInt(assigned["assignment"]?["role_id"]) == roleID)
            try expectError(
                try await admin.post("/api/3.0/mlflow/roles/assign", #"{"username":"u","role_id":\#(roleID)}"#), .resourceAlreadyExists)
            try expectError(
                try await admin.post("/api/3.0/mlflow/roles/assign", #"{"username":"nobody","role_id":\#(roleID)}"#), .resourceDoesNotExist)
            #expect(try await user.post("/api/2.0/mlflow/runs/create", run).status == .ok)
            // A user's own DENY beats the role's EDIT.
            let deny = #"{"username":"u","resource_type":"experiment","resource_id":"\#(experimentID)","permission":"DENY"}"#
            #expect(try await admin.post("/api/3.0/mlflow/users/permissions/grant", deny).status == .ok)
            try expectError(try await user.post("/api/2.0/mlflow/runs/create", run), .permissionDenied)
            #expect(
                try await admin.post(
                    "/api/3.0/mlflow/users/permissions/revoke",
                    #"{"username":"u","resource_type":"experiment","resource_id":"\#(experimentID)"}"#
                ).status == .ok)

            // Members see their roles; the role's grants and users are listed for the admin.
            #expect(try listed(try await user.get("/api/3.0/mlflow/users/roles/list?username=u"), "roles", "name") == ["readers"])
            try expectError(try await user.get("/api/3.0/mlflow/users/roles/list?username=admin"), .permissionDenied)
            #expect(try await user.get("/api/3.0/mlflow/roles/get?role_id=\(roleID)").status == .ok)
            #expect(try listed(try await user.get("/api/3.0/mlflow/roles/list?workspace=default"), "roles", "name") == ["readers"])
            let permissions = try json(try await admin.get("/api/3.0/mlflow/roles/permissions/list?role_id=\(roleID)"))
            #expect(jsonFirst(permissions["role_permissions"])?["permission"] == .string("EDIT"))
            try expectError(try await user.get("/api/3.0/mlflow/roles/users/list?role_id=\(roleID)"), .permissionDenied)
            let users = try json(try await admin.get("/api/3.0/mlflow/roles/users/list?role_id=\(roleID)"))
            guard case .array(let assignments)? = users["assignments"] else { throw CairnError.invalidParameter("no assignments") }
            #expect(assignments.count == 1)
            let listedUsers = try json(try await admin.get("/api/2.0/mlflow/users/list"))
            guard case .array(let everyone)? = listedUsers["users"] else { throw CairnError.invalidParameter("no users") }
            #expect(everyone.contains { jsonText($0["username"]) == "u" && jsonFirst($0["roles"])?["name"] == .string("readers") })

            // Updating the grant to READ takes effect at once; so does removing it.
            let updated = try json(
                try await admin.send(
                    .patch, "/api/3.0/mlflow/roles/permissions/update", #"{"role_permission_id":\#(permissionID),"permission":"READ"}"#))
            #expect(jsonText(updated["role_permission"]?["permission"]) == "READ")
            try expectError(try await user.post("/api/2.0/mlflow/runs/create", run), .permissionDenied)
            #expect(
                try await admin.send(.delete, "/api/3.0/mlflow/roles/permissions/remove", #"{"role_permission_id":\#(permissionID)}"#)
                    .status == .ok)
            try expectError(
                try await admin.send(.delete, "/api/3.0/mlflow/roles/permissions/remove", #"{"role_permission_id":\#(permissionID)}"#),
                .resourceDoesNotExist)

            let renamed = try json(
                try await admin.send(.patch, "/api/3.0/mlflow/roles/update", #"{"role_id":\#(roleID),"name":"viewers"}"#))
            #expect(jsonText(renamed["role"]?["name"]) == "viewers")
            try expectError(
                try await admin.send(.patch, "/api/3.0/mlflow/roles/update", #"{"role_id":\#(roleID)}"#), .invalidParameterValue)
            #expect(
                try await admin.send(.delete, "/api/3.0/mlflow/roles/unassign", #"{"username":"u","role_id":\#(roleID)}"#).status == .ok)
            try expectError(
                try await admin.send(.delete, "/api/3.0/mlflow/roles/unassign", #"{"username":"u","role_id":\#(roleID)}"#),
                .resourceDoesNotExist)
            #expect(try await admin.send(.delete, "/api/3.0/mlflow/roles/delete", #"{"role_id":\#(roleID)}"#).status == .ok)
            try expectError(
                try await admin.send(.delete, "/api/3.0/mlflow/roles/delete", #"{"role_id":\#(roleID)}"#), .resourceDoesNotExist)
            #expect(try listed(try await admin.get("/api/3.0/mlflow/roles/list"), "roles", "name").isEmpty)
        }
    }

    /// A role that manages the workspace makes its holder a manager of every resource and of
    /// the workspace's roles, but not of users.
    @Test func workspaceManagersManageRolesAndResources() async throws {
        try await AuthAPIFixture.withApp(defaultPermission: .noPermissions) { client, _ in
            let admin = As(client, "admin", AuthAPIFixture.adminPassword)
            _ = try await admin.post("/api/2.0/mlflow/users/create", #"{"username":"lead","password":"\#(AuthAPIFixture.password)"}"#)
            let lead = As(client, "lead")
            let experimentID = try #require(
                jsonText(try json(try await admin.post("/api/2.0/mlflow/experiments/create", #"{"name":"e"}"#))["experiment_id"]))
            try expectError(try await lead.get("/api/2.0/mlflow/experiments/get?experiment_id=\(experimentID)"), .permissionDenied)
            let roleID = try #require(
                jsonInt(
                    try json(try await admin.post("/api/3.0/mlflow/roles/create", #"{"workspace":"default","name":"admins"}"#))["role"]?[
                        "id"]))
            _ = try await admin.post(
                "/api/3.0/mlflow/roles/permissions/add",
                #"{"role_id":\#(roleID),"resource_type":"workspace","resource_pattern":"*","permission":"MANAGE"}"#)
            _ = try await admin.post("/api/3.0/mlflow/roles/assign", #"{"username":"lead","role_id":\#(roleID)}"#)
            #expect(try await lead.get("/api/2.0/mlflow/experiments/get?experiment_id=\(experimentID)").status == .ok)
            #expect(try await lead.post("/api/2.0/mlflow/experiments/delete", #"{"experiment_id":"\#(experimentID)"}"#).status == .ok)
            #expect(try await lead.post("/api/3.0/mlflow/roles/create", #"{"workspace":"default","name":"team"}"#).status == .ok)
            try expectError(
                try await lead.post("/api/3.0/mlflow/roles/create", #"{"workspace":"other","name":"team"}"#), .permissionDenied)
            try expectError(
                try await lead.post("/api/2.0/mlflow/users/create", #"{"username":"x","password":"\#(AuthAPIFixture.password)"}"#),
                .permissionDenied)
        }
    }

    /// MLflow's artifact download rule for S3's presigned URLs: READ on the run's experiment,
    /// and a path whose run is another experiment's is refused.
    @Test func presignedDownloadsNeedReadOnTheExperiment() async throws {
        try await AuthAPIFixture.withApp { client, _ in
            let admin = As(client, "admin", AuthAPIFixture.adminPassword)
            _ = try await admin.post("/api/2.0/mlflow/users/create", #"{"username":"u","password":"\#(AuthAPIFixture.password)"}"#)
            let user = As(client, "u")
            let experimentID = try #require(
                jsonText(try json(try await admin.post("/api/2.0/mlflow/experiments/create", #"{"name":"e"}"#))["experiment_id"]))
            let run = try json(try await admin.post("/api/2.0/mlflow/runs/create", #"{"experiment_id":"\#(experimentID)"}"#))
            let runID = try #require(jsonText(run["run"]?["info"]?["run_id"]))
            let path = "/api/2.0/mlflow-artifacts/presigned/\(experimentID)/\(runID)/artifacts/model.bin"
            // This server has no artifact store, so an authorized request finds no route.
            #expect(try await user.get(path).status == .notFound)
            let deny = #"{"username":"u","resource_type":"experiment","resource_id":"\#(experimentID)","permission":"DENY"}"#
            #expect(try await admin.post("/api/3.0/mlflow/users/permissions/grant", deny).status == .ok)
            try expectError(try await user.get(path), .permissionDenied)
            try expectError(try await user.get("/api/2.0/mlflow-artifacts/presigned/0/\(runID)/artifacts/model.bin"), .permissionDenied)
        }
    }
}
