/// `/models/{name}/versions/{v}`: one version with its signature, input example, `MLmodel`,
/// the model's promotion log and the monitors watching it.
public struct ModelVersionView: Sendable {
    public struct Column: Sendable, Equatable {
        public var name: String
        public var type: String
        public var required: Bool

        public init(name: String, type: String, required: Bool) {
            self.name = name
            self.type = type
            self.required = required
        }
    }

    /// One side of a signature: named columns, or a tensor described in words.
    public struct Schema: Sendable, Equatable {
        public var columns: [Column]
        public var tensor: String?

        public init(columns: [Column] = [], tensor: String? = nil) {
            self.columns = columns
            self.tensor = tensor
        }
    }

    public struct Promotion: Sendable {
        public var time: String
        public var timeTitle: String
        public var kind: String
        public var outcome: String
        public var alias: String
        public var candidate: String
        public var champion: String
        public var moves: String
        public var metrics: String
        public var failures: [String]
        /// The pipeline run whose gate wrote it (named apart from the page's own pipeline
        /// run: Mustache looks a missing value up in the enclosing context).
        public var gateRun: LinkItem?
        /// Whether this entry judged or moved to this page's version.
        public var concernsThisVersion: Bool

        public init(
            time: String, timeTitle: String, kind: String, outcome: String, alias: String, candidate: String, champion: String,
            moves: String, metrics: String, failures: [String], gateRun: LinkItem?, concernsThisVersion: Bool
        ) {
            self.time = time
            self.timeTitle = timeTitle
            self.kind = kind
            self.outcome = outcome
            self.alias = alias
            self.candidate = candidate
            self.champion = champion
            self.moves = moves
            self.metrics = metrics
            self.failures = failures
            self.gateRun = gateRun
            self.concernsThisVersion = concernsThisVersion
        }
    }

    public var name: String
    public var version: String
    public var modelHref: String
    public var stage: String
    public var status: String
    public var source: String
    public var description: String?
    public var aliases: [String]
    public var tags: [TagItem]
    public var run: LinkItem?
    public var runID: String?
    public var pipelineRun: LinkItem?
    public var inputs: Schema?
    public var outputs: Schema?
    /// Why the signature is not shown (no MLmodel on this server, none logged…).
    public var signatureNote: String?
    public var inputExample: String?
    public var mlmodel: String?
    public var promotions: [Promotion]
    public var monitors: [LinkItem]
    public var aliasForm: AliasFormView
    public var hasTags: Bool
    public var hasPromotions: Bool
    public var hasMonitors: Bool

    public init(
        name: String, version: String, modelHref: String, stage: String, status: String, source: String, description: String?,
        aliases: [String], tags: [TagItem], run: LinkItem?, runID: String?, pipelineRun: LinkItem?, inputs: Schema?, outputs: Schema?,
        signatureNote: String?, inputExample: String?, mlmodel: String?, promotions: [Promotion], monitors: [LinkItem],
        aliasForm: AliasFormView
    ) {
        self.name = name
        self.version = version
        self.modelHref = modelHref
        self.stage = stage
        self.status = status
        self.source = source
        self.description = description.flatMap { $0.isEmpty ? nil : $0 }
        self.aliases = aliases
        self.tags = tags
        self.run = run
        self.runID = runID
        self.pipelineRun = pipelineRun
        self.inputs = inputs
        self.outputs = outputs
        self.signatureNote = signatureNote
        self.inputExample = inputExample
        self.mlmodel = mlmodel
        self.promotions = promotions
        self.monitors = monitors
        self.aliasForm = aliasForm
        hasTags = !tags.isEmpty
        hasPromotions = !promotions.isEmpty
        hasMonitors = !monitors.isEmpty
    }
}
