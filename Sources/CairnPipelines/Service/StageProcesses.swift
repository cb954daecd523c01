import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Finds what a run's stages left running after the server that started them was killed.
///
/// Every stage process carries `CAIRN_RUN_ID` in its environment (the engine sets it, and
/// children inherit it), so a restarted server finds them by reading `/proc/<pid>/environ`
/// instead of trusting a pid recorded before the crash, which the system may have reused for
/// something else by now. Linux only; elsewhere nothing is found.
enum StageProcesses {
    /// SIGKILLs the process group of every process whose environment names `runID`; returns
    /// how many processes matched. Blocking: call it on the thread pool.
    static func kill(runID: String) -> Int {
        let marker = Array("CAIRN_RUN_ID=\(runID)".utf8)
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return 0 }
        let ownPID = getpid()
        var groups = Set<pid_t>()
        var matched = 0
        for entry in entries {
            guard let pid = pid_t(entry), pid != ownPID,
                let environment = FileManager.default.contents(atPath: "/proc/\(pid)/environ")
            else { continue }
            let found = environment.split(separator: 0, omittingEmptySubsequences: true).contains { Array($0) == marker }
            guard found else { continue }
            matched += 1
            let group = getpgid(pid)
            // Never our own group: a stage not put in a group of its own is killed alone.
            if group > 0, group != getpgrp() { groups.insert(group) } else { systemKill(pid, SIGKILL) }
        }
        for group in groups { systemKill(-group, SIGKILL) }
        return matched
    }
}
