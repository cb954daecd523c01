import Logging
import NIOCore
import NIOPosix
import SQLKit
import SQLiteKit
import SQLiteNIO
import Synchronization
import VaporCSQLite

/// A SQLite connection that runs each statement synchronously on the calling thread, with
/// prepared statements cached by SQL text.
///
/// SQLiteNIO runs every statement on a thread pool and resumes the caller through an event
/// loop: two thread hand-offs per statement, which for a five-statement transaction costs
/// more than the SQLite work itself. A metadata statement here takes microseconds, so
/// running it in place is both faster and simpler. The SQLite library is the one SQLiteNIO
/// vendors, so one copy of SQLite owns the file's locks.
final class SQLiteDirectConnection: Sendable {
    /// The sqlite3 handle and its statement cache. Touched only while the mutex is held,
    /// which also serialises statements when tasks share a reader connection.
    private let state: Mutex<State>

    private struct State: ~Copyable {
        var handle: OpaquePointer?
        var statements: [String: OpaquePointer] = [:]
    }

    /// Dropping every cached statement past this bounds memory when IN-lists and
    /// multi-row inserts of many different sizes produce many distinct statements.
    private static let statementCacheLimit = 256

    init(path: String) throws {
        var handle: OpaquePointer?
        let flags = SQLITE_OPEN_CREATE | SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE
        let status = sqlite_nio_sqlite3_open_v2(path, &handle, flags, nil)
        guard status == SQLITE_OK, let handle else {
            let message = handle.map { String(cString: sqlite_nio_sqlite3_errmsg($0)) } ?? "out of memory"
            if let handle { sqlite_nio_sqlite3_close_v2(handle) }
            throw SQLiteDirectError(code: status, message: "Cannot open SQLite database at \(path): \(message)")
        }
        sqlite_nio_sqlite3_extended_result_codes(handle, 1)
        state = Mutex(State(handle: handle))
    }

    deinit {
        state.withLock { state in
            for statement in state.statements.values { sqlite_nio_sqlite3_finalize(statement) }
            state.statements = [:]
            if let handle = state.handle { sqlite_nio_sqlite3_close_v2(handle) }
            state.handle = nil
        }
    }

    func close() {
        state.withLock { state in
            for statement in state.statements.values { sqlite_nio_sqlite3_finalize(statement) }
            state.statements = [:]
            if let handle = state.handle { sqlite_nio_sqlite3_close_v2(handle) }
            state.handle = nil
        }
    }

    /// Runs one statement, calling `onRow` for each result row.
    func execute(_ sql: String, _ binds: [SQLiteData], _ onRow: (SQLiteDirectRow) -> Void) throws {
        try state.withLock { state in
            let (handle, statement) = try Self.prepare(&state, sql, binds)
            defer {
                sqlite_nio_sqlite3_reset(statement)
                sqlite_nio_sqlite3_clear_bindings(statement)
            }
            var columns: SQLiteDirectRow.Columns?
            while true {
                let status = sqlite_nio_sqlite3_step(statement)
                if status == SQLITE_DONE { return }
                guard status == SQLITE_ROW else {
                    throw SQLiteDirectError(code: status, message: String(cString: sqlite_nio_sqlite3_errmsg(handle)))
                }
                let count = sqlite_nio_sqlite3_column_count(statement)
                if columns == nil {
                    columns = SQLiteDirectRow.Columns(
                        names: (0..<count).map { String(cString: sqlite_nio_sqlite3_column_name(statement, $0)) })
                }
                var values: [SQLiteData] = []
                values.reserveCapacity(Int(count))
                for column in 0..<count {
                    switch sqlite_nio_sqlite3_column_type(statement, column) {
                    case SQLITE_INTEGER: values.append(.integer(Int(sqlite_nio_sqlite3_column_int64(statement, column))))
                    case SQLITE_FLOAT: values.append(.float(sqlite_nio_sqlite3_column_double(statement, column)))
                    case SQLITE_TEXT:
                        let length = Int(sqlite_nio_sqlite3_column_bytes(statement, column))
                        if let text = sqlite_nio_sqlite3_column_text(statement, column) {
                            values.append(.text(String(decoding: UnsafeBufferPointer(start: text, count: length), as: UTF8.self)))
                        } else {
                            values.append(.text(""))
                        }
                    case SQLITE_BLOB:
                        let length = Int(sqlite_nio_sqlite3_column_bytes(statement, column))
                        var buffer = ByteBufferAllocator().buffer(capacity: length)
                        if let bytes = sqlite_nio_sqlite3_column_blob(statement, column) {
                            buffer.writeBytes(UnsafeRawBufferPointer(start: bytes, count: length))
                        }
                        values.append(.blob(buffer))
                    default: values.append(.null)
                    }
                }
                onRow(SQLiteDirectRow(columns: columns!, values: values))
            }
        }
    }

    /// The statement for `sql` from the cache (prepared on first use) with `binds` bound.
    private static func prepare(_ state: inout State, _ sql: String, _ binds: [SQLiteData]) throws -> (OpaquePointer, OpaquePointer) {
        guard let handle = state.handle else {
            throw SQLiteDirectError(code: SQLITE_MISUSE, message: "The SQLite connection is closed")
        }
        let statement: OpaquePointer
        if let cached = state.statements[sql] {
            statement = cached
        } else {
            var prepared: OpaquePointer?
            let status = sqlite_nio_sqlite3_prepare_v2(handle, sql, -1, &prepared, nil)
            guard status == SQLITE_OK, let prepared else {
                throw SQLiteDirectError(code: status, message: String(cString: sqlite_nio_sqlite3_errmsg(handle)))
            }
            if state.statements.count >= Self.statementCacheLimit {
                for old in state.statements.values { sqlite_nio_sqlite3_finalize(old) }
                state.statements.removeAll(keepingCapacity: true)
            }
            state.statements[sql] = prepared
            statement = prepared
        }
        for (offset, bind) in binds.enumerated() {
            let index = Int32(offset + 1)
            let status: Int32
            switch bind {
            case .integer(let value): status = sqlite_nio_sqlite3_bind_int64(statement, index, Int64(value))
            case .float(let value): status = sqlite_nio_sqlite3_bind_double(statement, index, value)
            case .text(let value):
                // The length in bytes, never -1: with -1 SQLite stops at the first NUL, so
                // "admin\0x" would be stored, and looked up, as "admin".
                status = value.withCString { sqlite_nio_sqlite3_bind_text(statement, index, $0, Int32(value.utf8.count), Self.transient) }
            case .blob(let buffer):
                status = buffer.withUnsafeReadableBytes {
                    sqlite_nio_sqlite3_bind_blob(statement, index, $0.baseAddress, Int32($0.count), Self.transient)
                }
            case .null: status = sqlite_nio_sqlite3_bind_null(statement, index)
            }
            guard status == SQLITE_OK else {
                let error = SQLiteDirectError(code: status, message: String(cString: sqlite_nio_sqlite3_errmsg(handle)))
                sqlite_nio_sqlite3_reset(statement)
                sqlite_nio_sqlite3_clear_bindings(statement)
                throw error
            }
        }
        return (handle, statement)
    }

    /// Runs a statement whose rows are (integer, real, integer) and hands each row's values
    /// straight over: a chart reads a million points, and a boxed row per point would cost
    /// more than SQLite's own work.
    func scanSeries(_ sql: String, _ binds: [SQLiteData], _ onRow: (Int64, Double, Bool) -> Void) throws {
        try stepRows(sql, binds) { statement in
            onRow(
                sqlite_nio_sqlite3_column_int64(statement, 0), sqlite_nio_sqlite3_column_double(statement, 1),
                sqlite_nio_sqlite3_column_int64(statement, 2) != 0)
        }
    }

    /// Runs a statement whose rows are (integer, integer, real, integer) — a metric point's
    /// timestamp, step, value and NaN flag — handing each over unboxed: sealing a metric block
    /// reads thousands inside a write transaction, where every microsecond holds the writer.
    func scanPoints(_ sql: String, _ binds: [SQLiteData], _ onRow: (Int64, Int64, Double, Bool) -> Void) throws {
        try stepRows(sql, binds) { statement in
            onRow(
                sqlite_nio_sqlite3_column_int64(statement, 0), sqlite_nio_sqlite3_column_int64(statement, 1),
                sqlite_nio_sqlite3_column_double(statement, 2), sqlite_nio_sqlite3_column_int64(statement, 3) != 0)
        }
    }

    /// Runs a statement whose rows are (integer, integer, blob) and hands each blob over where
    /// SQLite holds it, valid only during `onRow`: a chart's metric blocks are decoded straight
    /// into its columns, with no copy into a buffer of their own first.
    func scanBlobs(_ sql: String, _ binds: [SQLiteData], _ onRow: (Int64, Int64, UnsafeRawBufferPointer) throws -> Void) throws {
        try stepRows(sql, binds) { statement in
            // The pointer first, then its length, as SQLite's documentation orders the calls.
            let bytes = sqlite_nio_sqlite3_column_blob(statement, 2)
            let length = Int(sqlite_nio_sqlite3_column_bytes(statement, 2))
            try onRow(
                sqlite_nio_sqlite3_column_int64(statement, 0), sqlite_nio_sqlite3_column_int64(statement, 1),
                UnsafeRawBufferPointer(start: length > 0 ? bytes : nil, count: length))
        }
    }

    /// Steps a prepared statement to its end under the connection's lock, handing each row's
    /// statement to `onRow` to read its columns; the statement is reset for its next use.
    private func stepRows(_ sql: String, _ binds: [SQLiteData], _ onRow: (OpaquePointer) throws -> Void) throws {
        try state.withLock { state in
            let (handle, statement) = try Self.prepare(&state, sql, binds)
            defer {
                sqlite_nio_sqlite3_reset(statement)
                sqlite_nio_sqlite3_clear_bindings(statement)
            }
            while true {
                let status = sqlite_nio_sqlite3_step(statement)
                if status == SQLITE_DONE { return }
                guard status == SQLITE_ROW else {
                    throw SQLiteDirectError(code: status, message: String(cString: sqlite_nio_sqlite3_errmsg(handle)))
                }
                try onRow(statement)
            }
        }
    }

    /// SQLite copies bound text and blobs before `bind` returns.
    private static let transient = unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)
}

struct SQLiteDirectError: Error, CustomStringConvertible {
    var code: Int32
    var message: String
    var description: String { "SQLite error \(code): \(message)" }
}

/// A result row. Column names are shared by every row of one statement.
struct SQLiteDirectRow: SQLRow {
    final class Columns: Sendable {
        let names: [String]
        init(names: [String]) { self.names = names }
    }

    let columns: Columns
    let values: [SQLiteData]

    var allColumns: [String] { columns.names }

    func contains(column: String) -> Bool { columns.names.contains(column) }

    private func value(_ column: String) throws -> SQLiteData {
        guard let index = columns.names.firstIndex(of: column) else {
            throw DecodingError.valueNotFound(SQLiteData.self, .init(codingPath: [], debugDescription: "No column named '\(column)'"))
        }
        return values[index]
    }

    func decodeNil(column: String) throws -> Bool {
        if case .null = try value(column) { return true }
        return false
    }

    /// The column types the stores read are converted directly; anything else goes through
    /// SQLiteKit's general decoder.
    func decode<D: Decodable>(column: String, as type: D.Type) throws -> D {
        let data = try value(column)
        switch data {
        case .integer(let value):
            if D.self == Int64.self { return Int64(value) as! D }
            if D.self == Int.self { return value as! D }
            if D.self == Bool.self { return (value != 0) as! D }
            if D.self == Int64?.self { return Int64?(Int64(value)) as! D }
            if D.self == Double.self { return Double(value) as! D }
        case .float(let value):
            if D.self == Double.self { return value as! D }
        case .text(let value):
            if D.self == String.self { return value as! D }
            if D.self == String?.self { return String?(value) as! D }
        case .null:
            if D.self == String?.self { return String?.none as! D }
            if D.self == Int64?.self { return Int64?.none as! D }
        case .blob(let buffer):
            if D.self == ByteBuffer.self { return buffer as! D }
        }
        return try SQLiteDataDecoder().decode(D.self, from: data)
    }
}

/// `SQLDatabase` over a direct connection, so stores written on SQLKit run on it unchanged.
struct SQLiteDirectDatabase: SQLDatabase {
    let connection: SQLiteDirectConnection
    let logger: Logger
    let eventLoop: any EventLoop

    var dialect: any SQLDialect { SQLiteDialect() }
    var version: (any SQLDatabaseReportedVersion)? { nil }
    var queryLogLevel: Logger.Level? { nil }

    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> Void) -> EventLoopFuture<Void> {
        eventLoop.makeCompletedFuture { try run(query, onRow) }
    }

    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> Void) async throws {
        try run(query, onRow)
    }

    private func run(_ query: any SQLExpression, _ onRow: (any SQLRow) -> Void) throws {
        let (sql, binds) = try statement(for: query)
        try connection.execute(sql, binds) { onRow($0) }
    }

    /// The SQL text and SQLite values of a query, for the connection's typed scanners.
    func statement(for query: any SQLExpression) throws -> (String, [SQLiteData]) {
        var serializer = SQLSerializer(database: self)
        query.serialize(to: &serializer)
        var binds: [SQLiteData] = []
        binds.reserveCapacity(serializer.binds.count)
        let encoder = SQLiteDataEncoder()
        for bind in serializer.binds {
            switch bind {
            case let value as String: binds.append(.text(value))
            case let value as Int64: binds.append(.integer(Int(value)))
            case let value as Int: binds.append(.integer(value))
            case let value as Double: binds.append(.float(value))
            case let value as Bool: binds.append(.integer(value ? 1 : 0))
            case let value as ByteBuffer: binds.append(.blob(value))
            default: binds.append(try encoder.encode(bind))
            }
        }
        return (serializer.sql, binds)
    }
}
