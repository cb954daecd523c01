import CairnCore
import Testing

@testable import CairnAuth

/// MLflow's basic_auth.ini read for `cairn server --auth-config`.
@Suite struct AuthConfigFileTests {
    /// MLflow 3.17's own sample file, with a password filled in: every key is known.
    static let mlflowSample = """
        [mlflow]
        default_permission = READ
        database_uri = sqlite:///basic_auth.db
        admin_username = admin
        # MLflow ships no default admin password.
        admin_password = a long admin password
        authorization_function = mlflow.server.auth:authenticate_request_basic_auth
        # When true, users inherit default_permission for the reserved 'default' workspace.
        grant_default_workspace_access = false
        # auth_cache_max_size = 10000
        """

    @Test func mlflowsSampleFileIsReadAndItsUnusedKeysListed() throws {
        let file = try AuthConfigFile.parse(Self.mlflowSample, path: "basic_auth.ini")
        #expect(file.defaultPermission == .read)
        #expect(file.adminUsername == "admin")
        #expect(file.adminPassword == "a long admin password")
        #expect(file.protectedAliases == nil)
        #expect(file.ignoredKeys == ["database_uri", "grant_default_workspace_access"])
    }

    @Test func configparsersSpellingsAndCairnsOwnKey() throws {
        let text =
            "; a comment\n\n[mlflow]\nDefault_Permission: no_permissions\n  # an indented comment\nadmin_password =\nprotected_aliases = champion, prod ,,\n"
        let file = try AuthConfigFile.parse(text, path: "a.ini")
        #expect(file.defaultPermission == .noPermissions)
        // An empty value is no value: the admin's password must then come from the environment.
        #expect(file.adminPassword == nil)
        #expect(file.protectedAliases == ["champion", "prod"])
    }

    @Test(arguments: [
        ("[mlflow]\ndefault_permision = READ\n", "a.ini:2: unknown setting 'default_permision'"),
        ("[mlflow]\ndefault_permission = DENY\n", "a.ini:2: default_permission must be one of"),
        ("[mlflow]\ndefault_permission = ADMIN\n", "a.ini:2: default_permission must be one of"),
        ("[mlflow]\nauthorization_function = my.module:check\n", "a.ini:2: authorization_function 'my.module:check' cannot run"),
        ("[mlflow]\nadmin_username = a\nadmin_username = b\n", "a.ini:3: 'admin_username' is set twice"),
        ("[auth]\nadmin_username = a\n", "a.ini:1: unknown section [auth]"),
        ("admin_username = a\n", "a.ini:1: a setting before the [mlflow] section header"),
        ("[mlflow]\nadmin_password\n", "a.ini:2: expected 'key = value'"),
        ("[mlflow]\nadmin_password = a\n  continued\n", "a.ini:3: an indented line continues"),
        ("[mlflow\n", "a.ini:1: a section header must end with ']'"),
        ("# nothing\n", "a.ini: no [mlflow] section"),
    ])
    func refusalsNameTheFileLineAndReason(_ text: String, _ message: String) {
        #expect {
            _ = try AuthConfigFile.parse(text, path: "a.ini")
        } throws: { error in
            guard let error = error as? CairnError else { return false }
            return error.code == .invalidParameterValue && error.message.hasPrefix(message)
        }
    }

    /// The environment overrides the file, as MLflow's `read_auth_config` does.
    @Test func theEnvironmentOverridesTheFilesAdmin() throws {
        let file = try AuthConfigFile.parse(Self.mlflowSample, path: "basic_auth.ini")
        let fromFile = AdminBootstrap.Settings.fromEnvironment([:], file: file)
        #expect(fromFile.username == "admin" && fromFile.password == "a long admin password")
        let overridden = AdminBootstrap.Settings.fromEnvironment(
            ["MLFLOW_AUTH_ADMIN_USERNAME": "root", "CAIRN_ADMIN_PASSWORD": "another long password"], file: file)
        #expect(overridden.username == "root" && overridden.password == "another long password")
        // A variable set but empty wins too, as in MLflow: an empty injected secret refuses the
        // start rather than fall back to the file.
        #expect(AdminBootstrap.Settings.fromEnvironment(["MLFLOW_AUTH_ADMIN_PASSWORD": ""], file: file).password == nil)
        #expect(AdminBootstrap.Settings.fromEnvironment(["MLFLOW_AUTH_ADMIN_USERNAME": ""], file: file).username == "")
        #expect(AdminBootstrap.Settings.fromEnvironment([:]).username == "admin")
    }
}
