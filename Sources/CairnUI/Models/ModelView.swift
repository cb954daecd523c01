/// A tag as a page lists it.
public struct TagItem: Sendable, Equatable {
    public var key: String
    public var value: String

    public init(key: String, value: String) {
        self.key = key
        self.value = value
    }
}

/// A link with its text.
public struct LinkItem: Sendable, Equatable {
    public var text: String
    public var href: String
    /// Extra words after the link (a digest, a state).
    public var note: String?

    public init(text: String, href: String, note: String? = nil) {
        self.text = text
        self.href = href
        self.note = note
    }
}

/// The form that points an alias at a version (and the one that deletes it), with the error
/// of the last attempt when it failed.
public struct AliasFormView: Sendable {
    public var setAction: String
    public var deleteAction: String
    public var csrfToken: String
    /// Prefilled values after a failed attempt.
    public var alias: String
    public var version: String
    public var error: String?
    public var versions: [String]

    public init(
        setAction: String, deleteAction: String, csrfToken: String, alias: String = "", version: String = "",
        error: String? = nil, versions: [String] = []
    ) {
        self.setAction = setAction
        self.deleteAction = deleteAction
        self.csrfToken = csrfToken
        self.alias = alias
        self.version = version
        self.error = error
        self.versions = versions
    }
}

/// `/models/{name}`: the model, its aliases and its versions with their lineage.
public struct ModelView: Sendable {
    public struct Alias: Sendable {
        public var alias: String
        public var version: String
        public var versionHref: String

        public init(alias: String, version: String, versionHref: String) {
            self.alias = alias
            self.version = version
            self.versionHref = versionHref
        }
    }

    public struct Version: Sendable {
        public var version: String
        public var href: String
        public var stage: String
        public var status: String
        public var aliases: [String]
        public var tags: [TagItem]
        public var created: String
        public var createdTitle: String
        /// The run that logged it, when it names one this server has.
        public var run: LinkItem?
        /// The run id when the run is not on this server.
        public var runID: String?
        public var datasets: [LinkItem]
        /// The pipeline run that made it.
        public var pipelineRun: LinkItem?

        public init(
            version: String, href: String, stage: String, status: String, aliases: [String], tags: [TagItem], created: String,
            createdTitle: String, run: LinkItem?, runID: String?, datasets: [LinkItem], pipelineRun: LinkItem?
        ) {
            self.version = version
            self.href = href
            self.stage = stage
            self.status = status
            self.aliases = aliases
            self.tags = tags
            self.created = created
            self.createdTitle = createdTitle
            self.run = run
            self.runID = runID
            self.datasets = datasets
            self.pipelineRun = pipelineRun
        }
    }

    public var name: String
    public var description: String?
    public var tags: [TagItem]
    public var aliases: [Alias]
    public var versions: [Version]
    public var aliasForm: AliasFormView
    public var previousHref: String?
    public var nextHref: String?
    public var hasTags: Bool
    public var hasAliases: Bool
    public var hasVersions: Bool

    public init(
        name: String, description: String?, tags: [TagItem], aliases: [Alias], versions: [Version], aliasForm: AliasFormView,
        previousHref: String?, nextHref: String?
    ) {
        self.name = name
        self.description = description.flatMap { $0.isEmpty ? nil : $0 }
        self.tags = tags
        self.aliases = aliases
        self.versions = versions
        self.aliasForm = aliasForm
        self.previousHref = previousHref
        self.nextHref = nextHref
        hasTags = !tags.isEmpty
        hasAliases = !aliases.isEmpty
        hasVersions = !versions.isEmpty
    }
}
