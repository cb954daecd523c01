import Crypto
import Foundation

/// MLflow's webhook signature (`mlflow/webhooks/delivery.py`, Standard Webhooks style):
/// `v1,` + base64 of HMAC-SHA256 keyed with the secret over `<delivery id>.<timestamp>.<body>`,
/// sent as `X-MLflow-Signature` beside `X-MLflow-Delivery-Id` and `X-MLflow-Timestamp`
/// (Unix seconds), so a receiver that verifies MLflow's deliveries verifies Cairn's.
enum WebhookSignature {
    static let signatureHeader = "X-MLflow-Signature"
    static let timestampHeader = "X-MLflow-Timestamp"
    static let deliveryIDHeader = "X-MLflow-Delivery-Id"

    static func sign(secret: String, deliveryID: String, timestamp: String, payload: [UInt8]) -> String {
        var content = Array("\(deliveryID).\(timestamp).".utf8)
        content.append(contentsOf: payload)
        let code = HMAC<SHA256>.authenticationCode(for: content, using: SymmetricKey(data: Array(secret.utf8)))
        return "v1," + Data(code).base64EncodedString()
    }

    /// The headers of one delivery attempt of `body`.
    static func headers(deliveryID: String, timestamp: Int64, secret: String?, body: [UInt8]) -> [(String, String)] {
        var headers = [
            ("Content-Type", "application/json"), ("User-Agent", "cairn-webhooks"), (deliveryIDHeader, deliveryID),
            (timestampHeader, String(timestamp)),
        ]
        if let secret, !secret.isEmpty {
            headers.append((signatureHeader, sign(secret: secret, deliveryID: deliveryID, timestamp: String(timestamp), payload: body)))
        }
        return headers
    }
}
