import ArgumentParser
import CairnClient
import CairnCore
import Foundation

struct MonitorReferenceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reference",
        abstract: "Profile a model version's training data as the reference its traffic is compared with.",
        discussion: """
            Without --data, the training dataset recorded with the version's run (mlflow.log_input with \
            context 'training') is read from its source, a local CSV file or an http(s) URL.
            """
    )

    @Argument(help: "models:/name/version, models:/name@alias, models:/name/stage or models:/name/latest.")
    var modelURI: String

    @Option(help: "Training data as CSV with a header row (default: the run's training dataset).")
    var data: String?

    @Option(help: "The label column: not a feature; profiled as the prediction reference when there is no --prediction.")
    var target: String?

    @Option(help: "A column of the model's predictions on the reference data.")
    var prediction: String?

    @OptionGroup var server: TrackingServerOptions

    func run() async throws {
        let client = try await server.client()
        let (name, version) = try await client.registeredVersion(try ModelURI(loading: modelURI))
        let location: String
        if let data {
            location = data
        } else {
            location = try await client.trainingDataSource(name: name, version: version)
        }
        let csv = try await client.readData(location)
        let answer = try await client.uploadReference(name: name, version: version, csv: csv, target: target, prediction: prediction)
        let rows: String = if case .number(_, let raw)? = answer["reference"]?["row_count"] { raw } else { "?" }
        let features: Int = if case .array(let list)? = answer["reference"]?["features"] { list.count } else { 0 }
        print("Reference for \(name) version \(version): \(rows) rows, \(features) profiles, from \(location)")
    }
}
