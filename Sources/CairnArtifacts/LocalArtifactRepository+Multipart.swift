import CairnCore
import NIOCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Multipart uploads staged on disk.
///
/// Each upload is a directory `<root>/.cairn-tmp-multipart/<upload id>/` holding
/// * `upload`: the destination path and the number of parts, written once at creation;
/// * `<part number>.<sha256>`: each part as received, its ETag in its name, so a part exists
///   only complete and with the hash that was answered for it (a part is streamed into a
///   hidden temporary file beside it and renamed when its body has ended).
/// The reserved prefix keeps the tree out of every listing and every client path, and the
/// start-up sweep removes uploads that were left unfinished.
///
/// Completion copies the parts in order into a temporary file next to the destination and
/// renames it into place exactly like `write`, so readers never see a partial file.
extension LocalArtifactRepository: MultipartArtifactRepository {
    public func createMultipartUpload(at path: ArtifactPath, parts: Int) async throws -> MultipartUploadID {
        guard !path.isRoot else { throw ArtifactPath.invalid }
        guard (0...MultipartUpload.maxParts).contains(parts) else {
            throw CairnError.invalidParameter("A multipart upload has at most \(MultipartUpload.maxParts) parts, not \(parts)")
        }
        return try await blocking { [root] in try root.createMultipartUpload(path, parts: parts) }
    }

    public func writePart<Body: AsyncSequence & Sendable>(_ number: Int, of upload: MultipartUploadID, from body: Body) async throws
        -> MultipartPart
    where Body.Element == ByteBuffer {
        let staged = try await blocking { [root] in try root.stagedUpload(upload) }
        guard number >= 1, number <= staged.parts else {
            throw MultipartUpload.invalidPartNumber(number, parts: staged.parts)
        }
        let part = try await blocking { try ArtifactRoot.temporaryFile(in: staged.directory, hashing: true) }
        do {
            let (_, last) = try await stream(body, into: part)
            return try await blocking {
                try part.append(last)
                guard let etag = part.sha256() else { throw ArtifactStorageError(operation: "part without a hash", code: 0) }
                try staged.commit(part, as: MultipartPart(number: number, etag: etag))
                return MultipartPart(number: number, etag: etag)
            }
        } catch {
            part.discard()
            throw error
        }
    }

    @discardableResult
    public func completeMultipartUpload(_ upload: MultipartUploadID, at path: ArtifactPath, parts: [MultipartPart]) async throws -> Int64 {
        guard !path.isRoot else { throw ArtifactPath.invalid }
        let (staged, files) = try await blocking { [root] in
            let staged = try root.stagedUpload(upload, for: path)
            return (staged, try staged.files(of: parts))
        }
        let target = try await blocking { [root] in try root.beginUpload(path) }
        do {
            var size: Int64 = 0
            // One pool job per part: a large file does not hold a pool thread for the whole copy.
            for file in files {
                size += try await blocking { [chunkSize = configuration.chunkSize] in
                    try staged.append(file, to: target, bufferSize: chunkSize)
                }
            }
            try Task.checkCancellation()
            let durable = configuration.durableWrites
            try await blocking { [root] in
                try root.commit(target, to: path, durable: durable)
                // The artifact is in place; staging left behind is the sweep's to remove.
                try? staged.remove()
            }
            return size
        } catch {
            target.discard()
            throw error
        }
    }

    public func abortMultipartUpload(_ upload: MultipartUploadID, at path: ArtifactPath) async throws {
        try await blocking { [root] in
            guard let staged = try root.existingStagedUpload(upload) else { return }
            try staged.check(path)
            try staged.remove()
        }
    }
}

/// An upload's staging directory, opened, with what its manifest says.
struct StagedUpload: Sendable {
    let id: MultipartUploadID
    /// `.cairn-tmp-multipart`, which holds the upload's directory.
    let staging: FileDescriptor
    let directory: FileDescriptor
    /// Part numbers run from 1 to this.
    let parts: Int
    /// The destination, as `ArtifactPath.description`.
    let path: String

    static let manifestName = "upload"
    /// A path of `ArtifactPath.maxLength` bytes and a part count fit easily.
    static let maxManifestSize = 2048

    static func manifest(parts: Int, path: ArtifactPath) -> [UInt8] {
        Array("\(parts)\n\(path)".utf8)
    }

    /// Parses a manifest; `nil` for one that is incomplete (a creation that failed midway).
    static func parseManifest(_ bytes: some Collection<UInt8>) -> (parts: Int, path: String)? {
        guard let newline = bytes.firstIndex(of: UInt8(ascii: "\n")),
            let parts = Int(String(decoding: bytes[..<newline], as: UTF8.self)),
            (0...MultipartUpload.maxParts).contains(parts),
            let path = String(validating: bytes[bytes.index(after: newline)...], as: UTF8.self),
            !path.isEmpty
        else { return nil }
        return (parts, path)
    }

    static func fileName(of part: MultipartPart) -> String {
        "\(part.number).\(part.etag)"
    }

    /// Refuses a request that names another destination than the upload was created for.
    func check(_ path: ArtifactPath) throws {
        guard path.description == self.path else { throw MultipartUpload.wrongPath(id, path) }
    }

    /// Renames a fully received part into place. The upload may have been aborted meanwhile.
    /// An earlier attempt at the same part with other bytes stays until the upload ends:
    /// `complete` takes the one whose ETag the client names, so two attempts racing each
    /// other can never both be lost.
    func commit(_ upload: PendingUpload, as part: MultipartPart) throws {
        do {
            try POSIX.renameAt(directory, upload.temporaryName, directory, Self.fileName(of: part))
        } catch  where error.code == ENOENT {
            throw MultipartUpload.notFound(id)
        } catch {
            throw error
        }
    }

    /// The part files to join, in part-number order, after checking `parts` against what was
    /// uploaded: numbers in range and unique, each part present with exactly that ETag.
    func files(of parts: [MultipartPart]) throws -> [String] {
        var seen = Set<Int>()
        for part in parts {
            guard part.number >= 1, part.number <= self.parts else {
                throw MultipartUpload.invalidPartNumber(part.number, parts: self.parts)
            }
            guard seen.insert(part.number).inserted else {
                throw CairnError.invalidParameter("Part \(part.number) is listed more than once")
            }
        }
        var files: [String] = []
        for part in parts.sorted(by: { $0.number < $1.number }) {
            let notUploaded = CairnError.invalidParameter(
                "Part \(part.number) was not uploaded with the ETag given; upload it again or list the ETag its upload answered with"
            )
            // Checked before the ETag becomes part of a file name.
            guard MultipartUpload.isLowercaseHex(part.etag, length: 64) else { throw notUploaded }
            let name = Self.fileName(of: part)
            guard let status = try? POSIX.statAt(directory, name), status.kind == .regular else { throw notUploaded }
            files.append(name)
        }
        return files
    }

    /// Appends the part file `name` to `target`.
    /// - Returns: the part's size.
    func append(_ name: String, to target: PendingUpload, bufferSize: Int) throws -> Int64 {
        let part: FileDescriptor
        do {
            part = try POSIX.openAt(directory, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK)
        } catch  where error.code == ENOENT {
            // Aborted while being completed.
            throw MultipartUpload.notFound(id)
        } catch {
            throw error
        }
        let size = try POSIX.stat(part).size
        try POSIX.append(part, size: size, to: target.file, bufferSize: bufferSize)
        return size
    }

    /// Deletes the upload's directory and everything in it.
    func remove() throws {
        try ArtifactRoot.removeTree(in: staging, id.rawValue, depth: 0)
    }
}

extension ArtifactRoot {
    /// The directory under the root that holds every multipart upload in progress.
    static let multipartDirectory = ArtifactPath.reservedPrefix + "multipart"

    func createMultipartUpload(_ path: ArtifactPath, parts: Int) throws -> MultipartUploadID {
        // Refused now rather than after every part has been sent.
        _ = try uploadDirectory(for: path)
        let (staging, _) = try walk([Self.multipartDirectory], missing: .create)
        for _ in 0..<8 {
            let id = MultipartUploadID.random()
            do {
                try POSIX.makeDirectoryAt(staging.descriptor, id.rawValue)
            } catch  where error.code == EEXIST {
                continue
            } catch {
                // Spelled out for the same Swift 6.3.1 crash as in `temporaryFile(in:)`.
                throw error
            }
            do {
                let directory = try POSIX.openDirectoryAt(staging.descriptor, id.rawValue)
                let manifest = try POSIX.openAt(
                    directory, StagedUpload.manifestName, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode: 0o666
                )
                try StagedUpload.manifest(parts: parts, path: path).withUnsafeBytes { bytes in
                    try POSIX.writeAll(manifest, bytes)
                }
            } catch {
                try? Self.removeTree(in: staging.descriptor, id.rawValue, depth: 0)
                throw error
            }
            return id
        }
        throw ArtifactStorageError(operation: "no unused multipart upload id", code: EEXIST)
    }

    /// The upload `id`, checked to be an upload of `path` when one is given.
    /// - Throws: RESOURCE_DOES_NOT_EXIST when there is no such upload.
    func stagedUpload(_ id: MultipartUploadID, for path: ArtifactPath? = nil) throws -> StagedUpload {
        guard let staged = try existingStagedUpload(id) else { throw MultipartUpload.notFound(id) }
        if let path { try staged.check(path) }
        return staged
    }

    /// The upload `id`, or `nil` when it does not exist (or its creation never finished).
    func existingStagedUpload(_ id: MultipartUploadID) throws -> StagedUpload? {
        // Only Cairn's own ids name a staging directory; an object store's form never does.
        guard MultipartUploadID.isValid(id.rawValue) else { return nil }
        let staging: Directory
        do {
            (staging, _) = try walk([Self.multipartDirectory], missing: .fail)
        } catch ArtifactRoot.Failure.missing, ArtifactRoot.Failure.notADirectory {
            return nil
        }
        let directory: FileDescriptor
        let manifest: FileDescriptor
        do {
            directory = try POSIX.openDirectoryAt(staging.descriptor, id.rawValue)
            manifest = try POSIX.openAt(directory, StagedUpload.manifestName, O_RDONLY | O_NOFOLLOW | O_NONBLOCK)
        } catch {
            switch error.code {
            case ENOENT, ENOTDIR, ELOOP: return nil
            default: throw error
            }
        }
        var bytes = [UInt8](repeating: 0, count: StagedUpload.maxManifestSize)
        let count = try bytes.withUnsafeMutableBytes { buffer in
            try POSIX.readFully(manifest, into: buffer, at: 0)
        }
        guard let (parts, path) = StagedUpload.parseManifest(bytes[..<count]) else { return nil }
        return StagedUpload(id: id, staging: staging.descriptor, directory: directory, parts: parts, path: path)
    }
}
