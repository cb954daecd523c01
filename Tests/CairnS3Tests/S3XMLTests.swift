import Testing

@testable import CairnS3

@Suite struct S3XMLTests {
    @Test func listBucketResult() throws {
        let body = """
            <?xml version="1.0" encoding="UTF-8"?>
            <ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
              <Name>bucket</Name><Prefix>p/</Prefix><KeyCount>3</KeyCount><MaxKeys>1000</MaxKeys>
              <IsTruncated>true</IsTruncated>
              <NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>
              <Contents><Key>p/a &amp; b.txt</Key><LastModified>2009-10-12T17:50:30.000Z</LastModified>
                <ETag>&quot;fba9dede5f27731c9771645a39863328&quot;</ETag><Size>434234</Size><StorageClass>STANDARD</StorageClass></Contents>
              <Contents><Key>p/&#xE9;t&#233;</Key><Size>0</Size></Contents>
              <CommonPrefixes><Prefix>p/dir/</Prefix></CommonPrefixes>
              <Owner/>
              <!-- a comment -->
            </ListBucketResult>
            """
        let xml = try S3XML.parse(Array(body.utf8))
        #expect(xml.name == "ListBucketResult")
        #expect(xml["IsTruncated"]?.text == "true")
        #expect(xml["NextContinuationToken"]?.text == "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=")
        #expect(xml.all("Contents").map { $0["Key"]?.text } == ["p/a & b.txt", "p/été"])
        #expect(xml.all("Contents").first?["ETag"]?.text == "\"fba9dede5f27731c9771645a39863328\"")
        #expect(xml.all("Contents").first?["Size"]?.text == "434234")
        #expect(xml["CommonPrefixes"]?["Prefix"]?.text == "p/dir/")
        #expect(xml["Owner"] != nil)
    }

    @Test func errorBodies() {
        let body =
            "<?xml version=\"1.0\"?><Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message><BucketName>nope</BucketName></Error>"
        let error = S3Error.from(status: 404, body: Array(body.utf8), operation: "ListObjectsV2")
        #expect(error.code == "NoSuchBucket")
        #expect(error.message == "The specified bucket does not exist")
        // HEAD answers carry no body: the status names the error.
        #expect(S3Error.from(status: 403, body: [UInt8](), operation: "HeadObject").code == "AccessDenied")
        #expect(S3Error.from(status: 404, body: Array("not xml".utf8), operation: "HeadObject").code == "NotFound")
    }

    @Test func malformedDocumentsAreRefused() {
        for text in ["", "<a>", "<a></b>", "<a>&bogus;</a>", "text", "<a/><b/>", "<a>&#xFFFFFFFF;</a>"] {
            #expect(throws: S3XML.Malformed.self, "\(text)") { try S3XML.parse(Array(text.utf8)) }
        }
    }

    @Test func escapingRoundTrips() throws {
        let key = "a&b<c>\"d'e\rf/é"
        let xml = try S3XML.parse(Array("<Key>\(S3XML.escape(key))</Key>".utf8))
        #expect(xml.text == key)
    }
}
