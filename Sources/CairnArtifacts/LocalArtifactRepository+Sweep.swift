#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// What one sweep of abandoned uploads removed.
public struct StaleUploadSweep: Sendable, Equatable {
    /// Temporary files of uploads that never finished (the process was killed mid-upload).
    public var temporaryFiles = 0
    /// Multipart uploads that were neither completed nor aborted.
    public var multipartUploads = 0

    public init(temporaryFiles: Int = 0, multipartUploads: Int = 0) {
        self.temporaryFiles = temporaryFiles
        self.multipartUploads = multipartUploads
    }
}

extension LocalArtifactRepository {
    /// Removes what uploads leave behind when the process dies under them: `.cairn-tmp-`
    /// temporary files anywhere in the tree, and multipart uploads that were never completed
    /// or aborted. Meant to run once at start-up.
    ///
    /// Only the repository's own reserved names are touched, and only once they have been idle
    /// for the given time: another server sharing this root may be uploading right now, and
    /// a multipart upload may legitimately take hours between its parts. An upload in
    /// progress writes to its temporary file continuously, so its modification time stays
    /// fresh; a multipart upload counts as active while any of its files is.
    ///
    /// The walk never follows a symbolic link, and it is best effort: what cannot be read or
    /// removed is skipped and left for the next start.
    public func removeStaleUploads(
        temporaryFilesIdleFor temporaryAge: Duration = .seconds(3_600),
        multipartUploadsIdleFor multipartAge: Duration = .seconds(86_400)
    ) async throws -> StaleUploadSweep {
        let now = Int64(time(nil))
        let temporaryCutoff = now - temporaryAge.components.seconds
        let multipartCutoff = now - multipartAge.components.seconds
        return try await blocking { [root] in
            var sweep = StaleUploadSweep()
            try root.sweep(temporaryCutoff: temporaryCutoff, multipartCutoff: multipartCutoff, into: &sweep)
            return sweep
        }
    }
}

extension ArtifactRoot {
    /// Sweeps the tree; see `LocalArtifactRepository.removeStaleUploads`. Entries last
    /// modified at or before a cutoff (seconds since the epoch) are removed.
    func sweep(temporaryCutoff: Int64, multipartCutoff: Int64, into sweep: inout StaleUploadSweep) throws {
        let top = try openRoot()
        Self.sweepTree(top, depth: 0, temporaryCutoff: temporaryCutoff, multipartCutoff: multipartCutoff, into: &sweep)
    }

    private static func sweepTree(
        _ directory: FileDescriptor, depth: Int, temporaryCutoff: Int64, multipartCutoff: Int64, into sweep: inout StaleUploadSweep
    ) {
        guard let names = try? POSIX.directoryEntries(directory) else { return }
        for name in names {
            guard let status = try? POSIX.statAt(directory, name) else { continue }
            guard name.utf8.starts(with: ArtifactPath.reservedPrefix.utf8) else {
                // Deeper trees than `remove` handles were not made by Cairn.
                guard status.kind == .directory, depth < maxRemovalDepth,
                    let child = try? POSIX.openDirectoryAt(directory, name)
                else { continue }
                sweepTree(child, depth: depth + 1, temporaryCutoff: temporaryCutoff, multipartCutoff: multipartCutoff, into: &sweep)
                continue
            }
            switch status.kind {
            case .regular where status.modificationTime <= temporaryCutoff:
                if (try? POSIX.unlinkAt(directory, name, directoryEntry: false)) != nil { sweep.temporaryFiles += 1 }
            case .directory where depth == 0 && name == multipartDirectory:
                guard let staging = try? POSIX.openDirectoryAt(directory, name) else { continue }
                sweepMultipart(staging, cutoff: multipartCutoff, into: &sweep)
            default:
                continue
            }
        }
    }

    /// Removes the upload directories in `staging` whose newest entry is not newer than
    /// `cutoff`. Other names there are not Cairn's and stay.
    private static func sweepMultipart(_ staging: FileDescriptor, cutoff: Int64, into sweep: inout StaleUploadSweep) {
        guard let names = try? POSIX.directoryEntries(staging) else { return }
        for name in names where MultipartUploadID.isValid(name) {
            guard let status = try? POSIX.statAt(staging, name), status.kind == .directory,
                let upload = try? POSIX.openDirectoryAt(staging, name),
                let files = try? POSIX.directoryEntries(upload)
            else { continue }
            let lastActivity = files.reduce(status.modificationTime) { newest, file in
                max(newest, (try? POSIX.statAt(upload, file))?.modificationTime ?? newest)
            }
            guard lastActivity <= cutoff else { continue }
            if (try? removeTree(in: staging, name, depth: 0)) != nil { sweep.multipartUploads += 1 }
        }
    }
}
