extension Migration {
    /// Roles (MLflow 3.17's RBAC, issue 15): a role is named within a workspace, holds grants on
    /// one resource or on every resource of a type (`*`), and is assigned to users. The
    /// uniqueness MLflow's store enforces is each table's: one name per workspace, one grant per
    /// (role, type, pattern), one assignment per (user, role). Ids are MLflow's small integers.
    static let roles = Migration(
        version: 12, name: "roles",
        statements: [
            """
            CREATE TABLE cairn_roles (
                role_id BIGINT PRIMARY KEY,
                name TEXT NOT NULL,
                workspace TEXT NOT NULL,
                description TEXT,
                UNIQUE (workspace, name)
            )
            """,
            """
            CREATE TABLE cairn_role_permissions (
                role_permission_id BIGINT PRIMARY KEY,
                role_id BIGINT NOT NULL REFERENCES cairn_roles(role_id) ON DELETE CASCADE,
                resource_type TEXT NOT NULL,
                resource_pattern TEXT NOT NULL,
                permission TEXT NOT NULL,
                UNIQUE (role_id, resource_type, resource_pattern)
            )
            """,
            """
            CREATE TABLE cairn_user_roles (
                assignment_id BIGINT PRIMARY KEY,
                user_id BIGINT NOT NULL REFERENCES cairn_users(user_id) ON DELETE CASCADE,
                role_id BIGINT NOT NULL REFERENCES cairn_roles(role_id) ON DELETE CASCADE,
                UNIQUE (user_id, role_id)
            )
            """,
            "CREATE INDEX cairn_user_roles_role ON cairn_user_roles (role_id)",
        ])
}
