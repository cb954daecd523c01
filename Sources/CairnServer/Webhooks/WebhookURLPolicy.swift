import CairnCore
import Foundation
import NIOPosix

/// Which URLs a webhook may call, with MLflow's rules and settings: the scheme must be one of
/// `MLFLOW_WEBHOOK_ALLOWED_SCHEMES` (default `https`), the URL must name a host, and unless
/// `MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS` is true every address the host resolves to must be
/// public (no loopback, private, link-local or metadata address: the SSRF MLflow's advisories
/// describe). Checked when a webhook is saved and again before each call.
struct WebhookURLPolicy: Sendable {
    var allowedSchemes: [String]
    var allowPrivateIPs: Bool

    init(allowedSchemes: [String] = ["https"], allowPrivateIPs: Bool = false) {
        self.allowedSchemes = allowedSchemes
        self.allowPrivateIPs = allowPrivateIPs
    }

    /// From the environment, as MLflow reads it.
    static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> WebhookURLPolicy {
        var policy = WebhookURLPolicy()
        if let schemes = environment["MLFLOW_WEBHOOK_ALLOWED_SCHEMES"] {
            policy.allowedSchemes = schemes.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        if let flag = environment["MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS"]?.lowercased() {
            policy.allowPrivateIPs = flag == "true" || flag == "1"
        }
        return policy
    }

    /// Throws MLflow's INVALID_PARAMETER_VALUE messages.
    func validate(_ url: String) async throws {
        guard !url.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw CairnError.invalidParameter("Webhook URL cannot be empty or just whitespace: '\(url)'")
        }
        let components = URLComponents(string: url)
        let scheme = components?.scheme?.lowercased() ?? ""
        guard allowedSchemes.contains(scheme) else {
            throw CairnError.invalidParameter(
                "Invalid webhook URL scheme: '\(scheme)'. Allowed schemes are: \(allowedSchemes.joined(separator: ", ")).")
        }
        guard let host = components?.host, !host.isEmpty else {
            throw CairnError.invalidParameter("Webhook URL must include a hostname: '\(url)'")
        }
        guard !allowPrivateIPs else { return }
        let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        let addresses = try await Self.resolve(bare)
        guard !addresses.isEmpty else {
            throw CairnError.invalidParameter("Cannot resolve Webhook URL hostname '\(bare)'")
        }
        for address in addresses where !Self.isPublic(address) {
            throw CairnError.invalidParameter(
                "Webhook URL must not resolve to a non-public IP address. '\(bare)' resolves to \(Self.text(address)).")
        }
    }

    /// The host's addresses (4 or 16 bytes each); getaddrinfo blocks, so it runs on NIO's pool.
    static func resolve(_ host: String) async throws -> [[UInt8]] {
        try await NIOThreadPool.singleton.runIfActive {
            var hints = addrinfo()
            hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
            var list: UnsafeMutablePointer<addrinfo>?
            guard getaddrinfo(host, nil, &hints, &list) == 0, let first = list else { return [] }
            defer { freeaddrinfo(first) }
            var result: [[UInt8]] = []
            var cursor: UnsafeMutablePointer<addrinfo>? = first
            while let entry = cursor {
                if entry.pointee.ai_family == AF_INET, let address = entry.pointee.ai_addr {
                    address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) {
                        result.append(withUnsafeBytes(of: $0.pointee.sin_addr) { Array($0) })
                    }
                } else if entry.pointee.ai_family == AF_INET6, let address = entry.pointee.ai_addr {
                    address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) {
                        result.append(withUnsafeBytes(of: $0.pointee.sin6_addr) { Array($0) })
                    }
                }
                cursor = entry.pointee.ai_next
            }
            return result
        }
    }

    /// Python's `ipaddress.is_global`, after unwrapping IPv4 carried in IPv6 (mapped, 6to4,
    /// NAT64), as MLflow's `_is_public_ip` does.
    static func isPublic(_ address: [UInt8]) -> Bool {
        if address.count == 16 {
            if address[0..<10].allSatisfy({ $0 == 0 }) && address[10] == 0xFF && address[11] == 0xFF {
                return isPublic(Array(address[12..<16]))
            }
            if address[0] == 0x20 && address[1] == 0x02 { return isPublic(Array(address[2..<6])) }
            if address[0..<12] == [0x00, 0x64, 0xFF, 0x9B, 0, 0, 0, 0, 0, 0, 0, 0][...] { return isPublic(Array(address[12..<16])) }
            if address.allSatisfy({ $0 == 0 }) { return false } // ::
            if address[0..<15].allSatisfy({ $0 == 0 }) && address[15] == 1 { return false } // ::1
            if address[0] & 0xFE == 0xFC { return false } // fc00::/7 unique local
            if address[0] == 0xFE && address[1] & 0xC0 == 0x80 { return false } // fe80::/10 link-local
            if address[0] == 0xFF { return false } // multicast
            if address[0] == 0x20 && address[1] == 0x01 && address[2] == 0x0D && address[3] == 0xB8 { return false } // documentation
            if address[0] == 0x20 && address[1] == 0x01 && address[2] < 0x02 { return false } // 2001::/23 IETF protocol assignments
            return true
        }
        guard address.count == 4 else { return false }
        let (a, b, c) = (address[0], address[1], address[2])
        switch a {
        case 0, 10, 127: return false
        case 100 where b & 0xC0 == 64: return false // 100.64/10 shared address space
        case 169 where b == 254: return false
        case 172 where b & 0xF0 == 16: return false
        case 192 where b == 168: return false
        case 192 where b == 0 && (c == 0 || c == 2): return false
        case 198 where b & 0xFE == 18: return false
        case 198 where b == 51 && c == 100: return false
        case 203 where b == 0 && c == 113: return false
        case 224...255: return false // multicast, reserved, broadcast
        default: return true
        }
    }

    static func text(_ address: [UInt8]) -> String {
        if address.count == 4 { return address.map(String.init).joined(separator: ".") }
        return stride(from: 0, to: address.count, by: 2).map { String(UInt16(address[$0]) << 8 | UInt16(address[$0 + 1]), radix: 16) }
            .joined(separator: ":")
    }
}
