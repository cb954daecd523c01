import CairnCore
import SQLKit

extension SQLTrackingStore {
    /// `mlflow gc --experiment-ids ID`: only a deleted experiment can go; its runs (deleted with
    /// it) go with every param, tag, metric, dataset input and model link, then its logged
    /// models, datasets, tags and the experiment itself, all or nothing.
    public func purgeExperiment(id: String) async throws -> ExperimentPurge {
        let numericID = try Self.experimentKey(id)
        return try await database.transaction { sql in
            let stage = try await Self.experimentStage(sql, id: numericID, display: id)
            guard stage == .deleted else {
                throw CairnError.invalidParameter(
                    "Experiments ['\(id)'] are not in the deleted lifecycle stage. Only experiments in the deleted lifecycle stage can be hard-deleted."
                )
            }
            let runs = try await sql.raw("SELECT run_uuid, artifact_uri FROM runs WHERE experiment_id = \(bind: numericID)").all()
            let models = try await sql.raw("SELECT model_id, artifact_location FROM logged_models WHERE experiment_id = \(bind: numericID)")
                .all()
            var locations: [String] = []
            for row in runs { locations.append(try row.decode(column: "artifact_uri", as: String.self)) }
            for row in models { locations.append(try row.decode(column: "artifact_location", as: String.self)) }

            let runsOfExperiment: SQLQueryString = "SELECT run_uuid FROM runs WHERE experiment_id = \(bind: numericID)"
            // Children before parents, as the foreign keys require; a series' blocks go with its rows.
            for table in [
                "run_dataset_input_tags", "run_dataset_inputs", "run_model_links", "metric_blocks", "metric_series", "latest_metrics",
                "metrics", "run_params", "run_tags",
            ] {
                var statement: SQLQueryString = "DELETE FROM \(unsafeRaw: table) WHERE run_uuid IN ("
                statement = statement + runsOfExperiment
                statement.appendLiteral(")")
                try await sql.raw(statement).run()
            }
            let modelsOfExperiment: SQLQueryString = "SELECT model_id FROM logged_models WHERE experiment_id = \(bind: numericID)"
            // Metrics logged against a model are its runs' points, gone with the runs above.
            for table in ["logged_model_tags", "logged_model_params"] {
                var statement: SQLQueryString = "DELETE FROM \(unsafeRaw: table) WHERE model_id IN ("
                statement = statement + modelsOfExperiment
                statement.appendLiteral(")")
                try await sql.raw(statement).run()
            }
            try await sql.raw("DELETE FROM runs WHERE experiment_id = \(bind: numericID)").run()
            try await sql.raw("DELETE FROM logged_models WHERE experiment_id = \(bind: numericID)").run()
            try await sql.raw("DELETE FROM datasets WHERE experiment_id = \(bind: numericID)").run()
            try await sql.raw("DELETE FROM experiment_tags WHERE experiment_id = \(bind: numericID)").run()
            try await sql.raw("DELETE FROM experiments WHERE experiment_id = \(bind: numericID)").run()
            return ExperimentPurge(runCount: runs.count, loggedModelCount: models.count, artifactLocations: locations)
        }
    }
}
