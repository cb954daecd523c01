import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// One webhook call and the retry schedule around it, shared by the monitor's alert outbox
/// and the registry's MLflow webhooks, so both post, time out and back off the same way.
public enum WebhookPost {
    public struct Outcome: Sendable, Equatable {
        /// The receiver's status, when it answered.
        public var status: Int?
        /// The start of the receiver's answer (at most `responseLimit` bytes), when it answered.
        public var body: String?
        /// Why no answer came (refused, timed out…).
        public var error: String?

        public init(status: Int? = nil, body: String? = nil, error: String? = nil) {
            self.status = status
            self.body = body
            self.error = error
        }

        public var delivered: Bool { status.map { (200..<300).contains($0) } ?? false }
        /// A short reason for a failed attempt, for the outbox row.
        public var failure: String { error ?? "HTTP \(status ?? 0)" }
    }

    public static func send(
        client: HTTPClient, url: String, headers: [(String, String)], body: [UInt8], timeout: Duration, responseLimit: Int = 64 << 10
    ) async -> Outcome {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(bytes: body))
        let nanoseconds = timeout.components.seconds * 1_000_000_000 + timeout.components.attoseconds / 1_000_000_000
        do {
            let response = try await client.execute(request, timeout: .nanoseconds(nanoseconds))
            var collected = ByteBuffer()
            // A receiver's long answer is cut, not refused: only its start is kept.
            for try await var chunk in response.body {
                let room = responseLimit - collected.readableBytes
                if room <= 0 { break }
                if let slice = chunk.readSlice(length: min(room, chunk.readableBytes)) { collected.writeImmutableBuffer(slice) }
            }
            return Outcome(
                status: Int(response.status.code), body: String(decoding: collected.readableBytesView, as: UTF8.self), error: nil)
        } catch {
            return Outcome(status: nil, body: nil, error: "\(error)")
        }
    }

    /// Milliseconds to wait before the attempt after `attempts` failed ones: `backoff` doubled
    /// per failure, capped at `maxBackoff`.
    public static func retryDelay(afterAttempts attempts: Int, backoff: Duration, maxBackoff: Duration) -> Int64 {
        func milliseconds(_ duration: Duration) -> Double {
            Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
        }
        return Int64(min(milliseconds(maxBackoff), milliseconds(backoff) * pow(2, Double(max(attempts, 1) - 1))))
    }

    /// A duration in whole milliseconds (the stores' time unit).
    public static func milliseconds(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
    }
}
