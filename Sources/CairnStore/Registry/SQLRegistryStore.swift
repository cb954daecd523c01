import CairnCore
import SQLKit

/// The model registry on any `MetadataDatabase`. Every write is one transaction that first
/// checks its preconditions, so a refused request changes nothing.
public struct SQLRegistryStore: RegistryStore {
    let database: any MetadataDatabase
    /// Milliseconds since the epoch; injected so tests can pin time.
    let now: WallClock

    public init(database: any MetadataDatabase, now: @escaping WallClock = SystemClock.now) {
        self.database = database
        self.now = now
    }

    /// The stage of a deleted version: its row stays (redacted) so its number is never reused.
    static let deletedStage = "Deleted_Internal"

    // MARK: - Registered models

    public func createRegisteredModel(name: String, tags: [KeyValue], description: String?) async throws -> RegisteredModel {
        let name = try RegistryValidation.validateModelName(name)
        for tag in tags { try RegistryValidation.validateTag(tag) }
        if let description { try TrackingValidation.validateText(description, name: "description") }
        let tags = SQLTrackingStore.lastWins(tags)
        let now = now()
        return try await database.transaction { sql in
            // RETURNING tells a fresh insert from a conflict without a racy pre-check.
            let inserted = try await sql.raw(
                """
                INSERT INTO registered_models (name, creation_time, last_updated_time, description)
                VALUES (\(bind: name), \(bind: now), \(bind: now), \(bind: description))
                ON CONFLICT (name) DO NOTHING RETURNING name
                """
            ).first()
            guard inserted != nil else {
                let existingTags = try await Self.tags(sql, names: [name])[name] ?? []
                let existingIsPrompt = RegistryValidation.isPrompt(existingTags)
                let newIsPrompt = RegistryValidation.isPrompt(tags)
                if existingIsPrompt != newIsPrompt {
                    throw CairnError.alreadyExists(
                        "Tried to create a \(newIsPrompt ? "prompt" : "registered model") with name '\(name)', but the name is already taken by a \(existingIsPrompt ? "prompt" : "registered model"). MLflow does not allow creating a model and a prompt with the same name."
                    )
                }
                throw CairnError.alreadyExists("\(newIsPrompt ? "Prompt" : "Registered Model") (name=\(name)) already exists.")
            }
            try await Self.upsertTags(sql, name: name, version: nil, tags: tags)
            return RegisteredModel(
                name: name, creationTimestamp: now, lastUpdatedTimestamp: now, description: description,
                tags: tags.sorted { $0.key < $1.key }
            )
        }
    }

    public func getRegisteredModel(name: String) async throws -> RegisteredModel {
        let name = try RegistryValidation.validateModelName(name)
        return try await database.read { sql in
            guard let model = try await Self.loadRegisteredModels(sql, where: "rm.name = \(bind: name)").first else {
                throw Self.modelNotFound(name)
            }
            return model
        }
    }

    public func renameRegisteredModel(name: String, newName: String) async throws -> RegisteredModel {
        let newName = try RegistryValidation.validateModelName(newName, parameter: "new_name")
        let name = try RegistryValidation.validateModelName(name)
        let now = now()
        return try await database.transaction { sql in
            try await Self.requireRegisteredModel(sql, name: name)
            if newName != name {
                if try await sql.raw("SELECT name FROM registered_models WHERE name = \(bind: newName)").first() != nil {
                    throw CairnError.alreadyExists("Registered Model (name=\(newName)) already exists.")
                }
                // Versions, their tags and the aliases follow through ON UPDATE CASCADE.
                try await sql.raw("UPDATE registered_models SET name = \(bind: newName) WHERE name = \(bind: name)").run()
            }
            try await sql.raw("UPDATE registered_models SET last_updated_time = \(bind: now) WHERE name = \(bind: newName)").run()
            try await sql.raw("UPDATE model_versions SET last_updated_time = \(bind: now) WHERE name = \(bind: newName)").run()
            guard let model = try await Self.loadRegisteredModels(sql, where: "rm.name = \(bind: newName)").first else {
                throw Self.modelNotFound(newName)
            }
            return model
        }
    }

    public func updateRegisteredModel(name: String, description: String?) async throws -> RegisteredModel {
        let name = try RegistryValidation.validateModelName(name)
        if let description { try TrackingValidation.validateText(description, name: "description") }
        let now = now()
        return try await database.transaction { sql in
            try await Self.requireRegisteredModel(sql, name: name)
            try await sql.raw(
                """
                UPDATE registered_models SET description = \(bind: description), last_updated_time = \(bind: now) WHERE name = \(bind: name)
                """
            ).run()
            guard let model = try await Self.loadRegisteredModels(sql, where: "rm.name = \(bind: name)").first else {
                throw Self.modelNotFound(name)
            }
            return model
        }
    }

    /// Hard delete of the model with every version, tag and alias; the name is free again.
    public func deleteRegisteredModel(name: String) async throws {
        let name = try RegistryValidation.validateModelName(name)
        try await database.transaction { sql in
            try await Self.requireRegisteredModel(sql, name: name)
            try await sql.raw("DELETE FROM registered_model_aliases WHERE name = \(bind: name)").run()
            try await sql.raw("DELETE FROM model_version_tags WHERE name = \(bind: name)").run()
            try await sql.raw("DELETE FROM model_versions WHERE name = \(bind: name)").run()
            try await sql.raw("DELETE FROM registered_model_tags WHERE name = \(bind: name)").run()
            try await sql.raw("DELETE FROM registered_models WHERE name = \(bind: name)").run()
        }
    }

    public func getLatestVersions(name: String, stages: [String]) async throws -> [ModelVersion] {
        let name = try RegistryValidation.validateModelName(name)
        var wanted = Set<ModelVersionStage>()
        for stage in stages { wanted.insert(try ModelVersionStage.canonical(stage)) }
        if wanted.isEmpty { wanted = Set(ModelVersionStage.userStages) }
        let selected = wanted
        return try await database.read { sql in
            try await Self.requireRegisteredModel(sql, name: name)
            let latest = try await Self.latestVersions(sql, names: [name])[name] ?? []
            return latest.filter { selected.contains($0.currentStage) }
        }
    }

    public func setRegisteredModelTag(name: String, tag: KeyValue) async throws {
        let name = try RegistryValidation.validateModelName(name)
        try RegistryValidation.validateTag(tag)
        try await database.transaction { sql in
            try await Self.requireRegisteredModel(sql, name: name)
            try await Self.upsertTags(sql, name: name, version: nil, tags: [tag])
        }
    }

    /// Deleting a tag the model does not have is not an error, as in MLflow.
    public func deleteRegisteredModelTag(name: String, key: String) async throws {
        let name = try RegistryValidation.validateModelName(name)
        try TrackingValidation.validateKey(key, kind: "key")
        try await database.transaction { sql in
            try await Self.requireRegisteredModel(sql, name: name)
            try await sql.raw("DELETE FROM registered_model_tags WHERE name = \(bind: name) AND key = \(bind: key)").run()
        }
    }

    /// Points `alias` at `version`, moving it if it pointed elsewhere.
    public func setRegisteredModelAlias(name: String, alias: String, version: String) async throws {
        let name = try RegistryValidation.validateModelName(name)
        try RegistryValidation.validateAlias(alias)
        try RegistryValidation.validateAliasNotReserved(alias)
        let number = try RegistryValidation.validateVersion(version)
        try await database.transaction { sql in
            _ = try await Self.requireModelVersion(sql, name: name, version: number)
            try await sql.raw(
                """
                INSERT INTO registered_model_aliases (name, alias, version) VALUES (\(bind: name), \(bind: alias), \(bind: number))
                ON CONFLICT (name, alias) DO UPDATE SET version = excluded.version
                """
            ).run()
        }
    }

    public func setRegisteredModelAlias(name: String, alias: String, version: String, expectedCurrent: String?) async throws -> Bool {
        let name = try RegistryValidation.validateModelName(name)
        try RegistryValidation.validateAlias(alias)
        try RegistryValidation.validateAliasNotReserved(alias)
        let number = try RegistryValidation.validateVersion(version)
        let expected = try expectedCurrent.map(RegistryValidation.validateVersion)
        return try await database.transaction { sql in
            _ = try await Self.requireModelVersion(sql, name: name, version: number)
            return try await Self.compareAndSetAlias(sql, name: name, alias: alias, version: number, expected: expected)
        }
    }

    /// The alias move of a compare-and-set, inside the caller's transaction. One conditional
    /// statement each way, so two racing writers cannot both win, on SQLite or PostgreSQL
    /// (where the row lock makes the loser re-check `version` after the winner commits).
    static func compareAndSetAlias(_ sql: any SQLDatabase, name: String, alias: String, version: Int64, expected: Int64?) async throws
        -> Bool
    {
        if let expected {
            return try await sql.raw(
                """
                UPDATE registered_model_aliases SET version = \(bind: version)
                WHERE name = \(bind: name) AND alias = \(bind: alias) AND version = \(bind: expected) RETURNING alias
                """
            ).first() != nil
        }
        return try await sql.raw(
            """
            INSERT INTO registered_model_aliases (name, alias, version) VALUES (\(bind: name), \(bind: alias), \(bind: version))
            ON CONFLICT (name, alias) DO NOTHING RETURNING alias
            """
        ).first() != nil
    }

    public func deleteRegisteredModelAlias(name: String, alias: String) async throws {
        let name = try RegistryValidation.validateModelName(name)
        try RegistryValidation.validateAlias(alias)
        try await database.transaction { sql in
            try await Self.requireRegisteredModel(sql, name: name)
            try await sql.raw("DELETE FROM registered_model_aliases WHERE name = \(bind: name) AND alias = \(bind: alias)").run()
        }
    }

    /// The version an alias points at; `latest` (any case) is the highest live version.
    public func getModelVersion(name: String, alias: String) async throws -> ModelVersion {
        let name = try RegistryValidation.validateModelName(name)
        try RegistryValidation.validateAlias(alias)
        return try await database.read { sql in
            try await Self.requireRegisteredModel(sql, name: name)
            let number: Int64
            if alias.lowercased() == "latest" {
                guard let latest = try await Self.latestVersions(sql, names: [name])[name]?.compactMap({ Int64($0.version) }).max() else {
                    throw CairnError.notFound("Latest version not found for model \(name).")
                }
                number = latest
            } else {
                guard
                    let row = try await sql.raw(
                        """
                        SELECT version FROM registered_model_aliases WHERE name = \(bind: name) AND alias = \(bind: alias)
                        """
                    ).first()
                else {
                    // MLflow answers an unknown alias with 400, not 404.
                    throw CairnError.invalidParameter("Registered model alias \(alias) not found.")
                }
                number = try row.decode(column: "version", as: Int64.self)
            }
            return try await Self.requireModelVersion(sql, name: name, version: number)
        }
    }

    // MARK: - Helpers

    static func modelNotFound(_ name: String) -> CairnError {
        .notFound("Registered Model with name=\(name) not found")
    }

    static func versionNotFound(_ name: String, _ version: Int64) -> CairnError {
        .notFound("Model Version (name=\(name), version=\(version)) not found")
    }

    static func requireRegisteredModel(_ sql: any SQLDatabase, name: String) async throws {
        guard try await sql.raw("SELECT name FROM registered_models WHERE name = \(bind: name)").first() != nil else {
            throw modelNotFound(name)
        }
    }

    /// A live (not deleted) version with its tags and aliases.
    static func requireModelVersion(_ sql: any SQLDatabase, name: String, version: Int64) async throws -> ModelVersion {
        let condition: SQLQueryString =
            "mv.name = \(bind: name) AND mv.version = \(bind: version) AND mv.current_stage != \(bind: deletedStage)"
        guard let found = try await loadModelVersions(sql, where: condition).first else {
            throw versionNotFound(name, version)
        }
        return found
    }

    /// Upserts registered-model tags (`version` nil) or model-version tags.
    static func upsertTags(_ sql: any SQLDatabase, name: String, version: Int64?, tags: [KeyValue]) async throws {
        for chunk in chunked(tags) {
            var query: SQLQueryString =
                version == nil
                ? "INSERT INTO registered_model_tags (name, key, value) VALUES "
                : "INSERT INTO model_version_tags (name, version, key, value) VALUES "
            for (index, tag) in chunk.enumerated() {
                query.appendLiteral(index > 0 ? ", (" : "(")
                query.appendInterpolation(bind: name)
                if let version {
                    query.appendLiteral(", ")
                    query.appendInterpolation(bind: version)
                }
                query.appendLiteral(", ")
                query.appendInterpolation(bind: tag.key)
                query.appendLiteral(", ")
                query.appendInterpolation(bind: tag.value)
                query.appendLiteral(")")
            }
            query.appendLiteral(
                version == nil
                    ? " ON CONFLICT (name, key) DO UPDATE SET value = excluded.value"
                    : " ON CONFLICT (name, version, key) DO UPDATE SET value = excluded.value")
            try await sql.raw(query).run()
        }
    }

    /// Registered-model tags by model name, sorted by key.
    static func tags(_ sql: any SQLDatabase, names: [String]) async throws -> [String: [KeyValue]] {
        var result: [String: [KeyValue]] = [:]
        for chunk in chunked(Array(Set(names)).sorted()) {
            for row in try await sql.raw(
                """
                SELECT name, key, value FROM registered_model_tags WHERE name IN \(inList(Array(chunk))) ORDER BY key
                """
            ).all() {
                result[try row.decode(column: "name", as: String.self), default: []]
                    .append(
                        KeyValue(
                            key: try row.decode(column: "key", as: String.self), value: try row.decode(column: "value", as: String.self)))
            }
        }
        return result
    }

    /// Aliases by model name, sorted by alias.
    static func aliases(_ sql: any SQLDatabase, names: [String]) async throws -> [String: [RegisteredModelAlias]] {
        var result: [String: [RegisteredModelAlias]] = [:]
        for chunk in chunked(Array(Set(names)).sorted()) {
            for row in try await sql.raw(
                """
                SELECT name, alias, version FROM registered_model_aliases WHERE name IN \(inList(Array(chunk))) ORDER BY alias
                """
            ).all() {
                result[try row.decode(column: "name", as: String.self), default: []].append(
                    RegisteredModelAlias(
                        alias: try row.decode(column: "alias", as: String.self),
                        version: String(try row.decode(column: "version", as: Int64.self))
                    ))
            }
        }
        return result
    }

    /// The highest live version per stage of each model, in the order MLflow lists them
    /// (stages by the first version that entered them).
    static func latestVersions(_ sql: any SQLDatabase, names: [String]) async throws -> [String: [ModelVersion]] {
        var result: [String: [ModelVersion]] = [:]
        for chunk in chunked(Array(Set(names)).sorted()) {
            var condition: SQLQueryString = "mv.name IN "
            condition.appendInterpolation(inList(Array(chunk)))
            condition.appendLiteral(" AND mv.current_stage != ")
            condition.appendInterpolation(bind: deletedStage)
            condition.appendLiteral(
                """
                 AND mv.version = (SELECT MAX(l.version) FROM model_versions l WHERE l.name = mv.name AND l.current_stage = mv.current_stage)
                """)
            let suffix: SQLQueryString = """
                ORDER BY mv.name, (SELECT MIN(f.version) FROM model_versions f WHERE f.name = mv.name AND f.current_stage = mv.current_stage)
                """
            for version in try await loadModelVersions(sql, where: condition, suffix: suffix) {
                result[version.name, default: []].append(version)
            }
        }
        return result
    }

    static let registeredModelColumns = "rm.name, rm.creation_time, rm.last_updated_time, rm.description"

    /// Registered models matching `condition` (over `registered_models rm`), ordered and limited
    /// by `suffix`, with tags, aliases and latest versions.
    static func loadRegisteredModels(_ sql: any SQLDatabase, where condition: SQLQueryString, suffix: SQLQueryString = "") async throws
        -> [RegisteredModel]
    {
        var query: SQLQueryString = "SELECT \(unsafeRaw: registeredModelColumns) FROM registered_models rm WHERE "
        query = query + condition
        query.appendLiteral(" ")
        query = query + suffix
        var models = try await sql.raw(query).all().map { row in
            RegisteredModel(
                name: try row.decode(column: "name", as: String.self),
                creationTimestamp: try row.decode(column: "creation_time", as: Int64.self),
                lastUpdatedTimestamp: try row.decode(column: "last_updated_time", as: Int64.self),
                description: try row.decode(column: "description", as: String?.self)
            )
        }
        guard !models.isEmpty else { return [] }
        let names = models.map(\.name)
        let tags = try await tags(sql, names: names)
        let aliases = try await aliases(sql, names: names)
        let latest = try await latestVersions(sql, names: names)
        for index in models.indices {
            let name = models[index].name
            models[index].tags = tags[name] ?? []
            models[index].aliases = aliases[name] ?? []
            models[index].latestVersions = latest[name] ?? []
        }
        return models
    }

    static let modelVersionColumns = """
        mv.name, mv.version, mv.creation_time, mv.last_updated_time, mv.description, mv.current_stage, mv.source,
        mv.run_id, mv.run_link, mv.status, mv.model_id
        """

    /// Model versions matching `condition` (over `model_versions mv`), ordered and limited by
    /// `suffix`, with tags and aliases.
    static func loadModelVersions(_ sql: any SQLDatabase, where condition: SQLQueryString, suffix: SQLQueryString = "") async throws
        -> [ModelVersion]
    {
        var query: SQLQueryString = "SELECT \(unsafeRaw: modelVersionColumns) FROM model_versions mv WHERE "
        query = query + condition
        query.appendLiteral(" ")
        query = query + suffix
        var versions = try await sql.raw(query).all().map { row in
            ModelVersion(
                name: try row.decode(column: "name", as: String.self),
                version: String(try row.decode(column: "version", as: Int64.self)),
                creationTimestamp: try row.decode(column: "creation_time", as: Int64.self),
                lastUpdatedTimestamp: try row.decode(column: "last_updated_time", as: Int64.self),
                currentStage: ModelVersionStage(rawValue: try row.decode(column: "current_stage", as: String.self)) ?? .none,
                description: try row.decode(column: "description", as: String?.self),
                source: try row.decode(column: "source", as: String.self),
                runID: try row.decode(column: "run_id", as: String?.self),
                status: ModelVersionStatus(rawValue: try row.decode(column: "status", as: String.self)) ?? .ready,
                runLink: try row.decode(column: "run_link", as: String?.self),
                modelID: try row.decode(column: "model_id", as: String?.self)
            )
        }
        guard !versions.isEmpty else { return [] }
        let names = versions.map(\.name)
        var tags: [String: [KeyValue]] = [:]
        for chunk in chunked(Array(Set(names)).sorted()) {
            for row in try await sql.raw(
                """
                SELECT name, version, key, value FROM model_version_tags WHERE name IN \(inList(Array(chunk))) ORDER BY key
                """
            ).all() {
                let id =
                    try row.decode(column: "name", as: String.self) + "\u{0}" + String(try row.decode(column: "version", as: Int64.self))
                tags[id, default: []].append(
                    KeyValue(key: try row.decode(column: "key", as: String.self), value: try row.decode(column: "value", as: String.self)))
            }
        }
        let aliases = try await aliases(sql, names: names)
        for index in versions.indices {
            let version = versions[index]
            versions[index].tags = tags[version.name + "\u{0}" + version.version] ?? []
            versions[index].aliases = (aliases[version.name] ?? []).filter { $0.version == version.version }.map(\.alias)
        }
        return versions
    }
}
