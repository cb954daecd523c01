import CairnCore
import CairnMonitor
import Foundation
import HTTPTypes
import Hummingbird

extension InferenceLogWriter {
    static var requestIDHeader: HTTPField.Name { HTTPField.Name("X-Request-ID")! }

    /// The client's `X-Request-ID` when it is a sane token, else a fresh one.
    static func requestID(_ request: Request) -> String {
        if let given = request.headers[requestIDHeader], (1...128).contains(given.utf8.count),
           given.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) {
            return given
        }
        return UUID().uuidString.lowercased()
    }

    /// Records one scored request, if the sample rate picks it. A JSON body that scored is
    /// logged as sent; any other body (CSV, or one refused, which may not be JSON at all) as
    /// one JSON string, so every line of the log stays valid JSON.
    func log(requestID: String, request: Request, body: ByteBuffer, model: String, version: String, response: [UInt8], status: Int, latency: Duration) {
        guard sampled() else { return }
        var inputs = Array(body.readableBytesView)
        let json = (request.headers[.contentType] ?? "application/json").lowercased().hasPrefix("application/json")
        if !json || !(200..<300).contains(status) {
            var writer = JSONWriter()
            writer.string(String(decoding: inputs, as: UTF8.self))
            inputs = writer.bytes
        }
        let (seconds, attoseconds) = latency.components
        record(InferenceRecord(
            requestID: requestID, timestamp: SystemClock.now(), model: model, version: version,
            inputs: inputs, outputs: response, latencyMicroseconds: seconds * 1_000_000 + attoseconds / 1_000_000_000_000, status: status
        ))
    }
}
