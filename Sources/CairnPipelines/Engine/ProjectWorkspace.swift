import Crypto
import NIOPosix

/// The engine's per-project state, one instance per project directory for the life of the
/// server (the only writer): the file-state table, loaded once, and `cairn.lock`, whose writes
/// are serialised here so stages finishing together (or two runs of one pipeline) never lose
/// each other's entries.
public actor ProjectWorkspace {
    public let projectDirectory: String
    public let fileState: FileStateTable
    let threadPool: NIOThreadPool
    private var lock: [String: LockEntry]?

    init(projectDirectory: String, fileState: FileStateTable, threadPool: NIOThreadPool) {
        self.projectDirectory = projectDirectory
        self.fileState = fileState
        self.threadPool = threadPool
    }

    public var lockPath: String { "\(projectDirectory)/\(LockFile.name)" }

    public func hasher(parallelism: Int) -> ContentHasher {
        ContentHasher(threadPool: threadPool, state: fileState, parallelism: parallelism)
    }

    public func lockEntries() async throws -> [String: LockEntry] {
        if let lock { return lock }
        let path = lockPath
        let loaded = try await threadPool.runIfActive { LockFile.read(path) ?? [:] }
        if let lock { return lock }
        lock = loaded
        return loaded
    }

    /// Saves the file-state table if it changed (once per run or status). Failures are the
    /// caller's to log: a lost table costs a re-hash, never a wrong answer.
    public func saveFileState() async throws {
        let table = fileState
        try await threadPool.runIfActive { try table.saveIfChanged() }
    }

    /// Records the stage's entry and rewrites the lock file (temp + rename).
    public func commit(stage: String, entry: LockEntry, order: [String]) async throws {
        var entries = try await lockEntries()
        entries[stage] = entry
        // Stages the spec no longer has are dropped, as `dvc repro` does.
        let known = Set(order)
        entries = entries.filter { known.contains($0.key) }
        let text = LockFile.render(entries, order: order)
        let path = lockPath
        try await threadPool.runIfActive { try AtomicFile.write(Array(text.utf8), to: path) }
        lock = entries
    }
}

/// Every project's workspace, created on first use.
public actor WorkspaceRegistry {
    let stateDirectory: String?
    let threadPool: NIOThreadPool
    private var workspaces: [String: ProjectWorkspace] = [:]

    /// `stateDirectory` holds one file-state table per project; nil keeps them in memory.
    public init(stateDirectory: String?, threadPool: NIOThreadPool) {
        self.stateDirectory = stateDirectory
        self.threadPool = threadPool
    }

    public func workspace(for projectDirectory: String) async throws -> ProjectWorkspace {
        if let workspace = workspaces[projectDirectory] { return workspace }
        let table: FileStateTable
        if let stateDirectory {
            let file = "\(stateDirectory)/\(Self.slug(projectDirectory))/filestate.bin"
            table = try await threadPool.runIfActive { FileStateTable.load(file: file) }
        } else {
            table = FileStateTable()
        }
        if let workspace = workspaces[projectDirectory] { return workspace }
        let workspace = ProjectWorkspace(projectDirectory: projectDirectory, fileState: table, threadPool: threadPool)
        workspaces[projectDirectory] = workspace
        return workspace
    }

    /// A directory name for the project: its base name and a hash of its absolute path.
    static func slug(_ projectDirectory: String) -> String {
        let base = PathText(path: projectDirectory).name.filter { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }
        let digest = Hex.encode(SHA256.hash(data: Array(projectDirectory.utf8))).prefix(16)
        return "\(base.prefix(40))-\(digest)"
    }
}
