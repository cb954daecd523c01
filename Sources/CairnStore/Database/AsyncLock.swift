/// A first-in, first-out lock for async code.
///
/// Writers wait here rather than inside SQLite: SQLite's own busy handling is a retry loop
/// with no ordering, which under load starves some writers and burns CPU.
actor AsyncLock {
    private var locked = false
    private var waiters: [CheckedContinuation<Void, Never>] = []
    private var head = 0

    func lock() async {
        guard locked else {
            locked = true
            return
        }
        await withCheckedContinuation { waiters.append($0) }
    }

    func unlock() {
        if head < waiters.count {
            let next = waiters[head]
            head += 1
            if head > 64, head * 2 > waiters.count {
                waiters.removeFirst(head)
                head = 0
            }
            // Ownership passes straight to the next waiter; `locked` stays true.
            next.resume()
        } else {
            locked = false
        }
    }

    func withLock<T: Sendable>(_ body: () async throws -> T) async rethrows -> T {
        await lock()
        do {
            let result = try await body()
            unlock()
            return result
        } catch {
            unlock()
            throw error
        }
    }
}
