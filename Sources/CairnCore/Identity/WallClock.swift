import Foundation

/// The current time in milliseconds since the Unix epoch, MLflow's unit for every timestamp.
/// Stores, monitors and the inference log are given one instead of reading the system clock,
/// so a test can set the time and every timestamp of one operation comes from one place.
public typealias WallClock = @Sendable () -> Int64

public enum SystemClock {
    public static let now: WallClock = { Int64(Date().timeIntervalSince1970 * 1000) }
}
