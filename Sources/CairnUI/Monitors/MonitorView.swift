/// `/monitors/{name}`: its spec and checks, alerts, webhook deliveries, the drift report (in a
/// sandboxed frame) and the newest requests of the inference log.
public struct MonitorView: Sendable {
    public struct Check: Sendable {
        public var name: String
        public var threshold: String
        public var firing: Bool

        public init(name: String, threshold: String, firing: Bool) {
            self.name = name
            self.threshold = threshold
            self.firing = firing
        }
    }

    public struct Alert: Sendable {
        public var check: String
        public var state: String
        public var value: String
        public var threshold: String
        public var message: String
        public var version: String
        public var fired: String
        public var firedTitle: String
        public var resolved: String

        public init(
            check: String, state: String, value: String, threshold: String, message: String, version: String, fired: String,
            firedTitle: String, resolved: String
        ) {
            self.check = check
            self.state = state
            self.value = value
            self.threshold = threshold
            self.message = message
            self.version = version
            self.fired = fired
            self.firedTitle = firedTitle
            self.resolved = resolved
        }
    }

    public struct Delivery: Sendable {
        public var event: String
        public var check: String
        public var url: String
        public var state: String
        public var attempts: String
        public var nextAttempt: String
        public var lastError: String

        public init(event: String, check: String, url: String, state: String, attempts: String, nextAttempt: String, lastError: String) {
            self.event = event
            self.check = check
            self.url = url
            self.state = state
            self.attempts = attempts
            self.nextAttempt = nextAttempt
            self.lastError = lastError
        }
    }

    public struct Request: Sendable {
        public var requestID: String
        public var time: String
        public var timeTitle: String
        public var version: String
        public var status: Int
        public var failed: Bool
        public var latency: String
        public var inputs: String
        public var outputs: String

        public init(
            requestID: String, time: String, timeTitle: String, version: String, status: Int, latency: String, inputs: String,
            outputs: String
        ) {
            self.requestID = requestID
            self.time = time
            self.timeTitle = timeTitle
            self.version = version
            self.status = status
            self.failed = !(200..<300).contains(status)
            self.latency = latency
            self.inputs = inputs
            self.outputs = outputs
        }
    }

    public var name: String
    public var model: LinkItem
    public var alias: String?
    public var window: String
    public var interval: String
    public var lastRun: String
    public var lastRunTitle: String
    public var checks: [Check]
    public var webhooks: [String]
    public var pipelines: [LinkItem]
    public var spec: String
    public var openAlerts: [Alert]
    public var pastAlerts: [Alert]
    public var deliveries: [Delivery]
    public var reportHref: String
    public var requests: [Request]
    public var requestLimit: Int
    public var hasWebhooks: Bool
    public var hasPipelines: Bool
    public var hasOpenAlerts: Bool
    public var hasPastAlerts: Bool
    public var hasDeliveries: Bool
    public var hasRequests: Bool

    public init(
        name: String, model: LinkItem, alias: String?, window: String, interval: String, lastRun: String, lastRunTitle: String,
        checks: [Check], webhooks: [String], pipelines: [LinkItem], spec: String, openAlerts: [Alert], pastAlerts: [Alert],
        deliveries: [Delivery], reportHref: String, requests: [Request], requestLimit: Int
    ) {
        self.name = name
        self.model = model
        self.alias = alias
        self.window = window
        self.interval = interval
        self.lastRun = lastRun
        self.lastRunTitle = lastRunTitle
        self.checks = checks
        self.webhooks = webhooks
        self.pipelines = pipelines
        self.spec = spec
        self.openAlerts = openAlerts
        self.pastAlerts = pastAlerts
        self.deliveries = deliveries
        self.reportHref = reportHref
        self.requests = requests
        self.requestLimit = requestLimit
        hasWebhooks = !webhooks.isEmpty
        hasPipelines = !pipelines.isEmpty
        hasOpenAlerts = !openAlerts.isEmpty
        hasPastAlerts = !pastAlerts.isEmpty
        hasDeliveries = !deliveries.isEmpty
        hasRequests = !requests.isEmpty
    }
}
