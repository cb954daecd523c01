/// A named lease in the metadata database: the one place replicas on one database agree on
/// who does the work that must happen once.
///
/// The contract every implementation keeps:
/// - `acquire` is one atomic step: it succeeds when nobody holds the lease, when `holder`
///   already holds it (a renewal), or when the previous holder's lease has expired; it never
///   succeeds while another holder's lease is still running.
/// - Expiry is measured by the database's own clock, so replicas whose clocks disagree still
///   agree on when a lease ends; a successful `acquire` holds the lease for at least
///   `duration` from the moment the call was made.
/// - `release` gives the lease up at once (a graceful stop), and only if `holder` holds it.
/// - Nothing is ever released on behalf of a process that died: its lease simply expires.
public protocol LeaderLease: Sendable {
    /// Takes or renews the lease `name` for `holder`; true when `holder` holds it afterwards.
    func acquire(name: String, holder: String, duration: Duration) async throws -> Bool
    /// Gives the lease up if `holder` holds it.
    func release(name: String, holder: String) async throws
    /// Who holds the lease now (nil when nobody does, or the last lease has expired).
    func holder(name: String) async throws -> String?
}
