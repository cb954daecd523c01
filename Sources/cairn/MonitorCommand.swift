import ArgumentParser
import CairnClient
import CairnCore
import CairnMonitor
import Foundation
import Logging

struct MonitorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "monitor",
        abstract: "Reference profiles, reports and the inference log of a cairn server's monitors.",
        subcommands: [MonitorReferenceCommand.self, MonitorReportCommand.self, MonitorLogCommand.self]
    )
}

/// The tracking server option every `cairn monitor` subcommand takes.
struct TrackingServerOptions: ParsableArguments {
    @Option(help: "The cairn server (default: $MLFLOW_TRACKING_URI).")
    var trackingUri: String?

    /// A client of a server that is up; retries are logged to standard error, which keeps
    /// standard output for `--out -`.
    func client() async throws -> CairnClient {
        let logger = Logger(label: "cairn", factory: { StreamLogHandler.standardError(label: $0) })
        let client = try CairnClient(try ClientConfiguration.fromEnvironment(trackingURI: trackingUri), logger: logger)
        try await client.checkReachable()
        return client
    }
}

/// Writes `bytes` to `path` through a temp file and a rename, so a reader never sees half
/// a file; `-` writes to standard output.
func writeOutput(_ bytes: [UInt8], to path: String) throws {
    if path == "-" {
        do {
            try FileHandle.standardOutput.write(contentsOf: bytes)
        } catch {
            try exitQuietlyOnBrokenPipe(error)
        }
        return
    }
    do {
        try Data(bytes).write(to: URL(fileURLWithPath: path), options: .atomic)
    } catch {
        throw cannotWrite(path, error)
    }
}

/// A failed write to `path` in one line: the path and the system's reason ("No such file or
/// directory"), not Foundation's error domain and code.
func cannotWrite(_ path: String, _ error: any Error) -> CairnError {
    let nsError = error as NSError
    let underlying = (nsError.userInfo[NSUnderlyingErrorKey] as? any Error).map { $0 as NSError }
    let posix = [nsError, underlying].compactMap { $0 }.first { $0.domain == NSPOSIXErrorDomain }
    let reason =
        posix.map { String(cString: strerror(Int32($0.code))) } ?? (error as? POSIXError).map {
            String(cString: strerror($0.code.rawValue))
        } ?? nsError.localizedDescription
    return CairnError.invalidParameter("Cannot write \(path): \(reason).")
}

/// A reader that stops early (`cairn monitor log | head`) closes the pipe: like any Unix
/// filter, stop without a word instead of reporting the failed write. Any other error is
/// rethrown.
func exitQuietlyOnBrokenPipe(_ error: any Error) throws -> Never {
    let underlying = (error as NSError).userInfo[NSUnderlyingErrorKey] as? NSError
    if (error as? POSIXError)?.code == .EPIPE || (underlying?.domain == NSPOSIXErrorDomain && underlying?.code == Int(EPIPE)) {
        exit(0)
    }
    throw error
}
