import Foundation

/// Reads the parameter and `vars` files a spec names (paths relative to the project), each
/// parsed once. YAML and JSON only: DVC's TOML and Python params files are refused by name.
final class ParamsFiles {
    let projectDirectory: String
    private var parsed: [String: SpecNode] = [:]

    /// How a mapping interpolated into `cmd` is written (the DVC repository's `parsing` config).
    let flagStyle: CommandFlagStyle

    init(projectDirectory: String) {
        self.projectDirectory = projectDirectory
        flagStyle = CommandFlagStyle.dvcConfig(around: projectDirectory)
    }

    func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? path : SpecPath.normalize(projectDirectory + "/" + path)
    }

    func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: absolute(path)) }

    func isDirectory(_ path: String) -> Bool {
        var directory: ObjCBool = false
        return FileManager.default.fileExists(atPath: absolute(path), isDirectory: &directory) && directory.boolValue
    }

    static func refuseUnsupportedFormat(_ path: String, at location: SourceLocation) throws(PipelineSpecError) {
        let suffix = (path as NSString).pathExtension.lowercased()
        if suffix == "toml" || suffix == "py" {
            throw PipelineSpecError("'\(path)': .\(suffix) params files are not supported; use YAML or JSON", at: location)
        }
    }

    func load(_ path: String, referencedAt location: SourceLocation) throws(PipelineSpecError) -> SpecNode {
        if let cached = parsed[path] { return cached }
        try Self.refuseUnsupportedFormat(path, at: location)
        guard exists(path) else { throw PipelineSpecError("'\(path)' does not exist", at: location) }
        guard !isDirectory(path) else { throw PipelineSpecError("'\(path)' is a directory", at: location) }
        let text: String
        do {
            text = try String(contentsOfFile: absolute(path), encoding: .utf8)
        } catch {
            throw PipelineSpecError("cannot read '\(path)': \(error.localizedDescription)", at: location)
        }
        // JSON is read by the YAML parser too, which keeps key order (a mapping interpolated
        // into `cmd` lists its flags in file order, as DVC does).
        var node = try SpecNode.parseYAML(text, file: absolute(path))
        if node.isNull { node = SpecNode(.dict([]), at: SourceLocation(file: absolute(path), line: 1)) }
        parsed[path] = node
        return node
    }
}
