import Foundation
import Testing

@testable import CairnONNX

/// Runs every committed fixture model on its inputs and compares with the
/// outputs onnxruntime produced for them (see Fixtures/generate.py).
@Suite struct FixtureTests {
    @Test func fixturesArePresent() {
        #expect(Fixtures.cases.count >= 40, "expected the generated fixtures in \(Fixtures.directory)")
    }

    @Test(arguments: Fixtures.cases)
    func matchesOnnxruntime(_ name: String) throws {
        let model = try ONNXModel(contentsOf: Fixtures.path(name + ".onnx"))
        let fixture = try Fixtures.load(name)
        let results = try model.run(fixture.feeds)
        #expect(results.count == fixture.expected.count)
        for (output, expected) in fixture.expected {
            let actual = try #require(results[output], "no output '\(output)'")
            if expected["kind"] as? String == "maps" {
                try compareMaps(actual, expected, output)
            } else {
                guard case .tensor(let tensor) = actual else {
                    Issue.record("output '\(output)' is not a tensor")
                    continue
                }
                try compareTensor(tensor, try Fixtures.tensor(expected), output)
            }
        }
    }

    private func compareTensor(_ actual: ONNXTensor, _ expected: ONNXTensor, _ name: String) throws {
        #expect(actual.shape == expected.shape, "shape of '\(name)'")
        #expect(actual.elementType == expected.elementType, "type of '\(name)'")
        switch (actual.storage, expected.storage) {
        case (.float(let a), .float(let e)):
            compareReals(a.map(Double.init), e.map(Double.init), name)
        case (.double(let a), .double(let e)):
            compareReals(a, e, name)
        default:
            #expect(actual.storage == expected.storage, "values of '\(name)'")
        }
    }

    private func compareReals(_ actual: [Double], _ expected: [Double], _ name: String) {
        guard actual.count == expected.count else {
            Issue.record("'\(name)' has \(actual.count) values, expected \(expected.count)")
            return
        }
        for i in actual.indices where !closeEnough(actual[i], expected[i]) {
            Issue.record("'\(name)'[\(i)] = \(actual[i]), onnxruntime gave \(expected[i])")
        }
    }

    private func compareMaps(_ actual: ONNXValue, _ expected: [String: Any], _ name: String) throws {
        let rows = try #require(expected["data"] as? [[[Any]]])
        guard case .sequenceOfMaps(let maps) = actual else {
            Issue.record("output '\(name)' is not a sequence of maps")
            return
        }
        #expect(maps.count == rows.count, "rows of '\(name)'")
        for (r, pairs) in rows.enumerated() where r < maps.count {
            for pair in pairs {
                let value = try Fixtures.real(pair[1])
                let got: Float?
                switch maps {
                case .int64Keys(let m): got = m[r][try #require((pair[0] as? NSNumber)?.int64Value)]
                case .stringKeys(let m): got = m[r][try #require(pair[0] as? String)]
                }
                guard let got else {
                    Issue.record("'\(name)' row \(r) lacks key \(pair[0])")
                    continue
                }
                #expect(closeEnough(Double(got), value), "'\(name)' row \(r) key \(pair[0]): \(got) vs \(value)")
            }
            let size =
                switch maps {
                case .int64Keys(let m): m[r].count
                case .stringKeys(let m): m[r].count
                }
            #expect(size == pairs.count, "'\(name)' row \(r) has \(size) keys")
        }
    }
}
