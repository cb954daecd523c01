import CairnCore

/// The artifacts tab: where in the run's (or one of its logged models') artifact tree the page
/// is, the entries of the directory shown, and the preview of the file chosen. Directories
/// open by links (`?tab=artifacts&path=`), so the tree works without JavaScript.
public struct ArtifactBrowser: Sendable {
    /// A file or directory of the listing.
    public struct Entry: Sendable {
        public var name: String
        public var isDirectory: Bool
        public var size: String
        public var url: String
        public var isSelected: Bool
    }

    public struct Crumb: Sendable {
        public var name: String
        public var url: String
    }

    /// `Run artifacts` or `Logged model m-…`.
    public var rootLabel: String
    public var roots: [TabLink]
    public var crumbs: [Crumb]
    public var entries: [Entry]
    public var isEmpty: Bool
    /// The chosen file, when the path names one.
    public var file: FileView?

    public struct FileView: Sendable {
        public var path: String
        public var name: String
        public var size: String
        public var downloadURL: String
        public var preview: ArtifactPreview
    }

    /// - Parameters:
    ///   - pageURL: the run page's path; links add `?tab=artifacts&path=` (and `&model=`).
    ///   - modelID: the logged model whose artifacts are shown; nil for the run's own.
    ///   - directory: the directory listed (the file's parent when a file is chosen).
    ///   - file: the chosen file's path, size and preview.
    public init(
        pageURL: String, modelID: String?, models: [String], directory: [String], entries: [ArtifactEntryInfo],
        file: (path: [String], size: Int64, preview: ArtifactPreview)?
    ) {
        func link(_ segments: [String], model: String?) -> String {
            var url = "\(pageURL)?tab=artifacts"
            if let model { url += "&model=\(UIFormat.queryValue(model))" }
            if !segments.isEmpty { url += "&path=\(UIFormat.queryValue(segments.joined(separator: "/")))" }
            return url
        }
        rootLabel = modelID.map { "Logged model \($0)" } ?? "Run artifacts"
        roots =
            [TabLink(label: "Run artifacts", url: link([], model: nil), isActive: modelID == nil)]
            + models.map { TabLink(label: "Model \($0)", url: link([], model: $0), isActive: modelID == $0) }
        var crumbs = [Crumb(name: modelID ?? "artifacts", url: link([], model: modelID))]
        for index in directory.indices {
            crumbs.append(Crumb(name: directory[index], url: link(Array(directory[...index]), model: modelID)))
        }
        self.crumbs = crumbs
        self.entries = entries.map { entry in
            let path = directory + [entry.name]
            return Entry(
                name: entry.isDirectory ? entry.name + "/" : entry.name, isDirectory: entry.isDirectory,
                size: entry.size.map(UIFormat.bytes) ?? "", url: link(path, model: modelID),
                isSelected: file.map { $0.path == path } ?? false)
        }
        isEmpty = entries.isEmpty
        self.file = file.map { file in
            var download = "\(pageURL)/artifacts/download?path=\(UIFormat.queryValue(file.path.joined(separator: "/")))"
            if let modelID { download += "&model=\(UIFormat.queryValue(modelID))" }
            var preview = file.preview
            if preview.kind == .image, preview.notice == nil { preview = ArtifactPreview(kind: .image, imageURL: download) }
            return FileView(
                path: file.path.joined(separator: "/"), name: file.path.last ?? "",
                size: "\(UIFormat.bytes(file.size)) (\(file.size) bytes)", downloadURL: download, preview: preview)
        }
    }
}

/// One listed entry, as the repository reports it (CairnUI does not depend on CairnArtifacts).
public struct ArtifactEntryInfo: Sendable {
    public var name: String
    public var isDirectory: Bool
    public var size: Int64?

    public init(name: String, isDirectory: Bool, size: Int64?) {
        self.name = name
        self.isDirectory = isDirectory
        self.size = size
    }
}
