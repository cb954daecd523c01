import CairnCore
import Foundation

/// Makes sure a directory the server writes in exists and is writable, and otherwise says in
/// one line which path cannot be used and why (instead of Foundation's error dump).
public enum DataDirectory {
    /// Creates `path` and its missing parents. `role` names it in the error ("data directory").
    public static func prepare(_ path: String, role: String) throws(CairnError) {
        let absolute = absolutePath(path)
        var prefix = absolute.hasPrefix("/") ? "" : "."
        for component in absolute.split(separator: "/") {
            prefix += "/" + component
            if mkdir(prefix, 0o755) == 0 { continue }
            let code = errno
            var info = stat()
            if code == EEXIST, stat(prefix, &info) == 0 {
                if info.st_mode & S_IFMT == S_IFDIR { continue }
                throw failure(path, role, "\(prefix) is a file, not a directory")
            }
            throw failure(path, role, "cannot create \(prefix): \(describe(code))")
        }
        // As root, access() still reports a read-only file system.
        guard access(absolute, W_OK | X_OK) == 0 else {
            throw failure(path, role, "it is not writable: \(describe(errno))")
        }
    }

    /// `path` made absolute against the working directory, for messages and locks.
    public static func absolutePath(_ path: String) -> String {
        URL(fileURLWithPath: path).standardizedFileURL.path
    }

    static func failure(_ path: String, _ role: String, _ why: String) -> CairnError {
        CairnError(.invalidParameterValue, "Cannot use \(absolutePath(path)) as the \(role): \(why).")
    }

    static func describe(_ code: Int32) -> String {
        String(cString: strerror(code)).lowercased()
    }
}
