import CairnUI
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// `/static-files/cairn.css` and `/static-files/cairn.js`, served from the binary. Pages link
/// them with `?v=<content hash>`, so a request carrying the current hash may be cached for a
/// year; any other is revalidated with the ETag.
struct UIAssetsController<Context: CairnRequestContext>: Sendable {
    func addRoutes(to router: some RouterMethods<Context>) {
        for asset in UIAsset.all {
            let etag = "\"\(asset.version)\""
            let body = ByteBuffer(string: asset.body)
            router.get(RouterPath("static-files/\(asset.name)")) { request, _ -> Response in
                var headers: HTTPFields = [.contentType: asset.contentType, .eTag: etag]
                headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
                let pinned = request.uri.queryParameters["v"].map { String($0) } == asset.version
                headers[.cacheControl] = pinned ? "public, max-age=31536000, immutable" : "no-cache"
                if request.headers[.ifNoneMatch]?.split(separator: ",").contains(where: { $0.trimmingCharacters(in: .whitespaces) == etag })
                    == true
                {
                    return Response(status: .notModified, headers: headers)
                }
                return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: body))
            }
        }
    }
}
