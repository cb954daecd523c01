import CairnCore
import CairnTabular
import Testing

@testable import CairnServing

@Suite struct ModelSignatureTests {
    let signature = try! ModelSignature.parse(
        inputsJSON:
            #"[{"type": "double", "name": "x", "required": true}, {"type": "long", "name": "n", "required": true}, {"type": "string", "name": "s", "required": false}]"#
    )!

    @Test func conformReordersWidensAndDropsExtras() throws {
        let frame = DataFrame(columns: [
            Column(name: "extra", values: .int64([9])),
            Column(name: "n", values: .double([2])),
            Column(name: "x", values: .int64([1])),
        ])
        let conformed = try signature.conform(frame, positional: false)
        #expect(conformed.columnNames == ["x", "n", "s"])
        #expect(conformed.columns[0].values == .double([1]))
        #expect(conformed.columns[1].values == .int64([2]))
        #expect(conformed.columns[2].values == .string([nil]))
    }

    @Test func missingColumnIsNamed() {
        let frame = DataFrame(columns: [Column(name: "x", values: .double([1]))])
        do {
            _ = try signature.conform(frame, positional: false)
            Issue.record("expected an error")
        } catch {
            #expect(error.code == .invalidParameterValue)
            #expect(error.message.contains("'n'"))
        }
    }

    @Test func wrongTypeNamesTheColumn() {
        let frame = DataFrame(columns: [Column(name: "x", values: .string(["a"])), Column(name: "n", values: .int64([1]))])
        do {
            _ = try signature.conform(frame, positional: false)
            Issue.record("expected an error")
        } catch {
            #expect(error.message.contains("'x'"))
        }
        let fractional = DataFrame(columns: [Column(name: "x", values: .double([1])), Column(name: "n", values: .double([1.5]))])
        #expect(throws: CairnError.self) { try signature.conform(fractional, positional: false) }
    }

    @Test func positionalNeedsTheRightWidth() throws {
        let frame = DataFrame(columns: [
            Column(name: "0", values: .double([1])), Column(name: "1", values: .int64([2])), Column(name: "2", values: .string(["s"])),
        ])
        #expect(try signature.conform(frame, positional: true).columnNames == ["x", "n", "s"])
        #expect(throws: CairnError.self) { try signature.conform(DataFrame(columns: [frame.columns[0]]), positional: true) }
    }
}

extension ModelSignatureTests {
    /// The output side and the input example are read for showing only: an output schema that
    /// does not parse leaves the model loadable, and an example path outside the model
    /// directory is not taken.
    @Test func outputsAndTheInputExampleAreReadForShowing() throws {
        let model = try MLmodel(
            yaml: """
                flavors: {python_function: {loader_module: mlflow.sklearn}}
                saved_input_example_info: {artifact_path: input_example.json, type: dataframe}
                signature:
                  inputs: '[{"type": "double", "name": "a"}]'
                  outputs: '[{"type": "long", "required": true}]'
                """)
        #expect(model.outputSignature == ModelSignature(inputs: .columns([.init(name: nil, type: "long", required: true)])))
        #expect(model.inputExamplePath == "input_example.json")
        let odd = try MLmodel(
            yaml: """
                flavors: {python_function: {loader_module: mlflow.sklearn}}
                saved_input_example_info: {artifact_path: ../../secrets.json}
                signature:
                  inputs: '[{"type": "double", "name": "a"}]'
                  outputs: 'not json'
                """)
        #expect(odd.outputSignature == nil)
        #expect(odd.inputExamplePath == nil)
        #expect(odd.signature != nil)
    }
}
