import CairnPipelines
import Foundation
import Testing

@Suite struct CacheKeyTests {
    let base = CacheKeyComponents(
        command: "python train.py", params: ["params.yaml:lr": "0.1", "params.yaml:epochs": "10"],
        deps: [
            .init(path: "data/train.csv", digest: String(repeating: "a", count: 64)),
            .init(path: "train.py", digest: String(repeating: "b", count: 64)),
        ],
        outs: [.init(path: "model.pkl", cache: true, persist: false)], executor: "local")

    @Test func theSameInputsInAnyOrderGiveTheSameKey() {
        let reordered = CacheKeyComponents(
            command: "python train.py", params: ["params.yaml:epochs": "10", "params.yaml:lr": "0.1"],
            deps: base.deps.reversed(), outs: base.outs, executor: "local")
        #expect(reordered.key == base.key)
        #expect(base.key.hasPrefix("v1:"))
        #expect(base.key.count == 3 + 64)
    }

    /// The key is a pure function of the canonical JSON: pinned here, so a change of encoding
    /// (which would silently invalidate every cache across an upgrade) must bump the version.
    @Test func theKeyIsStableAcrossProcesses() {
        #expect(
            String(decoding: base.canonicalJSON, as: UTF8.self)
                == #"{"command":"python train.py","deps":[["data/train.csv","\#(String(repeating: "a", count: 64))"],["train.py","\#(String(repeating: "b", count: 64))"]],"executor":"local","outs":[{"cache":true,"path":"model.pkl","persist":false}],"params":{"params.yaml:epochs":10,"params.yaml:lr":0.1},"version":1}"#
        )
        #expect(base.key == "v1:" + sha256Hex(base.canonicalJSON))
    }

    @Test func everyComponentInvalidatesTheKey() {
        var changes: [(String, CacheKeyComponents)] = []
        var command = base
        command.command = "python train.py --fast"
        changes.append(("cmd changed", command))
        var params = base
        params.params["params.yaml:lr"] = "0.2"
        changes.append(("params: lr 0.1 → 0.2", params))
        var dep = base
        dep.deps[0].digest = String(repeating: "c", count: 64)
        changes.append(("deps: data/train.csv changed", dep))
        var out = base
        out.outs[0].cache = false
        changes.append(("outs: model.pkl flags changed", out))
        var executor = base
        executor.executor = "ray:2.60.0"
        changes.append(("executor: local → ray:2.60.0", executor))
        var version = base
        version.version = 2
        changes.append(("key version: 1 → 2", version))
        var keys = Set([base.key])
        for (why, changed) in changes {
            #expect(keys.insert(changed.key).inserted, "\(why)")
            #expect(changed.firstDifference(from: base) == why)
        }
        #expect(base.firstDifference(from: base) == nil)
    }

    @Test func storedComponentsRoundTrip() throws {
        let decoded = try #require(CacheKeyComponents.decode(base.json))
        #expect(decoded == base)
        #expect(decoded.key == base.key)
    }
}

func sha256Hex(_ bytes: [UInt8]) -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
    let input = Pipe()
    let output = Pipe()
    process.standardInput = input
    process.standardOutput = output
    try? process.run()
    input.fileHandleForWriting.write(Data(bytes))
    try? input.fileHandleForWriting.close()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return String(decoding: data, as: UTF8.self).split(separator: " ").first.map(String.init) ?? ""
}
