import CairnCore
import CairnMonitor
import CairnStore
import CairnUI
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOPosix

/// The monitoring pages: `/monitors` (each monitor with its last evaluation and open alerts),
/// `/monitors/{name}` (checks, alerts, webhook deliveries, the drift report in a sandboxed
/// frame, the newest requests of the inference log) and `/monitors/{name}/report`, the
/// monitor's HTML report served for that frame under a policy that lets it run nothing.
struct MonitorPagesController: Sendable {
    let store: any MonitorStore
    let service: MonitorService
    let log: InferenceLogReader
    let ui: UIPages
    let now: WallClock

    static var alertsShown: Int { 100 }
    /// Deliveries are listed for the newest alerts only (each alert has one per webhook URL
    /// and event).
    static var alertsWithDeliveries: Int { 20 }
    static var requestsShown: Int { 25 }
    /// The payload bytes the request tail keeps in memory, whatever the records hold.
    static var requestPayloadBytes: Int { 256 << 10 }
    /// Characters of a request's inputs or outputs shown in the table.
    static var payloadCharacters: Int { 240 }

    /// The report is HTML computed from logged traffic (feature names, category values a
    /// client sent): served with no script, no fetch, no form, no navigation of its frame's
    /// parent, and only into this UI's own pages.
    static let reportPolicy =
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox; frame-ancestors 'self'; base-uri 'none'; form-action 'none'"

    func addRoutes(to group: RouterGroup<AppRequestContext>) {
        group.get("monitors", use: list)
        group.get("monitors/{name}", use: monitor)
        group.get("monitors/{name}/report", use: report)
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> Response {
        let monitors = try await store.listMonitors()
        var open: [String: Int] = [:]
        for alert in try await store.listAlerts(monitorID: nil, state: .firing, limit: 10_000) { open[alert.monitorID, default: 0] += 1 }
        let chrome = ui.chrome(for: request, section: .monitors, breadcrumbs: [.init("Monitors")])
        let now = self.now()
        let rows = monitors.map { monitor in
            let spec = try? MonitorSpec.decode(Array(monitor.spec.utf8))
            return MonitorListView.Row(
                name: monitor.name, href: chrome.url("/monitors/" + UIFormat.pathSegment(monitor.name)),
                model: LinkItem(text: monitor.modelName, href: chrome.url("/models/" + UIFormat.pathSegment(monitor.modelName))),
                alias: monitor.alias, checks: spec.map { $0.checks.map(\.name).joined(separator: ", ") } ?? "",
                lastRun: monitor.lastRunTime.map { UIFormat.time(milliseconds: $0) } ?? "never",
                lastRunTitle: monitor.lastRunTime.map { UIFormat.relative(milliseconds: $0, now: now) } ?? "",
                openAlerts: open[monitor.id] ?? 0)
        }
        return try ui.page("monitors", title: "Monitors", content: MonitorListView(rows: rows), chrome: chrome, request: request)
    }

    @Sendable func monitor(_ request: Request, context: AppRequestContext) async throws -> Response {
        let monitor = try await store.getMonitor(idOrName: try PathParameters(context).required("name"))
        let spec = try MonitorSpec.decode(Array(monitor.spec.utf8))
        let firing = try await store.listAlerts(monitorID: monitor.id, state: .firing, limit: Self.alertsShown)
        let resolved = try await store.listAlerts(monitorID: monitor.id, state: .resolved, limit: Self.alertsShown)
        let chrome = ui.chrome(
            for: request, section: .monitors, breadcrumbs: [.init("Monitors", path: "/monitors"), .init(monitor.name)])
        let now = self.now()
        func time(_ value: Int64?) -> String { value.map { UIFormat.time(milliseconds: $0) } ?? "" }
        func alertRow(_ alert: StoredAlert) -> MonitorView.Alert {
            MonitorView.Alert(
                check: alert.check, state: alert.state.rawValue, value: alert.value.map(UIFormat.metric) ?? "",
                threshold: UIFormat.metric(alert.threshold), message: alert.message, version: alert.modelVersion ?? "",
                fired: time(alert.firedAt), firedTitle: UIFormat.relative(milliseconds: alert.firedAt, now: now),
                resolved: time(alert.resolvedAt))
        }
        var deliveries: [MonitorView.Delivery] = []
        let newest = (firing + resolved).sorted { $0.firedAt > $1.firedAt }.prefix(Self.alertsWithDeliveries)
        for alert in newest {
            for delivery in try await store.listDeliveries(alertID: alert.id) {
                deliveries.append(
                    MonitorView.Delivery(
                        event: delivery.event, check: alert.check, url: delivery.url, state: delivery.state.rawValue,
                        attempts: "\(delivery.attempts) of \(delivery.maxAttempts)",
                        nextAttempt: delivery.state == .pending ? time(delivery.nextAttemptTime) : "", lastError: delivery.lastError ?? ""))
            }
        }
        let firingChecks = Set(firing.map(\.check))
        let checks = spec.checks.map { check in
            MonitorView.Check(
                name: check.name, threshold: check.threshold.map(UIFormat.metric) ?? "default", firing: firingChecks.contains(check.name))
        }
        let requests = try await latestRequests(model: monitor.modelName, now: now)
        let view = MonitorView(
            name: monitor.name,
            model: LinkItem(text: monitor.modelName, href: chrome.url("/models/" + UIFormat.pathSegment(monitor.modelName))),
            alias: monitor.alias, window: Self.describe(spec.window), interval: "\(spec.intervalSeconds) s",
            lastRun: monitor.lastRunTime.map { UIFormat.time(milliseconds: $0) } ?? "never",
            lastRunTitle: monitor.lastRunTime.map { UIFormat.relative(milliseconds: $0, now: now) } ?? "", checks: checks,
            webhooks: spec.webhooks,
            pipelines: spec.pipelines.map { LinkItem(text: $0, href: chrome.url("/pipelines/" + UIFormat.pathSegment($0))) },
            spec: Self.pretty(monitor.spec), openAlerts: firing.map(alertRow), pastAlerts: resolved.map(alertRow), deliveries: deliveries,
            reportHref: chrome.url("/monitors/" + UIFormat.pathSegment(monitor.name) + "/report"), requests: requests,
            requestLimit: Self.requestsShown)
        return try ui.page("monitor", title: "Monitor \(monitor.name)", content: view, chrome: chrome, request: request)
    }

    /// The newest requests of the model, newest first: a bounded tail of the log, read on the
    /// thread pool with their payloads capped.
    func latestRequests(model: String, now: Int64) async throws -> [MonitorView.Request] {
        let (log, query) = (
            self.log, InferenceLogQuery(model: model, lastRecords: Self.requestsShown, maxPayloadBytes: Self.requestPayloadBytes)
        )
        let entries = try await log.threadPool.runIfActive { try log.read(query).entries }
        func shown(_ bytes: ArraySlice<UInt8>, omitted: Bool) -> String {
            if omitted { return "(not kept)" }
            let text = String(decoding: bytes, as: UTF8.self)
            return text.count > Self.payloadCharacters ? String(text.prefix(Self.payloadCharacters)) + "…" : text
        }
        return entries.reversed().map { entry in
            MonitorView.Request(
                requestID: entry.requestID, time: UIFormat.time(milliseconds: entry.timestamp),
                timeTitle: UIFormat.relative(milliseconds: entry.timestamp, now: now), version: entry.version, status: entry.status,
                latency: UIFormat.duration(milliseconds: entry.latencyMicroseconds / 1000),
                inputs: shown(entry.inputs, omitted: entry.payloadOmitted), outputs: shown(entry.outputs, omitted: entry.payloadOmitted))
        }
    }

    /// The report of the monitor's current window, as `GET /api/cairn/v1/monitors/{id}/report?format=html`
    /// answers it: evaluating changes nothing.
    @Sendable func report(_ request: Request, context: AppRequestContext) async throws -> Response {
        let monitor = try await store.getMonitor(idOrName: try PathParameters(context).required("name"))
        let report = try await service.evaluator.evaluate(monitor)
        var headers: HTTPFields = [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"]
        headers[.contentSecurityPolicy] = Self.reportPolicy
        headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: report.html())))
    }

    static func describe(_ window: MonitorSpec.Window) -> String {
        switch (window.seconds, window.rows) {
        case (let seconds?, let rows?):
            "the last \(UIFormat.duration(milliseconds: Int64(seconds) * 1000)) of traffic, at most \(rows) rows"
        case (let seconds?, nil): "the last \(UIFormat.duration(milliseconds: Int64(seconds) * 1000)) of traffic"
        case (nil, let rows?): "the last \(rows) rows"
        case (nil, nil): "all logged traffic"
        }
    }

    /// The stored spec (compact JSON) indented for reading.
    static func pretty(_ json: String) -> String {
        guard let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)),
            let data = try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
        else { return json }
        return String(decoding: data, as: UTF8.self)
    }
}
