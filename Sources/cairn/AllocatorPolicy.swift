import CCairnAllocator

/// Process-wide allocator settings for the long-running commands (`server`, `serve`).
enum AllocatorPolicy {
    /// Streaming an artifact through the server allocates and frees buffers of several MiB
    /// (S3 parts, multipart bodies). glibc serves those with `mmap` until the first is freed,
    /// then raises its threshold to that size, so every later one comes from a heap arena and
    /// stays resident after `free`: a 1 GiB upload to S3 peaked at 105 MiB RSS that way, 66 MiB
    /// with the threshold pinned at 1 MiB (bench/s3's transfer, release build). Small
    /// allocations, the vast majority, are unaffected.
    static func apply() {
        _ = cairn_pin_mmap_threshold(1 << 20)
    }
}
