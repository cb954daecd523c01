import CairnCore
import Foundation

/// MLflow's basic-auth configuration file (`basic_auth.ini`, which `MLFLOW_AUTH_CONFIG_PATH`
/// names), so a team's existing file configures `cairn server --auth` unchanged. One
/// `[mlflow]` section of `key = value` lines (`key: value` too; `#` and `;` start a comment
/// line; keys are case-insensitive), as Python's `configparser` reads it.
///
/// Read here: `default_permission`, `admin_username`, `admin_password`, and Cairn's own
/// `protected_aliases` (comma-separated). MLflow's keys with no meaning in Cairn are accepted
/// and listed in `ignoredKeys`, so start-up can say so: the user database (`database_uri`,
/// `read_database_uri`: Cairn keeps users in its metadata database), workspaces and MLflow's
/// caches. An `authorization_function` other than MLflow's Basic one is refused, since a
/// Python function cannot run here; so is any other key or section, with its line: a typo in
/// a security setting must not pass silently.
public struct AuthConfigFile: Sendable, Equatable {
    public var defaultPermission: Permission?
    public var adminUsername: String?
    public var adminPassword: String?
    public var protectedAliases: [String]?
    public var ignoredKeys: [String] = []

    public init(
        defaultPermission: Permission? = nil, adminUsername: String? = nil, adminPassword: String? = nil,
        protectedAliases: [String]? = nil, ignoredKeys: [String] = []
    ) {
        self.defaultPermission = defaultPermission
        self.adminUsername = adminUsername
        self.adminPassword = adminPassword
        self.protectedAliases = protectedAliases
        self.ignoredKeys = ignoredKeys
    }

    static let mlflowAuthorizationFunction = "mlflow.server.auth:authenticate_request_basic_auth"
    static let ignorable: Set<String> = [
        "database_uri", "read_database_uri", "grant_default_workspace_access", "workspace_cache_max_size",
        "workspace_cache_ttl_seconds", "auth_cache_max_size", "auth_cache_ttl_seconds",
    ]

    /// - Parameter path: named in every error, with the line.
    public static func parse(_ text: String, path: String) throws(CairnError) -> AuthConfigFile {
        var config = AuthConfigFile()
        var section: String?
        var seen: Set<String> = []
        for (offset, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let number = offset + 1
            func refuse(_ reason: String) -> CairnError { CairnError.invalidParameter("\(path):\(number): \(reason)") }
            let line = rawLine.trimmingCharacters(in: .whitespacesAndNewlines)
            // Comments may be indented, as configparser reads them.
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if rawLine.first == " " || rawLine.first == "\t" {
                throw refuse("an indented line continues the previous value in configparser; write each value on one line")
            }
            if line.hasPrefix("[") {
                guard line.hasSuffix("]") else { throw refuse("a section header must end with ']'") }
                let name = String(line.dropFirst().dropLast())
                guard name == "mlflow" else { throw refuse("unknown section [\(name)]: the settings go in [mlflow]") }
                section = name
                continue
            }
            guard section != nil else { throw refuse("a setting before the [mlflow] section header") }
            guard let separator = line.firstIndex(where: { $0 == "=" || $0 == ":" }) else {
                throw refuse("expected 'key = value'")
            }
            let key = line[..<separator].trimmingCharacters(in: .whitespaces).lowercased()
            let value = line[line.index(after: separator)...].trimmingCharacters(in: .whitespaces)
            guard !key.isEmpty else { throw refuse("a setting without a key") }
            guard seen.insert(key).inserted else { throw refuse("'\(key)' is set twice") }
            switch key {
            case "default_permission":
                guard let permission = Permission(rawValue: value.uppercased()), permission != .deny else {
                    throw refuse("default_permission must be one of READ, USE, EDIT, MANAGE, NO_PERMISSIONS, not '\(value)'")
                }
                config.defaultPermission = permission
            case "admin_username":
                config.adminUsername = value.isEmpty ? nil : value
            case "admin_password":
                config.adminPassword = value.isEmpty ? nil : value
            case "protected_aliases":
                config.protectedAliases = value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            case "authorization_function":
                guard value == mlflowAuthorizationFunction else {
                    throw refuse(
                        "authorization_function '\(value)' cannot run in Cairn, which authenticates with HTTP Basic and access tokens "
                            + "(MLflow's \(mlflowAuthorizationFunction))")
                }
            case let other where ignorable.contains(other):
                config.ignoredKeys.append(other)
            default:
                throw refuse("unknown setting '\(key)'")
            }
        }
        guard section != nil else { throw CairnError.invalidParameter("\(path): no [mlflow] section") }
        return config
    }
}
