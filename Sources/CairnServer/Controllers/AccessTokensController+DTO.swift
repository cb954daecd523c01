import CairnStore

/// Cairn's own auth API bodies.
enum AuthAPI {
    struct Token: Encodable, Sendable {
        var id: String
        var name: String
        var creationTime: Int64
        @Nullable var lastUsedTime: Int64?
        @Nullable var revokedTime: Int64?

        init(_ info: AccessTokenInfo) {
            id = info.id
            name = info.name
            creationTime = info.creationTime
            lastUsedTime = info.lastUsedTime
            revokedTime = info.revokedTime
        }
    }

    struct CreatedToken: Encodable, Sendable {
        var token: String
        var accessToken: Token
    }

    struct Tokens: Encodable, Sendable {
        var accessTokens: [Token]
    }

    struct AuditEntryDTO: Encodable, Sendable {
        var id: String
        var time: Int64
        @Nullable var username: String?
        @Nullable var address: String?
        var method: String
        var path: String
        @Nullable var resource: String?
        var status: Int

        init(_ entry: AuditEntry) {
            id = entry.id
            time = entry.time
            username = entry.username
            address = entry.address
            method = entry.method
            path = entry.path
            resource = entry.resource
            status = entry.status
        }
    }

    struct AuditEntries: Encodable, Sendable {
        var entries: [AuditEntryDTO]
    }
}
