import Foundation
import Testing

@testable import CairnONNX

/// Locates the committed fixtures next to this file (not via Bundle
/// resources, which the test target excludes).
enum Fixtures {
    static let directory: String = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()
        .appendingPathComponent("Fixtures").path

    static func path(_ file: String) -> String { directory + "/" + file }

    static func bytes(_ file: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: path(file))))
    }

    /// Every case generate.py wrote (one .json per case).
    static let cases: [String] = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
        .filter { $0.hasSuffix(".json") }
        .map { String($0.dropLast(5)) }
        .sorted()

    struct Case {
        let feeds: [String: ONNXTensor]
        let expected: [(name: String, value: [String: Any])]
    }

    static func load(_ name: String) throws -> Case {
        let data = try Data(contentsOf: URL(fileURLWithPath: path(name + ".json")))
        let document = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let inputs = try #require(document["inputs"] as? [[String: Any]])
        let outputs = try #require(document["outputs"] as? [[String: Any]])
        var feeds: [String: ONNXTensor] = [:]
        for input in inputs {
            feeds[try #require(input["name"] as? String)] = try tensor(input)
        }
        return Case(feeds: feeds, expected: try outputs.map { (try #require($0["name"] as? String), $0) })
    }

    static func tensor(_ json: [String: Any]) throws -> ONNXTensor {
        let shape = try #require(json["shape"] as? [Int])
        let data = try #require(json["data"] as? [Any])
        switch try #require(json["dtype"] as? String) {
        case "float": return ONNXTensor(shape: shape, floats: try data.map { Float(try real($0)) })
        case "double": return ONNXTensor(shape: shape, doubles: try data.map(real))
        case "int64": return ONNXTensor(shape: shape, int64s: try data.map { try #require(($0 as? NSNumber)?.int64Value) })
        case "int32": return ONNXTensor(shape: shape, int32s: try data.map { try #require(($0 as? NSNumber)?.int32Value) })
        case "bool": return ONNXTensor(shape: shape, bools: try data.map { try #require(($0 as? NSNumber)?.boolValue) })
        case "string": return ONNXTensor(shape: shape, strings: try data.map { try #require($0 as? String) })
        case let other: throw FixtureError("unknown dtype \(other)")
        }
    }

    /// Numbers, with NaN and the infinities spelled as strings.
    static func real(_ value: Any) throws -> Double {
        switch value {
        case let s as String where s == "NaN": return .nan
        case let s as String where s == "Infinity": return .infinity
        case let s as String where s == "-Infinity": return -.infinity
        case let n as NSNumber: return n.doubleValue
        default: throw FixtureError("not a number: \(value)")
        }
    }
}

struct FixtureError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// |actual - expected| ≤ max(1e-5·|expected|, 1e-6), with NaN equal to NaN.
func closeEnough(_ actual: Double, _ expected: Double) -> Bool {
    if expected.isNaN { return actual.isNaN }
    if expected.isInfinite { return actual == expected }
    return abs(actual - expected) <= max(1e-5 * abs(expected), 1e-6)
}
