import CairnCore
import CairnMonitor
import Foundation
import HTTPTypes
import Hummingbird

extension InferenceLogWriter {
    /// Records one scored request, if the sample rate picks it. A JSON body that scored is
    /// logged as sent; any other body (CSV, or one refused, which may not be JSON at all) as
    /// one JSON string, so every line of the log stays valid JSON.
    func log(
        requestID: String, request: Request, body: ByteBuffer, model: String, version: String, response: [UInt8], status: Int,
        latency: Duration
    ) {
        guard sampled() else { return }
        var inputs = Array(body.readableBytesView)
        let json = (request.headers[.contentType] ?? "application/json").lowercased().hasPrefix("application/json")
        if !json || !(200..<300).contains(status) {
            var writer = JSONWriter()
            writer.string(String(decoding: inputs, as: UTF8.self))
            inputs = writer.bytes
        }
        let (seconds, attoseconds) = latency.components
        record(
            InferenceRecord(
                requestID: requestID, timestamp: SystemClock.now(), model: model, version: version,
                inputs: inputs, outputs: response, latencyMicroseconds: seconds * 1_000_000 + attoseconds / 1_000_000_000_000,
                status: status
            ))
    }
}
