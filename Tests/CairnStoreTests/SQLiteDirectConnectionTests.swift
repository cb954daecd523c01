import Logging
import NIOPosix
import SQLKit
import Testing

@testable import CairnStore

/// How values reach SQLite through the project's own binding.
@Suite struct SQLiteDirectConnectionTests {
    let database = SQLiteDirectDatabase(
        connection: try! SQLiteDirectConnection(path: ":memory:"), logger: Logger(label: "test"),
        eventLoop: MultiThreadedEventLoopGroup.singleton.any()
    )

    /// A text is bound whole, NUL and all: bound up to its first NUL, "admin\0x" was looked up
    /// as "admin" (an outside tester signed in as admin that way, past admin's login lockout).
    @Test func textWithANulIsBoundWholeAndMatchesOnlyItself() async throws {
        try await database.raw("CREATE TABLE names (name TEXT NOT NULL)").run()
        try await database.raw("INSERT INTO names (name) VALUES (\(bind: "admin"))").run()
        try await database.raw("INSERT INTO names (name) VALUES (\(bind: "nul\u{0}tail"))").run()
        try await database.raw("INSERT INTO names (name) VALUES (\(bind: ""))").run()

        #expect(try await database.raw("SELECT name FROM names WHERE name = \(bind: "admin\u{0}x")").all().isEmpty)
        let whole = try await database.raw("SELECT length(CAST(name AS BLOB)) AS n FROM names WHERE name = \(bind: "nul\u{0}tail")").all()
        #expect(try whole.map { try $0.decode(column: "n", as: Int.self) } == [8])
        #expect(try await database.raw("SELECT name FROM names WHERE name = \(bind: "nul")").all().isEmpty)
        // The empty text stays a text, not NULL.
        let empty = try await database.raw("SELECT count(*) AS n FROM names WHERE name = \(bind: "")").all()
        #expect(try empty.first?.decode(column: "n", as: Int.self) == 1)
        let unicode = "é€𝄞"
        try await database.raw("INSERT INTO names (name) VALUES (\(bind: unicode))").run()
        let back = try await database.raw("SELECT name FROM names WHERE name = \(bind: unicode)").all()
        #expect(try back.map { try $0.decode(column: "name", as: String.self) } == [unicode])
    }
}
