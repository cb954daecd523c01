import CairnCore
import Foundation
import Logging
import SQLKit
import Testing

@testable import CairnStore

/// What every `AuthStore` must do, checked on SQLite here and on PostgreSQL in
/// `PostgresStoreTests`.
enum AuthStoreContract {
    static func check(_ store: any AuthStore, database: any MetadataDatabase, tracking: SQLTrackingStore) async throws {
        let alice = try await store.createUser(username: "alice", passwordHash: "h1", isAdmin: false, at: 1)
        let bob = try await store.createUser(username: "bob", passwordHash: "h2", isAdmin: true, at: 2)
        #expect(alice.id != bob.id)
        await expectCairnError(.resourceAlreadyExists) {
            _ = try await store.createUser(username: "alice", passwordHash: "x", isAdmin: false, at: 3)
        }
        #expect(try await store.storedUser(username: "alice")?.passwordHash == "h1")
        #expect(try await store.storedUser(username: "nobody") == nil)
        #expect(try await store.listUsers().map(\.username) == ["alice", "bob"])
        #expect(try await store.userCount() == 2)

        try await store.updatePassword(username: "alice", passwordHash: "h3")
        try await store.updateAdmin(username: "alice", isAdmin: true)
        #expect(
            try await store.storedUser(username: "alice")
                == StoredUser(user: User(id: alice.id, username: "alice", isAdmin: true), passwordHash: "h3"))
        await expectCairnError(.resourceDoesNotExist) { try await store.updatePassword(username: "nobody", passwordHash: "x") }

        // One grant per user and resource: a second is RESOURCE_ALREADY_EXISTS, as in MLflow.
        let grant = PermissionGrant(resourceType: .experiment, resourceID: "1", permission: .read)
        try await store.grant(userID: alice.id, grant)
        await expectCairnError(.resourceAlreadyExists) { try await store.grant(userID: alice.id, grant) }
        try await store.updateGrant(userID: alice.id, PermissionGrant(resourceType: .experiment, resourceID: "1", permission: .edit))
        try await store.upsertGrant(userID: alice.id, PermissionGrant(resourceType: .registeredModel, resourceID: "m", permission: .manage))
        try await store.upsertGrant(userID: alice.id, PermissionGrant(resourceType: .registeredModel, resourceID: "m", permission: .deny))
        #expect(
            try await store.grants(userID: alice.id) == [
                PermissionGrant(resourceType: .experiment, resourceID: "1", permission: .edit),
                PermissionGrant(resourceType: .registeredModel, resourceID: "m", permission: .deny),
            ])
        try await store.renameGrants(resourceType: .registeredModel, from: "m", to: "n")
        #expect(try await store.grants(userID: alice.id).last?.resourceID == "n")
        try await store.dropGrants(resourceType: .registeredModel, resourceID: "n")
        try await store.revoke(userID: alice.id, resourceType: .experiment, resourceID: "1")
        #expect(try await store.grants(userID: alice.id).isEmpty)
        await expectCairnError(.resourceDoesNotExist) {
            try await store.revoke(userID: alice.id, resourceType: .experiment, resourceID: "1")
        }
        await expectCairnError(.resourceDoesNotExist) {
            try await store.updateGrant(userID: alice.id, PermissionGrant(resourceType: .experiment, resourceID: "9", permission: .read))
        }

        // Tokens: found by hash until revoked; a deleted user's tokens and grants go with them.
        let token = try await store.createToken(id: "t1", userID: bob.id, name: "ci", tokenHash: "hash-1", at: 10)
        #expect(try await store.tokenOwner(tokenHash: "hash-1")?.user.username == "bob")
        try await store.touchToken(id: "t1", at: 11)
        #expect(try await store.tokens(userID: bob.id).first?.lastUsedTime == 11)
        await expectCairnError(.resourceDoesNotExist) { try await store.revokeToken(id: token.id, userID: alice.id, at: 12) }
        try await store.revokeToken(id: token.id, userID: bob.id, at: 12)
        #expect(try await store.tokenOwner(tokenHash: "hash-1") == nil)
        await expectCairnError(.resourceDoesNotExist) { try await store.revokeToken(id: token.id, userID: bob.id, at: 13) }
        _ = try await store.createToken(id: "t2", userID: bob.id, name: "ci", tokenHash: "hash-2", at: 14)
        try await store.grant(userID: bob.id, grant)
        try await store.deleteUser(username: "bob")
        #expect(try await store.tokenOwner(tokenHash: "hash-2") == nil)
        #expect(try await store.grants(userID: bob.id).isEmpty)
        #expect(try await store.user(id: bob.id) == nil)

        // The audit log: newest first, filtered, and never changed once written.
        try await store.appendAudit([
            AuditEntry(
                id: "a1", time: 100, username: "alice", address: "127.0.0.1", method: "POST", path: "/p", resource: nil, status: 200),
            AuditEntry(
                id: "a2", time: 200, username: "carol", address: nil, method: "DELETE", path: "/q", resource: "experiment:1", status: 403),
            AuditEntry(id: "a3", time: 300, username: "alice", address: nil, method: "POST", path: "/r", resource: nil, status: 401),
        ])
        #expect(try await store.audit(username: nil, since: nil, maxResults: 10).map(\.id) == ["a3", "a2", "a1"])
        #expect(try await store.audit(username: "alice", since: 150, maxResults: 10).map(\.id) == ["a3"])
        #expect(try await store.audit(username: nil, since: nil, maxResults: 1).map(\.id) == ["a3"])
        await #expect(throws: (any Error).self) {
            try await database.transaction { sql in try await sql.raw("UPDATE cairn_audit_log SET status = 200").run() }
        }
        await #expect(throws: (any Error).self) {
            try await database.transaction { sql in try await sql.raw("DELETE FROM cairn_audit_log").run() }
        }
        #expect(try await store.audit(username: nil, since: nil, maxResults: 10).map(\.status) == [401, 403, 200])

        // A flush of more entries than one statement carries (100 rows) lands whole, in order.
        let many = (0..<250).map { index in
            AuditEntry(
                id: String(format: "b%04d", index), time: 1000 + Int64(index), username: "bulk", address: nil, method: "POST",
                path: "/bulk", resource: index % 2 == 0 ? "experiment:\(index)" : nil, status: 200)
        }
        try await store.appendAudit(many)
        let bulk = try await store.audit(username: "bulk", since: nil, maxResults: 1000)
        #expect(bulk.count == 250 && bulk == Array(many.reversed()))

        try await checkRoles(store, alice: alice)

        // A run and a logged model are found by their experiment.
        let experimentID = try await tracking.createExperiment(name: "auth-contract", artifactLocation: nil, tags: [])
        let run = try await tracking.createRun(CreateRun(experimentID: experimentID, userID: "u", runName: "r", startTime: 1, tags: []))
        #expect(try await store.experimentID(ofRun: run.info.runID) == experimentID)
        #expect(try await store.experimentID(ofRun: "0123456789abcdef0123456789abcdef") == nil)
        #expect(try await store.experimentID(ofLoggedModel: "m-unknown") == nil)
    }
}

extension AuthStoreContract {
    /// Roles: names unique per workspace, grants unique per (type, pattern), assignments unique
    /// per user, MLflow's errors for what is missing, and a user's access folding their roles'
    /// grants in the default workspace only.
    static func checkRoles(_ store: any AuthStore, alice: User) async throws {
        let readers = try await store.createRole(name: "readers", workspace: "default", description: "reads all")
        let elsewhere = try await store.createRole(name: "readers", workspace: "team-b", description: nil)
        #expect(readers.id != elsewhere.id && readers.permissions.isEmpty)
        await expectCairnError(.resourceAlreadyExists) {
            _ = try await store.createRole(name: "readers", workspace: "default", description: nil)
        }
        await expectCairnError(.resourceDoesNotExist) { _ = try await store.role(id: 9999) }

        let all = try await store.addRolePermission(roleID: readers.id, resourceType: .experiment, resourcePattern: "*", permission: .read)
        let one = try await store.addRolePermission(
            roleID: readers.id, resourceType: .registeredModel, resourcePattern: "m1", permission: .edit)
        await expectCairnError(.resourceAlreadyExists) {
            _ = try await store.addRolePermission(roleID: readers.id, resourceType: .experiment, resourcePattern: "*", permission: .edit)
        }
        await expectCairnError(.resourceDoesNotExist) {
            _ = try await store.addRolePermission(roleID: 9999, resourceType: .experiment, resourcePattern: "*", permission: .read)
        }
        _ = try await store.addRolePermission(roleID: elsewhere.id, resourceType: .experiment, resourcePattern: "7", permission: .manage)
        #expect(try await store.role(id: readers.id).permissions == [all, one])
        #expect(try await store.updateRolePermission(id: one.id, permission: .manage).permission == .manage)
        #expect(try await store.rolePermission(id: one.id).permission == .manage)
        await expectCairnError(.resourceDoesNotExist) { _ = try await store.updateRolePermission(id: 9999, permission: .read) }

        #expect(try await store.roles(workspaces: ["default"]).map(\.id) == [readers.id])
        #expect(try await store.roles(workspaces: nil).map(\.id) == [readers.id, elsewhere.id])
        #expect(try await store.roles(workspaces: []).isEmpty)
        let renamed = try await store.updateRole(id: readers.id, name: "viewers", description: nil)
        #expect(renamed.name == "viewers" && renamed.description == "reads all" && renamed.permissions.count == 2)
        await expectCairnError(.resourceAlreadyExists) {
            _ = try await store.createRole(name: "viewers", workspace: "default", description: nil)
        }
        _ = try await store.createRole(name: "spare", workspace: "default", description: nil)
        await expectCairnError(.resourceAlreadyExists) { _ = try await store.updateRole(id: readers.id, name: "spare", description: nil) }

        let assignment = try await store.assignRole(userID: alice.id, roleID: readers.id)
        _ = try await store.assignRole(userID: alice.id, roleID: elsewhere.id)
        await expectCairnError(.resourceAlreadyExists) { _ = try await store.assignRole(userID: alice.id, roleID: readers.id) }
        await expectCairnError(.resourceDoesNotExist) { _ = try await store.assignRole(userID: alice.id, roleID: 9999) }
        await expectCairnError(.resourceDoesNotExist) { _ = try await store.assignRole(userID: 9999, roleID: readers.id) }
        #expect(try await store.assignments(ofRole: readers.id) == [assignment])
        #expect(try await store.roles(ofUser: alice.id).map(\.id) == [readers.id, elsewhere.id])
        #expect(try await store.rolesByUser()[alice.id]?.count == 2)
        let workspaces = try await store.roleWorkspaces(userID: alice.id)
        #expect(workspaces.present == ["default", "team-b"] && workspaces.managed.isEmpty)

        // Only the default workspace's roles take part in decisions.
        let access = try await store.accessGrants(userID: alice.id)
        #expect(Set(access.roleGrants.map(\.id)) == [all.id, one.id])

        try await store.removeRolePermission(id: all.id)
        await expectCairnError(.resourceDoesNotExist) { try await store.removeRolePermission(id: all.id) }
        try await store.unassignRole(userID: alice.id, roleID: elsewhere.id)
        await expectCairnError(.resourceDoesNotExist) { try await store.unassignRole(userID: alice.id, roleID: elsewhere.id) }
        try await store.deleteRole(id: readers.id)
        await expectCairnError(.resourceDoesNotExist) { try await store.deleteRole(id: readers.id) }
        #expect(try await store.roles(ofUser: alice.id).isEmpty)
        #expect(try await store.accessGrants(userID: alice.id).roleGrants.isEmpty)
        await expectCairnError(.resourceDoesNotExist) { _ = try await store.rolePermissions(roleID: readers.id) }
    }
}

struct AuthStoreTests {
    @Test func sqliteHonoursTheContract() async throws {
        let fixture = try await StoreFixture.make()
        do {
            try await AuthStoreContract.check(SQLAuthStore(database: fixture.database), database: fixture.database, tracking: fixture.store)
            try await fixture.close()
        } catch {
            try? await fixture.close()
            throw error
        }
    }
}
