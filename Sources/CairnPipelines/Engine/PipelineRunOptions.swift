import CairnCore
import Foundation

/// How a run chooses and treats its stages (`cairn pipeline run` flags, DVC's where they exist).
public struct PipelineRunOptions: Sendable, Equatable, Codable {
    /// Stages to run (with their upstream); empty means every stage.
    public var targets: [String]
    /// This stage and everything downstream of it.
    public var from: String?
    /// The targets and everything downstream of them, instead of their upstream.
    public var downstream: Bool
    /// Run the selected stages even when up to date or cached.
    public var force: Bool
    /// Only the targets, not their upstream (DVC's `-s`).
    public var singleItem: Bool
    /// Stages at once; nil means the core count.
    public var jobs: Int?
    /// The run whose finished stages this run reuses when their key still matches.
    public var resume: String?

    public init(
        targets: [String] = [], from: String? = nil, downstream: Bool = false, force: Bool = false, singleItem: Bool = false,
        jobs: Int? = nil, resume: String? = nil
    ) {
        self.targets = targets
        self.from = from
        self.downstream = downstream
        self.force = force
        self.singleItem = singleItem
        self.jobs = jobs
        self.resume = resume
    }

    public var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    public static func decode(_ json: String) -> PipelineRunOptions {
        (try? JSONDecoder().decode(PipelineRunOptions.self, from: Data(json.utf8))) ?? PipelineRunOptions()
    }

    /// Refuses values no run could honour.
    public func validate() throws(CairnError) {
        if let jobs, jobs < 1 || jobs > 1024 { throw .invalidParameter("jobs must be between 1 and 1024, got \(jobs)") }
        if singleItem, targets.isEmpty { throw .invalidParameter("--single-item needs at least one target stage") }
        if downstream, targets.isEmpty { throw .invalidParameter("--downstream needs at least one target stage") }
    }
}

enum PipelineEngineError {
    static func unknownStage(_ name: String, known: [String]) -> CairnError {
        .invalidParameter("Unknown stage '\(name)'; the pipeline's stages are: \(known.joined(separator: ", "))")
    }
}
