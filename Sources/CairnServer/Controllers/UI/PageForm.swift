import CairnCore
import Foundation
import Hummingbird
import NIOCore

/// A submitted HTML form (`application/x-www-form-urlencoded`), read under a limit and accepted
/// only with its CSRF token: the double-submit pattern, where the page sets a random
/// `cairn_csrf` cookie (HttpOnly, SameSite=Strict, scoped to the UI) and puts the same value in
/// each form's hidden `csrf_token`; another site can make a browser send the cookie but cannot
/// read it to fill in the field. The host and origin checks in front of every write still apply.
public struct PageForm: Sendable {
    static let cookieName = "cairn_csrf"
    static let fieldName = "csrf_token"
    /// Far above any form a page has (a description is the longest field), far below the API's.
    public static let limit = RequestBodyLimit(bytes: 256 * 1024)

    /// Each field's values in the order sent.
    public private(set) var fields: [String: [String]]

    init(fields: [String: [String]]) {
        self.fields = fields
    }

    /// The form of `request`, refused with 415 for another content type, 413 past the limit,
    /// 400 for text that does not decode and 403 when the CSRF token is missing or wrong.
    public static func read(_ request: Request, limit: RequestBodyLimit = PageForm.limit) async throws -> PageForm {
        let type = request.headers[.contentType]?.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        guard type == "application/x-www-form-urlencoded" else {
            throw CairnError(.unsupportedMediaType, "A form must be sent as application/x-www-form-urlencoded.")
        }
        let body = try await limit.collect(request.body)
        let form = try parse(String(buffer: body))
        try form.checkToken(against: request)
        return form
    }

    /// The query string of a page's URL as fields, decoded leniently as Werkzeug decodes
    /// MLflow's (a malformed escape stays as written): a link is never refused for its encoding.
    public static func query(of request: Request) -> PageForm {
        var fields: [String: [String]] = [:]
        for pair in (request.uri.query ?? "").split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let value = parts.count > 1 ? PercentDecoding.decodeLeniently(parts[1], mode: .form) : ""
            fields[PercentDecoding.decodeLeniently(parts[0], mode: .form), default: []].append(value)
        }
        return PageForm(fields: fields)
    }

    /// `a=1&b=x+y` → fields; strict: a malformed escape or bytes that are not UTF-8 refuse the form.
    static func parse(_ text: String) throws(CairnError) -> PageForm {
        var fields: [String: [String]] = [:]
        for pair in text.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            do {
                let name = try PercentDecoding.decode(parts[0], mode: .form)
                let value = parts.count > 1 ? try PercentDecoding.decode(parts[1], mode: .form) : ""
                fields[name, default: []].append(value)
            } catch {
                throw CairnError(.badRequest, "The form is not valid URL-encoded UTF-8 text.")
            }
        }
        return PageForm(fields: fields)
    }

    func checkToken(against request: Request) throws(CairnError) {
        guard let expected = Self.csrfCookie(of: request), let sent = fields[Self.fieldName]?.first,
            Self.constantTimeEqual(Array(expected.utf8), Array(sent.utf8))
        else {
            throw CairnError(
                .permissionDenied,
                "The form's security token is missing or does not match this browser's; reload the page and send the form again.")
        }
    }

    /// The field's first value, nil when absent.
    public func string(_ name: String) -> String? {
        fields[name]?.first
    }

    /// The field's first value, trimmed; a missing or blank field is refused with `label` named.
    public func required(_ name: String, label: String? = nil) throws(CairnError) -> String {
        guard let value = string(name)?.trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty else {
            throw CairnError.invalidParameter("\(label ?? name) must not be empty.")
        }
        return value
    }

    /// The browser's CSRF token, when it holds a well-formed one (32 lowercase hex digits, as
    /// `CairnID` makes them); anything else is ignored and replaced.
    public static func csrfCookie(of request: Request) -> String? {
        guard let value = request.cookies[cookieName]?.value, value.utf8.count == 32,
            value.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) })
        else { return nil }
        return value
    }

    static func cookie(token: String, staticPrefix: String) -> Cookie {
        Cookie(name: cookieName, value: token, path: staticPrefix + "/", httpOnly: true, sameSite: .strict)
    }

    /// Equality whose time depends on the length only, so a token cannot be guessed byte by byte.
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }
}
