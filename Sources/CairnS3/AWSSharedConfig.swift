/// The AWS CLI's shared files, `~/.aws/credentials` and `~/.aws/config`: INI sections of
/// `key = value` lines, where a key with an empty value followed by indented lines holds
/// sub-keys (`s3 =` / `  addressing_style = path`), read as `s3.addressing_style`.
///
/// In `config` a profile's section is `[profile name]` (`[default]` for the default one); in
/// `credentials` it is `[name]`. Comments start with `#` or `;` at the start of a line.
public struct AWSSharedConfig: Sendable, Equatable {
    /// Section name (as written, without brackets) to its keys, lower-cased.
    public var sections: [String: [String: String]]

    public init(sections: [String: [String: String]] = [:]) {
        self.sections = sections
    }

    public init(parsing text: String) {
        var sections: [String: [String: String]] = [:]
        var section: String?
        var parent: String?
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" }) {
            let indented = rawLine.first == " " || rawLine.first == "\t"
            let line = trimmed(rawLine)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("["), line.hasSuffix("]") {
                let name = trimmed(line.dropFirst().dropLast())
                section = name
                parent = nil
                if sections[name] == nil { sections[name] = [:] }
                continue
            }
            guard let current = section, let equals = line.firstIndex(of: "=") else { continue }
            let key = trimmed(line[..<equals]).lowercased()
            let value = trimmed(line[line.index(after: equals)...])
            if indented, let parent {
                sections[current, default: [:]]["\(parent).\(key)"] = value
            } else if value.isEmpty {
                parent = key
            } else {
                parent = nil
                sections[current, default: [:]][key] = value
            }
        }
        self.sections = sections
    }

    /// The keys of `profile` as the credentials file names it.
    public func credentialsProfile(_ profile: String) -> [String: String]? {
        sections[profile]
    }

    /// The keys of `profile` as the config file names it (`[profile x]`, or `[default]`).
    public func configProfile(_ profile: String) -> [String: String]? {
        profile == "default" ? (sections["default"] ?? sections["profile default"]) : sections["profile \(profile)"]
    }
}

/// Spaces and tabs off both ends.
private func trimmed(_ text: some StringProtocol) -> String {
    var slice = Substring(text)
    while let first = slice.first, first == " " || first == "\t" { slice = slice.dropFirst() }
    while let last = slice.last, last == " " || last == "\t" { slice = slice.dropLast() }
    return String(slice)
}
