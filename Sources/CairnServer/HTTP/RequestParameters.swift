import CairnCore
import Hummingbird

/// The fields of an MLflow API request, from the JSON body (POST, PATCH, DELETE) or from
/// the query string (GET), behind one accessor set so each handler reads its fields the same
/// way whatever the method. The accessors apply proto-JSON's leniency (int64 as number or
/// string, doubles as `"NaN"`/`"Infinity"`) and turn every type mismatch into a 400.
public struct RequestParameters: Sendable {
    var fields: [String: JSONValue]
    /// The fields read from the query string, where a repeated field given once is a lone
    /// string. In a JSON body a repeated field must be a list, as MLflow's proto parsing
    /// demands (`"experiment_ids": "1"` is a 400 there).
    var queryFields: Set<String> = []

    /// JSON bodies larger than this are refused; the largest legitimate request (a dataset
    /// profile of 16 MiB in log-inputs) fits.
    static let bodyLimit = RequestBodyLimit(bytes: 32 << 20)

    init(fields: [String: JSONValue], queryFields: Set<String> = []) {
        self.fields = fields
        self.queryFields = queryFields
    }

    /// The fields of a query string alone.
    init(query: String?) throws(CairnError) {
        fields = try QueryString.parse(query ?? "")
        queryFields = Set(fields.keys)
    }

    /// The request's fields: those a middleware already parsed, else parsed now.
    static func of(_ request: Request, _ context: some CairnRequestContext) async throws -> RequestParameters {
        if let parsed = context.requestParameters { return parsed }
        return try await from(request)
    }

    static func from(_ request: Request) async throws -> RequestParameters {
        let query = try RequestParameters(query: request.uri.query)
        var fields = query.fields
        guard request.method != .get, request.method != .head else { return query }
        let body = try await JSONBody.read(request, limit: bodyLimit)
        guard body.readableBytes > 0 else { return query }
        let parsed: JSONValue
        do {
            parsed = try JSONValue.parse(body.readableBytesView)
        } catch {
            throw CairnError(.badRequest, "Malformed JSON request body: \(error)")
        }
        guard case .object(let bodyFields) = parsed else {
            throw CairnError(.badRequest, "The request body must be a JSON object")
        }
        // Body fields win over query fields of the same name.
        fields.merge(bodyFields.dictionary) { _, body in body }
        return RequestParameters(fields: fields, queryFields: query.queryFields.subtracting(bodyFields.keys))
    }

    private func invalid(_ name: String, _ value: JSONValue) -> CairnError {
        var writer = JSONWriter()
        writer.value(value)
        let text = String(decoding: writer.bytes.prefix(200), as: UTF8.self)
        return .invalidParameter("Invalid value \(text) for parameter '\(name)' supplied")
    }

    /// A string field; `null` counts as absent, as in proto-JSON.
    func string(_ name: String) throws(CairnError) -> String? {
        switch fields[name] {
        case nil, .null?: return nil
        case .string(let text)?: return text
        case let other?: throw invalid(name, other)
        }
    }

    func requiredString(_ name: String) throws(CairnError) -> String {
        guard let value = try string(name), !value.isEmpty else { throw .missingParameter(name) }
        return value
    }

    /// `run_id`, with the deprecated `run_uuid` accepted in its place.
    func runID() throws(CairnError) -> String {
        if let id = try string("run_id"), !id.isEmpty { return id }
        if let id = try string("run_uuid"), !id.isEmpty { return id }
        throw .missingParameter("run_id")
    }

    func int64(_ name: String) throws(CairnError) -> Int64? {
        switch fields[name] {
        case nil, .null?: return nil
        case .number(let value, let raw)?:
            if let exact = Int64(raw) { return exact }
            guard value == value.rounded(), let converted = Int64(exactly: value) else { throw invalid(name, .number(value, raw: raw)) }
            return converted
        case .string(let text)?:
            guard let value = Int64(text) else { throw invalid(name, .string(text)) }
            return value
        case let other?: throw invalid(name, other)
        }
    }

    func requiredInt64(_ name: String) throws(CairnError) -> Int64 {
        guard let value = try int64(name) else { throw .missingParameter(name) }
        return value
    }

    /// An int32 field (MLflow's `max_results`), refusing values that do not fit.
    func int(_ name: String) throws(CairnError) -> Int? {
        guard let value = try int64(name) else { return nil }
        guard let fitted = Int32(exactly: value) else { throw invalid(name, .string(String(value))) }
        return Int(fitted)
    }

    func double(_ name: String) throws(CairnError) -> Double? {
        switch fields[name] {
        case nil, .null?: return nil
        case .number(let value, _)?: return value
        case .string(let text)?:
            switch text {
            case "NaN": return .nan
            case "Infinity": return .infinity
            case "-Infinity": return -.infinity
            default:
                guard let value = Double(text), value.isFinite else { throw invalid(name, .string(text)) }
                return value
            }
        case let other?: throw invalid(name, other)
        }
    }

    func requiredDouble(_ name: String) throws(CairnError) -> Double {
        guard let value = try double(name) else { throw .missingParameter(name) }
        return value
    }

    func bool(_ name: String) throws(CairnError) -> Bool? {
        switch fields[name] {
        case nil, .null?: return nil
        case .bool(let flag)?: return flag
        case .string("true")?: return true
        case .string("false")?: return false
        case let other?: throw invalid(name, other)
        }
    }

    /// A repeated string field: a JSON array, or query keys (one or repeated).
    func strings(_ name: String) throws(CairnError) -> [String] {
        switch fields[name] {
        case nil, .null?: return []
        case .string(let text)? where queryFields.contains(name): return [text]
        case .array(let items)?:
            var result: [String] = []
            for item in items {
                guard case .string(let text) = item else { throw invalid(name, item) }
                result.append(text)
            }
            return result
        case let other?: throw invalid(name, other)
        }
    }

    /// A repeated message field.
    func objects(_ name: String) throws(CairnError) -> [RequestParameters] {
        switch fields[name] {
        case nil, .null?: return []
        case .array(let items)?:
            var result: [RequestParameters] = []
            for item in items {
                guard case .object(let fields) = item else { throw invalid(name, item) }
                result.append(RequestParameters(fields: fields.dictionary))
            }
            return result
        case let other?: throw invalid(name, other)
        }
    }

    func object(_ name: String) throws(CairnError) -> RequestParameters? {
        switch fields[name] {
        case nil, .null?: return nil
        case .object(let fields)?: return RequestParameters(fields: fields.dictionary)
        case let other?: throw invalid(name, other)
        }
    }

    /// An enum field. MLflow parses requests with `ignore_unknown_fields`, so an unknown
    /// name reads as unset rather than as an error.
    func enumValue<T: RawRepresentable>(_ name: String, as type: T.Type) throws(CairnError) -> T? where T.RawValue == String {
        guard let text = try string(name) else { return nil }
        return T(rawValue: text)
    }

    /// `[{key, value}]` lists: params, tags.
    func keyValues(_ name: String) throws(CairnError) -> [KeyValue] {
        var result: [KeyValue] = []
        for item in try objects(name) {
            result.append(KeyValue(key: try item.requiredString("key"), value: try item.string("value") ?? ""))
        }
        return result
    }
}

/// `application/x-www-form-urlencoded` query strings, as `requests` writes them and MLflow's
/// server (Werkzeug) reads them: `+` is a space, repeated keys form a list, and a malformed
/// escape or bytes that are not UTF-8 are kept as written rather than refused.
enum QueryString {
    static func parse(_ query: String) throws(CairnError) -> [String: JSONValue] {
        var fields: [String: JSONValue] = [:]
        for pair in query.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = PercentDecoding.decodeLeniently(parts[0], mode: .form)
            let value = PercentDecoding.decodeLeniently(parts.count > 1 ? parts[1] : "", mode: .form)
            switch fields[key] {
            case nil: fields[key] = .string(value)
            case .array(let items)?: fields[key] = .array(items + [.string(value)])
            case let existing?: fields[key] = .array([existing, .string(value)])
            }
        }
        return fields
    }
}
