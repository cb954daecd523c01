/// Soft deletion state of experiments and runs.
public enum LifecycleStage: String, Sendable, Equatable {
    case active
    case deleted
}

/// Which lifecycle stages a search returns (`view_type` / `run_view_type`).
public enum ViewType: String, Sendable, Equatable {
    case activeOnly = "ACTIVE_ONLY"
    case deletedOnly = "DELETED_ONLY"
    case all = "ALL"

    public var stages: [LifecycleStage] {
        switch self {
        case .activeOnly: [.active]
        case .deletedOnly: [.deleted]
        case .all: [.active, .deleted]
        }
    }
}

/// A run's execution status.
public enum RunStatus: String, Sendable, Equatable, CaseIterable {
    case running = "RUNNING"
    case scheduled = "SCHEDULED"
    case finished = "FINISHED"
    case failed = "FAILED"
    case killed = "KILLED"

    /// Whether the status ends the run; MLflow sets `end_time` only for these.
    public var isTerminal: Bool {
        switch self {
        case .finished, .failed, .killed: true
        case .running, .scheduled: false
        }
    }
}
