import CairnCore
import Foundation
import Testing

@testable import CairnArtifacts

@Suite struct ArtifactPathTests {
    @Test(arguments: [
        ("a", ["a"]),
        ("1/0123abc/artifacts/model/MLmodel", ["1", "0123abc", "artifacts", "model", "MLmodel"]),
        ("dir/", ["dir"]),
        ("./a", ["a"]),
        ("a/./b", ["a", "b"]),
        ("", []),
        (".", []),
        ("dir with space/file (1).txt", ["dir with space", "file (1).txt"]),
        ("é/ü 😀.txt", ["é", "ü 😀.txt"]),
        ("100%.txt", ["100%.txt"]),
        ("x%zz", ["x%zz"]),
        ("50%2Fx", ["50%2Fx"]),
        ("...", ["..."]),
        ("a..b/..c/d..", ["a..b", "..c", "d.."]),
        (".hidden/.cairn-tmp", [".hidden", ".cairn-tmp"]),
        ("./", []),
        ("ab:c", ["ab:c"]),
        ("1/c:d", ["1", "c:d"]),
    ])
    func acceptsOrdinaryPaths(_ input: String, _ segments: [String]) throws {
        let path = try ArtifactPath(input)
        #expect(path.segments == segments)
        #expect(path.description == segments.joined(separator: "/"))
    }

    /// Each of these is a traversal, an absolute path, an encoding trick or a name the
    /// storage cannot hold. All get MLflow's exact refusal.
    @Test(arguments: [
        // Plain traversal.
        "..", "../x", "a/../b", "a/..", "a/b/../../..", "../../../../etc/passwd",
        // Absolute paths, POSIX, Windows and URIs.
        "/etc/passwd", "/", "//x", "C:x", "a:b", "c:/windows/win.ini", "file:///etc/passwd",
        // Empty segments inside a path.
        "a//b", "a/b//", "a/.//b",
        // Separators other than `/`.
        "\\etc\\passwd", "a\\b", "..\\x", "x/..\\..\\y",
        // NUL and control characters.
        "a\u{0}b", "a\u{0}/../../etc", "a\nb", "a\rb", "tab\there", "del\u{7F}",
        // Percent-encoded, mixed-case, partial and double-encoded traversal.
        "%2e%2e", "%2E%2E/x", "a/%2e%2e/b", "..%2f", "..%2fetc%2fpasswd", "%2e%2e%2f%2e%2e%2fetc",
        ".%2e/x", "%2e./x", "%252e%252e", "%252e%252e%252fetc", "%25252e%25252e/x",
        "..%252f..%252fetc", "%2fetc%2fpasswd", "%5c..%5c", "..%5cx", "a%00b", "a%0ab",
        // Overlong UTF-8 for `.` and `/`, invalid UTF-8 after decoding.
        "%c0%ae%c0%ae/x", "%c0%af", "%ff",
        // URI fragments (mlflow#11376) and their encodings.
        "a#b", "a/#/../x", "%23", "%2523",
        // Names reserved for in-flight uploads.
        ".cairn-tmp-0123456789abcdef", "a/.cairn-tmp-x/b",
    ])
    func refusesHostilePaths(_ input: String) {
        #expect(throws: ArtifactPath.invalid) { try ArtifactPath(input) }
    }

    @Test func refusesOverlongInput() {
        #expect(throws: ArtifactPath.invalid) { try ArtifactPath(String(repeating: "a", count: 256)) }
        #expect(throws: Never.self) { try ArtifactPath(String(repeating: "a", count: 255)) }
        let long = Array(repeating: String(repeating: "b", count: 200), count: 6).joined(separator: "/")
        #expect(long.utf8.count > ArtifactPath.maxLength)
        #expect(throws: ArtifactPath.invalid) { try ArtifactPath(long) }
    }

    @Test func refusesDeeplyEncodedTraversal() {
        var encoded = ".."
        for _ in 0..<12 { encoded = encoded.replacingOccurrences(of: "%", with: "%25").replacingOccurrences(of: ".", with: "%2e") }
        #expect(throws: ArtifactPath.invalid) { try ArtifactPath(encoded) }
        // Many rounds of encoding of a harmless name is refused as obfuscation, not decoded forever.
        var harmless = "a%41"
        for _ in 0..<12 { harmless = harmless.replacingOccurrences(of: "%", with: "%25") }
        #expect(throws: ArtifactPath.invalid) { try ArtifactPath(harmless) }
    }

    @Test func errorIsMLflowsInvalidPath() {
        #expect(ArtifactPath.invalid == CairnError(.invalidParameterValue, "Invalid path"))
        #expect(ArtifactPath.invalid.code.httpStatus == 400)
    }

    @Test func composes() throws {
        let run = try ArtifactPath("1/abc/artifacts")
        let file = try run.appending(ArtifactPath("model/MLmodel"))
        #expect(file.description == "1/abc/artifacts/model/MLmodel")
        #expect(file.name == "MLmodel")
        #expect(file.parent?.description == "1/abc/artifacts/model")
        #expect(file.hasPrefix(run))
        #expect(!run.hasPrefix(file))
        #expect(ArtifactPath.root.isRoot)
        #expect(ArtifactPath.root.parent == nil)
        #expect(try ArtifactPath("a/b/") == ArtifactPath("a/b"))
        let deep = try ArtifactPath(Array(repeating: String(repeating: "x", count: 100), count: 10).joined(separator: "/"))
        #expect(throws: ArtifactPath.invalid) { try deep.appending(ArtifactPath(String(repeating: "y", count: 100))) }
    }

    @Test func validSegments() {
        #expect(ArtifactPath.isValidSegment("model.pkl"))
        #expect(ArtifactPath.isValidSegment(".hidden"))
        for name in ["", ".", "..", "a/b", "a#b", "%2e%2e", ".cairn-tmp-1", "a\\b", "x\u{1}"] {
            #expect(!ArtifactPath.isValidSegment(name), "\(name)")
        }
    }

    /// Random strings over the characters that matter: whatever is accepted has only
    /// non-empty segments, none of them `..`, and no decoded form with a `..` segment either.
    @Test func randomInputNeverYieldsTraversal() {
        let alphabet: [Character] = [".", ".", "/", "%", "2", "e", "E", "5", "f", "F", "a", "\\", "c"]
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<20_000 {
            let length = Int.random(in: 0...12, using: &generator)
            let input = String((0..<length).map { _ in alphabet.randomElement(using: &generator)! })
            guard let path = try? ArtifactPath(input) else { continue }
            for segment in path.segments {
                #expect(!segment.isEmpty && segment != "." && segment != "..", "\(input)")
            }
            var layer = Array(input.utf8)
            while let decoded = ArtifactPath.percentDecoded(layer) {
                let segments = decoded.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
                #expect(!segments.contains { $0.elementsEqual("..".utf8) }, "\(input)")
                #expect(decoded.first != UInt8(ascii: "/"), "\(input)")
                layer = decoded
            }
        }
    }
}
