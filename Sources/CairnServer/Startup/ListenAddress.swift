import CairnCore
import Foundation
import NIOCore
import NIOPosix

/// The address a server listens on, checked before anything slow or stateful happens
/// (migrations, model downloads), so a bad or busy port is reported at once and by name.
public struct ListenAddress: Sendable, CustomStringConvertible {
    public let host: String
    public let port: Int

    /// Refuses ports outside 0…65535: the socket layer keeps only the low 16 bits, so 80000
    /// would quietly listen on 14464. Port 0 asks the system for a free port.
    public init(host: String, port: Int) throws(CairnError) {
        guard (0...65_535).contains(port) else {
            throw CairnError.invalidParameter("Port \(port) is out of range: use 1-65535 (or 0 for a free port the system picks).")
        }
        self.host = host
        self.port = port
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// Binds the address and lets it go again. The server binds it for real moments later;
    /// a port taken in between still fails there, but the usual case (another server already
    /// on it) is caught here, before the database or the models are touched.
    public func checkAvailable() async throws(CairnError) {
        guard port != 0 else { return }
        do {
            // The same event loop group and socket option Hummingbird binds with.
            let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .bind(host: host, port: port).get()
            try await channel.close()
        } catch let error as IOError where error.errnoCode == EADDRINUSE {
            throw CairnError(
                .resourceConflict,
                "Cannot listen on \(self): the port is already in use (another cairn server?). Stop that process or choose another --port.")
        } catch {
            throw CairnError(.invalidParameterValue, "Cannot listen on \(self): \(Self.reason(error)).")
        }
    }

    /// A socket error in words: the system's text for an errno, else the error's own.
    static func reason(_ error: any Error) -> String {
        if let error = error as? IOError { return String(cString: strerror(error.errnoCode)).lowercased() }
        return "\(error)"
    }
}
