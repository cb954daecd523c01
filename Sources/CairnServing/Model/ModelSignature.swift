import CairnCore
import CairnTabular

/// The input schema an MLflow model was logged with (the `signature.inputs` JSON string in
/// its `MLmodel` file), used to check and order request columns before scoring.
public struct ModelSignature: Sendable, Equatable {
    public enum Inputs: Sendable, Equatable {
        /// Named columns (`{"type": "double", "name": "f0", "required": true}` entries).
        case columns([ColumnSpec])
        /// One tensor (`{"type": "tensor", "tensor-spec": {"dtype": …, "shape": […]}}`).
        case tensor(dtype: String, shape: [Int])
    }

    public struct ColumnSpec: Sendable, Equatable {
        public var name: String?
        public var type: String
        public var required: Bool
    }

    public var inputs: Inputs

    public init(inputs: Inputs) { self.inputs = inputs }

    /// Parses the `inputs` JSON string; nil when it is absent or empty.
    public static func parse(inputsJSON: String) throws(CairnError) -> ModelSignature? {
        let document: JSONValue
        do { document = try JSONValue.parse(inputsJSON) } catch {
            throw CairnError(.invalidParameterValue, "The model's signature is not valid JSON: \(error)")
        }
        guard case .array(let entries) = document, !entries.isEmpty else { return nil }
        if entries.count == 1, case .string("tensor")? = entries[0]["type"] {
            guard case .object(let spec)? = entries[0]["tensor-spec"], case .string(let dtype)? = spec["dtype"] else {
                throw CairnError(.invalidParameterValue, "The model's tensor signature has no dtype.")
            }
            var shape: [Int] = []
            if case .array(let dims)? = spec["shape"] {
                shape = dims.map { if case .number(let d, _) = $0 { Int(d) } else { -1 } }
            }
            return ModelSignature(inputs: .tensor(dtype: dtype, shape: shape))
        }
        var columns: [ColumnSpec] = []
        for entry in entries {
            guard case .string(let type)? = entry["type"] else {
                throw CairnError(.invalidParameterValue, "A column of the model's signature has no type.")
            }
            var name: String? = nil
            if case .string(let given)? = entry["name"] { name = given }
            var required = true
            if case .bool(let flag)? = entry["required"] { required = flag }
            columns.append(ColumnSpec(name: name, type: type, required: required))
        }
        return ModelSignature(inputs: .columns(columns))
    }

    /// Checks `frame` against the signature and returns it with the signature's columns in
    /// the signature's order, converted to the declared types. Extra columns are dropped, as
    /// MLflow's schema enforcement drops them. The error names the offending column.
    public func conform(_ frame: DataFrame, positional: Bool) throws(CairnError) -> DataFrame {
        guard case .columns(let specs) = inputs else { return frame }
        let named = specs.allSatisfy { $0.name != nil }
        var result: [Column] = []
        result.reserveCapacity(specs.count)
        if positional || !named {
            guard frame.columns.count == specs.count else {
                throw CairnError(
                    .invalidParameterValue,
                    "Failed to enforce schema: the model expects \(specs.count) columns \(Self.describe(specs)) but the input has \(frame.columns.count)."
                )
            }
            for (spec, column) in zip(specs, frame.columns) {
                let name = spec.name ?? column.name
                result.append(
                    Column(
                        name: name, values: try Self.convert(column.values, to: spec, column: name),
                        missing: spec.required ? column.missing : []))
            }
            return DataFrame(columns: result, rowCount: frame.rowCount)
        }
        var missing: [String] = []
        for spec in specs {
            let name = spec.name!
            if let column = frame.column(named: name) {
                // An optional column may hold missing values; they reach the model as NaN/None.
                result.append(
                    Column(
                        name: name, values: try Self.convert(column.values, to: spec, column: name),
                        missing: spec.required ? column.missing : []))
            } else if spec.required {
                missing.append(name)
            } else {
                result.append(Column(name: name, values: Self.missingColumn(type: spec.type, rows: frame.rowCount)))
            }
        }
        guard missing.isEmpty else {
            throw CairnError(
                .invalidParameterValue,
                "Failed to enforce schema of data with schema \(Self.describe(specs)). Error: Model is missing inputs \(ScoringRequest.formatKeys(missing))."
            )
        }
        return DataFrame(columns: result, rowCount: frame.rowCount)
    }

    /// The named columns the signature types as text, which a CSV body keeps as text.
    public var textColumns: Set<String> {
        guard case .columns(let specs) = inputs else { return [] }
        return Set(specs.compactMap { $0.type == "string" ? $0.name : nil })
    }

    static func describe(_ specs: [ColumnSpec]) -> String {
        "[" + specs.map { "'\($0.name ?? "?")': \($0.type)" }.joined(separator: ", ") + "]"
    }

    static func missingColumn(type: String, rows: Int) -> ColumnValues {
        switch type {
        case "string", "binary", "datetime": .string(Array(repeating: nil, count: rows))
        default: .double(Array(repeating: .nan, count: rows))
        }
    }

    /// MLflow's type rules: integers widen to float/double, floats never narrow to integers
    /// unless every value is integral, and numbers and text do not mix.
    static func convert(_ values: ColumnValues, to spec: ColumnSpec, column: String) throws(CairnError) -> ColumnValues {
        func mismatch() -> CairnError {
            CairnError(
                .invalidParameterValue,
                "Failed to enforce schema: incompatible input types for column '\(column)'. Can not safely convert \(values.typeName) to \(spec.type)."
            )
        }
        switch spec.type {
        case "double", "float":
            // As pandas' astype(float) reads them behind `mlflow models serve`: booleans are
            // 0/1 and numbers written as text are numbers; other text is refused.
            switch values {
            case .double: return values
            case .int64(let v): return .double(v.map(Double.init))
            case .bool(let v): return .double(v.map { $0 ? 1 : 0 })
            case .string(let v):
                var numbers: [Double] = []
                numbers.reserveCapacity(v.count)
                for text in v {
                    guard let text else {
                        numbers.append(.nan)
                        continue
                    }
                    guard case .number(let number, let raw) = CSVParser.cell(text), number.isFinite || JSONValue.isNonFiniteLiteral(raw)
                    else { throw mismatch() }
                    numbers.append(number)
                }
                return .double(numbers)
            }
        case "long", "integer":
            switch values {
            case .int64: return values
            case .double(let v):
                // A missing value in an integer column is a schema failure in MLflow too.
                guard v.allSatisfy({ $0.isFinite && $0 == $0.rounded() && abs($0) < 9.0e18 }) else { throw mismatch() }
                return .int64(v.map { Int64($0) })
            case .bool, .string: throw mismatch()
            }
        case "boolean":
            if case .bool = values { return values }
            throw mismatch()
        case "string":
            if case .string = values { return values }
            // A column with no values at all has no type of its own; it is missing text.
            if case .double(let v) = values, v.allSatisfy(\.isNaN) { return .string(Array(repeating: nil, count: v.count)) }
            throw mismatch()
        default:
            // binary, datetime and newer types pass through to the model untouched.
            return values
        }
    }
}
