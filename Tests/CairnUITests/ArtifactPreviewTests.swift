import Testing

@testable import CairnUI

@Suite struct ArtifactPreviewTests {
    @Test func kindFollowsTheFileName() {
        #expect(ArtifactPreview.kind(ofFileNamed: "MLmodel") == .mlmodel)
        #expect(ArtifactPreview.kind(ofFileNamed: "metrics.JSON") == .json)
        #expect(ArtifactPreview.kind(ofFileNamed: "conda.yaml") == .yaml)
        #expect(ArtifactPreview.kind(ofFileNamed: "data.csv") == .csv)
        #expect(ArtifactPreview.kind(ofFileNamed: "plot.png") == .image)
        #expect(ArtifactPreview.kind(ofFileNamed: "model.pkl") == .binary)
        #expect(ArtifactPreview.kind(ofFileNamed: "notes.txt") == .text)
        #expect(ArtifactPreview.kind(ofFileNamed: "LICENSE") == .text)
    }

    @Test func bytesThatAreNotTextAreBinary() {
        #expect(ArtifactPreview.decodeText(Array("héllo".utf8), truncated: false) == "héllo")
        #expect(ArtifactPreview.decodeText([0x68, 0x00, 0x69], truncated: false) == nil)
        #expect(ArtifactPreview.decodeText([0xFF, 0xFE, 0x41], truncated: false) == nil)
        // A character cut by the read limit is not a sign of a binary file…
        let cut = Array("ab€".utf8).dropLast()
        #expect(ArtifactPreview.decodeText(Array(cut), truncated: true) == "ab")
        // …but it is at the real end of a file.
        #expect(ArtifactPreview.decodeText(Array(cut), truncated: false) == nil)
    }

    @Test func previewsReadNothingPastTheirLimits() {
        #expect(ArtifactPreview.bytesToRead(kind: .text, size: 10) == 10)
        #expect(ArtifactPreview.bytesToRead(kind: .text, size: ArtifactPreview.textLimit + 1) == nil)
        #expect(ArtifactPreview.bytesToRead(kind: .csv, size: 1 << 30) == ArtifactPreview.tableByteLimit)
        #expect(ArtifactPreview.bytesToRead(kind: .image, size: 10) == nil)
        #expect(ArtifactPreview.bytesToRead(kind: .binary, size: 10) == nil)
    }

    @Test func jsonIsIndentedInItsOwnOrder() {
        #expect(
            ArtifactPreview.prettyJSON(#"{"b":1,"a":[true,null,"x\"y"],"c":{}}"#) == """
                {
                  "b": 1,
                  "a": [
                    true,
                    null,
                    "x\\"y"
                  ],
                  "c": {}
                }
                """)
        #expect(ArtifactPreview.prettyJSON("{\"a\":1}\n{\"a\":2}") == "{\"a\":1}\n{\"a\":2}")
    }

    @Test func signatureRowsFromMLflowSchemaJSON() {
        let rows = SignatureTable.rows(
            fromSchemaJSON: #"[{"type": "double", "name": "sepal length (cm)", "required": true}, {"type": "long", "required": false}]"#)
        #expect(
            rows == [
                SignatureRow(name: "sepal length (cm)", type: "double", required: "yes"),
                SignatureRow(name: "#1", type: "long", required: "no"),
            ])
        let tensor = SignatureTable.rows(fromSchemaJSON: #"[{"type": "tensor", "tensor-spec": {"dtype": "int64", "shape": [-1]}}]"#)
        #expect(tensor == [SignatureRow(name: "#0", type: "tensor int64 (-1)", required: "yes")])
        #expect(SignatureTable.rows(fromSchemaJSON: "not json") == nil)
    }

    @Test func sizesInBinaryUnits() {
        #expect(UIFormat.bytes(512) == "512 B")
        #expect(UIFormat.bytes(1536) == "1.5 KiB")
        #expect(UIFormat.bytes(3 << 20) == "3.0 MiB")
    }
}
