extension PipelineSpecLoader {
    static let gateKeys = ["model", "candidate", "alias", "data", "target", "metrics", "keep_previous_as"]
    static let thresholdKeys = ["threshold", "min_absolute_change", "min_relative_change", "greater_is_better", "higher_is_better"]

    /// `gate:` of a stage. Thresholds are checked with MLflow `MetricThreshold`'s constructor
    /// rules, so a spec MLflow would refuse is refused here, at load time.
    static func gate(_ node: SpecNode, stage: String, wdir: String) throws(PipelineSpecError) -> GateSpec {
        guard let entries = node.entries else {
            throw PipelineSpecError("'gate' of stage '\(stage)' must be a mapping, not \(node.typeName)", at: node.location)
        }
        try checkKeys(entries, allowed: gateKeys, in: "'gate' of stage '\(stage)'")
        func text(_ key: String, required: Bool) throws(PipelineSpecError) -> String? {
            guard let value = node[key] else {
                if required { throw PipelineSpecError("'gate' of stage '\(stage)' needs '\(key)'", at: node.location) }
                return nil
            }
            // A candidate may be written as a bare version number.
            if key == "candidate", case .int(let version) = value.value { return String(version) }
            guard let string = value.string, !string.isEmpty else {
                throw PipelineSpecError(
                    "'gate.\(key)' of stage '\(stage)' must be a non-empty string, not \(value.typeName)", at: value.location)
            }
            return string
        }
        let model = try text("model", required: true)!
        // A version number and an alias are left as they are by normalising; a file path loses `./`.
        let candidate = SpecPath.normalize(try text("candidate", required: true)!)
        let data = SpecPath.normalize(try text("data", required: true)!)
        let target = try text("target", required: true)!
        guard let metrics = node["metrics"] else {
            throw PipelineSpecError("'gate' of stage '\(stage)' needs 'metrics'", at: node.location)
        }
        guard let metricEntries = metrics.entries, !metricEntries.isEmpty else {
            throw PipelineSpecError("'gate.metrics' of stage '\(stage)' must map metric names to thresholds", at: metrics.location)
        }
        var thresholds: [String: MetricThreshold] = [:]
        for entry in metricEntries {
            thresholds[entry.key] = try threshold(entry.value, metric: entry.key)
        }
        return GateSpec(
            model: model, candidate: candidate, alias: try text("alias", required: false) ?? "champion", data: data, target: target,
            thresholds: thresholds, keepPreviousAs: try text("keep_previous_as", required: false))
    }

    /// MLflow's rules: `threshold` a number; `min_absolute_change` a number > 0;
    /// `min_relative_change` a float (not an int) in [0, 1]; `greater_is_better` a required
    /// bool (`higher_is_better` its deprecated alias, not both); at least one of the three.
    static func threshold(_ node: SpecNode, metric: String) throws(PipelineSpecError) -> MetricThreshold {
        guard let entries = node.entries else {
            throw PipelineSpecError("the threshold of metric '\(metric)' must be a mapping, not \(node.typeName)", at: node.location)
        }
        try checkKeys(entries, allowed: thresholdKeys, in: "the threshold of metric '\(metric)'")
        func numeric(_ key: String) throws(PipelineSpecError) -> Double? {
            guard let value = node[key] else { return nil }
            switch value.value {
            case .int(let number): return Double(number)
            case .float(let number) where number.isFinite: return number
            default:
                throw PipelineSpecError("`\(key)` of metric '\(metric)' must be an int or float, not \(value.typeName)", at: value.location)
            }
        }
        let threshold = try numeric("threshold")
        let absolute = try numeric("min_absolute_change")
        if let absolute, absolute <= 0, let where_ = node["min_absolute_change"] {
            throw PipelineSpecError(
                "`min_absolute_change` of metric '\(metric)' must be a positive number, not \(absolute)", at: where_.location)
        }
        var relative: Double?
        if let value = node["min_relative_change"] {
            guard case .float(let number) = value.value, (0...1).contains(number) else {
                throw PipelineSpecError(
                    "`min_relative_change` of metric '\(metric)' must be a floating point number between 0 and 1 (write 0.0 or 1.0, not \(value.scalarText ?? value.typeName))",
                    at: value.location)
            }
            relative = number
        }
        let greater = node["greater_is_better"]
        let higher = node["higher_is_better"]
        if greater != nil, let higher {
            throw PipelineSpecError(
                "metric '\(metric)' gives both `greater_is_better` and its deprecated alias `higher_is_better`; keep `greater_is_better`",
                at: higher.location)
        }
        guard let direction = greater ?? higher else {
            throw PipelineSpecError("metric '\(metric)' needs `greater_is_better` (true or false)", at: node.location)
        }
        guard case .bool(let greaterIsBetter) = direction.value else {
            throw PipelineSpecError(
                "`greater_is_better` of metric '\(metric)' must be a bool, not \(direction.typeName)", at: direction.location)
        }
        if threshold == nil, absolute == nil, relative == nil {
            throw PipelineSpecError(
                "metric '\(metric)' needs at least one of `threshold`, `min_absolute_change` or `min_relative_change`", at: node.location)
        }
        return MetricThreshold(
            threshold: threshold, minAbsoluteChange: absolute, minRelativeChange: relative, greaterIsBetter: greaterIsBetter)
    }
}
