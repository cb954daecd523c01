import CairnONNX
import Foundation

// Times Cairn's ONNX runtime in process, the way bench/serving/prepare.py times onnxruntime:
// one-row calls (p50/p99 over 5,000 after 500 warm-up) and the cost per row of 100-row calls.
//
//   cairn-onnx-bench MODEL.onnx ROWS.f32 FEATURES
//
// ROWS.f32 holds 100 rows of FEATURES little-endian float32 values. Prints one JSON object.

let arguments = CommandLine.arguments
guard arguments.count == 4, let features = Int(arguments[3]) else {
    FileHandle.standardError.write(Data("usage: cairn-onnx-bench MODEL.onnx ROWS.f32 FEATURES\n".utf8))
    exit(2)
}
let model = try ONNXModel(contentsOf: arguments[1])
let raw = try Data(contentsOf: URL(fileURLWithPath: arguments[2]))
let values = raw.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
let rows = values.count / features
let inputName = model.inputs[0].name
let one = [inputName: ONNXTensor(shape: [1, features], floats: Array(values[0..<features]))]
let batch = [inputName: ONNXTensor(shape: [rows, features], floats: values)]

let clock = ContinuousClock()
func microseconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) * 1e6 + Double(duration.components.attoseconds) * 1e-12
}
for _ in 0..<500 { _ = try model.run(one) }
var timings: [Double] = []
timings.reserveCapacity(5000)
for _ in 0..<5000 {
    let start = clock.now
    _ = try model.run(one)
    timings.append(microseconds(clock.now - start))
}
timings.sort()
let start = clock.now
for _ in 0..<500 { _ = try model.run(batch) }
let perRow = microseconds(clock.now - start) / 500 / Double(rows)
print("{\"p50_us\": \(timings[2500]), \"p99_us\": \(timings[4950]), \"us_per_row_at_100\": \(perRow)}")
