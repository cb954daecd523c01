import CairnCore

/// How one row of MLflow's `predictions` becomes named table columns, the same in `cairn
/// predict`'s output and the inference log's CSV export: `prediction` for a value,
/// `prediction_0…` for a vector, and for a record (a native model's outputs) a column per
/// output, `name_0…` for a vector (a probability per class) and `name_class` for a map (a
/// ZipMap's class → probability).
public enum PredictionColumns {
    public static func cells(_ row: JSONValue) -> [(name: String, value: JSONValue)] {
        switch row {
        case .array(let values): values.enumerated().map { ("prediction_\($0.offset)", $0.element) }
        case .object(let fields): fields.flatMap { flatten($0.value, named: $0.key) }
        default: [("prediction", row)]
        }
    }

    static func flatten(_ value: JSONValue, named name: String) -> [(name: String, value: JSONValue)] {
        switch value {
        case .array(let items): items.enumerated().map { ("\(name)_\($0.offset)", $0.element) }
        case .object(let fields): fields.map { ("\(name)_\($0.key)", $0.value) }
        default: [(name, value)]
        }
    }
}
