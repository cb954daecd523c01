extension UITemplates {
    /// `cairn server --auth`'s sign-in and sign-out pages (`LoginView`).
    static let auth: [(name: String, source: String)] = [
        (
            "login",
            #"""
            <div class="page-head"><div><h1>Sign in</h1></div></div>
            <div class="card">
            {{> error_notice}}
            <form method="post" action="{{prefix}}/login">
            {{> csrf_field}}
            <input type="hidden" name="next" value="{{next}}">
            <p><label>Username <input name="username" value="{{username}}" autocomplete="username" required autofocus></label></p>
            <p><label>Password <input name="password" type="password" autocomplete="current-password" required></label></p>
            <p><button type="submit">Sign in</button></p>
            </form>
            </div>
            """#
        ),
        (
            "logout",
            #"""
            <div class="page-head"><div><h1>Sign out</h1></div></div>
            <div class="card">
            {{#username}}<p>Signed in as <strong>{{username}}</strong>.</p>{{/username}}
            <form method="post" action="{{prefix}}/logout">
            {{> csrf_field}}
            <p><button type="submit">Sign out</button></p>
            </form>
            </div>
            """#
        ),
    ]
}

/// The sign-in and sign-out pages' view model.
public struct LoginView: Sendable {
    /// Where to go once signed in: a path of the UI.
    public var next: String
    public var username: String
    public var error: String?

    public init(next: String, username: String, error: String? = nil) {
        self.next = next
        self.username = username
        self.error = error
    }
}
