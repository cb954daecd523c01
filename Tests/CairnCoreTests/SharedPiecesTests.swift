import Testing

@testable import CairnCore

@Suite struct PercentDecodingTests {
    @Test func plusIsASpaceInFormsAndLiteralInPaths() throws {
        #expect(try PercentDecoding.decode("a+b%2Bc", mode: .form) == "a b+c")
        #expect(try PercentDecoding.decode("a+b%2Bc", mode: .path) == "a+b+c")
        #expect(try PercentDecoding.decode("%2F..%2fx", mode: .path) == "/../x")
        #expect(try PercentDecoding.decode("", mode: .form) == "")
    }

    @Test func decodesUTF8AcrossEscapes() throws {
        #expect(try PercentDecoding.decode("caf%C3%A9%20%F0%9F%98%80", mode: .form) == "café 😀")
        #expect(try PercentDecoding.decode("é", mode: .path) == "é")
    }

    @Test(arguments: ["%", "%4", "a%zz", "%g0", "100%", "%%41"])
    func malformedEscapesAreRefusedStrictly(text: String) {
        #expect(throws: PercentDecoding.Failure.malformedEscape) { try PercentDecoding.decode(text, mode: .form) }
        #expect(throws: PercentDecoding.Failure.malformedEscape) { try PercentDecoding.decode(text, mode: .path) }
    }

    @Test(arguments: ["%FF", "%C3", "%C0%AE", "%ED%A0%80"])
    func bytesThatAreNotUTF8AreRefused(text: String) {
        #expect(throws: PercentDecoding.Failure.invalidUTF8) { try PercentDecoding.decode(text, mode: .path) }
    }

    @Test func unquoteKeepsMalformedEscapesAsPythonDoes() {
        #expect(PercentDecoding.unquote(Array("100%+%41%4".utf8), mode: .path) == Array("100%+A%4".utf8))
        #expect(PercentDecoding.unquote(Array("a+%2".utf8), mode: .form) == Array("a %2".utf8))
        #expect(PercentDecoding.unquote(Array("%FF".utf8), mode: .path) == [0xFF])
    }
}

@Suite struct CairnIDTests {
    @Test func idsAre32LowercaseHexDigitsAndDistinct() {
        let ids = (0..<1000).map { _ in CairnID.make() }
        for id in ids {
            #expect(id.utf8.count == 32)
            #expect(
                id.utf8.allSatisfy {
                    (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains($0)
                })
        }
        #expect(Set(ids).count == ids.count)
        // Both halves vary (a generator that filled only one word would repeat the other).
        #expect(Set(ids.map { $0.prefix(16) }).count > 1 && Set(ids.map { $0.suffix(16) }).count > 1)
    }

    @Test func prefixedIDs() {
        let id = CairnID.make(prefix: "m-")
        #expect(id.hasPrefix("m-") && id.utf8.count == 34)
    }
}

@Suite struct HTMLTextTests {
    @Test func escapesMarkupAndControlCharacters() {
        #expect(HTMLText.escape(#"<a href="x">'&'</a>"#) == "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;")
        #expect(HTMLText.escape("a\u{1}b\nc") == "a\u{FFFD}b\nc")
    }
}
