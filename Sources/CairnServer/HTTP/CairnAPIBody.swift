import CairnCore
import Foundation
import Hummingbird

/// A response body of Cairn's own API (`/api/cairn/v1/`): a Codable DTO written by that API's
/// one encoder. MLflow's API is written beside it by `JSONBody` and `JSONWriter`, in MLflow's
/// exact shape; Cairn's own shapes are declared as types instead, so each is written once.
struct CairnAPIBody<Value: Encodable & Sendable>: ResponseGenerator {
    var value: Value

    init(_ value: Value) {
        self.value = value
    }

    /// snake_case keys from Swift's names, sorted so a body is byte-for-byte stable, and
    /// non-finite doubles spelt as MLflow's proto-JSON spells them.
    static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        return encoder
    }

    func bytes() throws -> [UInt8] {
        Array(try Self.encoder.encode(value))
    }

    func response(status: HTTPResponse.Status = .ok) throws -> Response {
        Response(
            status: status, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: try bytes())))
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        try response()
    }
}

/// An optional field a Cairn API body writes as `null` rather than leaving out, so a client
/// can index every documented key.
@propertyWrapper
struct Nullable<Value: Encodable & Sendable>: Encodable, Sendable {
    var wrappedValue: Value?

    init(wrappedValue: Value?) {
        self.wrappedValue = wrappedValue
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        if let value = wrappedValue { try container.encode(value) } else { try container.encodeNil() }
    }
}
