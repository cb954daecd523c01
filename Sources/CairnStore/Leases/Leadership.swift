/// Whether this process is the one that runs the work that must happen once (monitor
/// schedules, webhook outboxes, pipeline triggers and cron, upload sweeps).
///
/// The contract every implementation keeps:
/// - `whileLeading` starts `work` when this process becomes the leader and cancels it as
///   soon as this process may no longer be the leader, always before its lease can pass to
///   another replica; the call returns only when the calling task is cancelled.
/// - `work` that returns on its own (a one-off job) is not started again until leadership has
///   been lost and won back.
/// - Leadership narrows the overlap but cannot rule it out (a paused process learns late that
///   it lost): work that must not happen twice also claims its rows in the database.
public protocol Leadership: Sendable {
    /// Whether this process leads at this moment.
    var isLeading: Bool { get }
    func whileLeading(_ work: @escaping @Sendable () async throws -> Void) async
    /// This process's name among the replicas, recorded on the work it hosts (pipeline runs);
    /// nil for a process alone on its database.
    var holder: String? { get }
    /// Whether the process named `host` still lives: how the leader tells work a live replica
    /// hosts from work a dead one left behind.
    func isAlive(host: String) async -> Bool
}

/// The only process on its database (SQLite: one server per file) always leads.
public struct AlwaysLeader: Leadership {
    public init() {}

    public var isLeading: Bool { true }

    public var holder: String? { nil }

    /// Alone on its database, nobody else hosts anything.
    public func isAlive(host: String) async -> Bool { false }

    public func whileLeading(_ work: @escaping @Sendable () async throws -> Void) async {
        try? await work()
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(3600))
        }
    }
}
