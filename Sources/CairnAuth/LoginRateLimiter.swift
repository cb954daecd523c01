import Synchronization

/// Counts failed logins per key (a username, an address) and locks a key out once it has
/// failed `limit` times within `window`: further attempts are refused without checking the
/// password until the lockout passes, so guessing costs the attacker time, not the server CPU.
public final class LoginRateLimiter: Sendable {
    public let limit: Int
    public let window: Duration
    public let lockout: Duration

    struct Record {
        var failures: [ContinuousClock.Instant] = []
        var lockedUntil: ContinuousClock.Instant?
    }

    let records = Mutex<[String: Record]>([:])
    /// Bounds the table: an address flood cannot grow it without limit.
    let capacity: Int

    public init(limit: Int = 10, window: Duration = .seconds(60), lockout: Duration = .seconds(300), capacity: Int = 100_000) {
        self.limit = limit
        self.window = window
        self.lockout = lockout
        self.capacity = capacity
    }

    /// Whether any of `keys` is locked out now.
    public func isLocked(_ keys: [String], now: ContinuousClock.Instant = .now) -> Bool {
        records.withLock { records in
            keys.contains { key in
                guard let until = records[key]?.lockedUntil else { return false }
                return until > now
            }
        }
    }

    /// Records one failure against each key, locking those that reach the limit.
    public func recordFailure(_ keys: [String], now: ContinuousClock.Instant = .now) {
        records.withLock { records in
            if records.count >= capacity { records = records.filter { entry in entry.value.lockedUntil.map { $0 > now } ?? false } }
            for key in keys {
                var record = records[key] ?? Record()
                record.failures.removeAll { now - $0 > window }
                record.failures.append(now)
                if record.failures.count >= limit {
                    record.lockedUntil = now + lockout
                    record.failures.removeAll()
                }
                records[key] = record
            }
        }
    }

    /// A successful login forgets the user's failures (not the address's: one good password
    /// from an address must not reopen guessing at other users from it).
    public func recordSuccess(_ key: String) {
        _ = records.withLock { $0.removeValue(forKey: key) }
    }
}
