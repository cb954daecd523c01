import CairnCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

extension LocalArtifactRepository {
    @discardableResult
    public func delete(_ path: ArtifactPath) async throws -> Bool {
        guard !path.isRoot else { throw CairnError.invalidParameter("Cannot delete the artifact root") }
        return try await blocking { [root] in try root.remove(path) }
    }
}

extension ArtifactRoot {
    /// Deepest directory tree `remove` descends into; deeper trees were not made by Cairn.
    static let maxRemovalDepth = 512

    /// Removes the entry at `path`. A link in the final position is removed itself, never
    /// its target (after the same inside-the-root check as every other operation).
    func remove(_ path: ArtifactPath) throws -> Bool {
        let location: Location
        do {
            location = try locate(path.segments, missing: .fail, followLeaf: false)
        } catch ArtifactRoot.Failure.missing, ArtifactRoot.Failure.notADirectory {
            return false
        }
        guard case .entry(let parent, let name, let status) = location else {
            throw CairnError.invalidParameter("Cannot delete the artifact root")
        }
        guard let status else { return false }
        if status.kind == .directory {
            try Self.removeTree(in: parent.descriptor, name, depth: 0)
        } else {
            do {
                try POSIX.unlinkAt(parent.descriptor, name, directoryEntry: false)
            } catch  where error.code == ENOENT {
                return false
            } catch {
                throw error
            }
        }
        return true
    }

    /// `rm -r` relative to `directory`: descends with `O_NOFOLLOW` and unlinks links as
    /// entries, so nothing outside the tree is ever touched. Retries a few times when an
    /// upload creates entries while the tree is being removed.
    static func removeTree(in directory: FileDescriptor, _ name: String, depth: Int) throws {
        guard depth < Self.maxRemovalDepth else {
            throw ArtifactStorageError(operation: "directory tree too deep to delete", code: 0)
        }
        for attempt in 1...4 {
            let tree: FileDescriptor
            do {
                tree = try POSIX.openDirectoryAt(directory, name)
            } catch {
                switch error.code {
                case ENOENT: return
                case ELOOP, ENOTDIR, EMLINK:
                    // Replaced by a link or file meanwhile: remove that entry instead.
                    try POSIX.unlinkIfPresent(directory, name)
                    return
                default: throw error
                }
            }
            for entry in try POSIX.directoryEntries(tree) {
                guard let status = try? POSIX.statAt(tree, entry) else { continue }
                if status.kind == .directory {
                    try removeTree(in: tree, entry, depth: depth + 1)
                } else {
                    try POSIX.unlinkIfPresent(tree, entry)
                }
            }
            do {
                try POSIX.unlinkAt(directory, name, directoryEntry: true)
                return
            } catch {
                switch error.code {
                case ENOENT: return
                case ENOTEMPTY, EEXIST:
                    if attempt == 4 { throw error }
                default: throw error
                }
            }
        }
    }
}
