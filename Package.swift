// swift-tools-version:6.0
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    // Every module a file uses members of is imported in that file, and so declared here.
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "cairn",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "cairn", targets: ["cairn"]),
        .library(name: "CairnCore", targets: ["CairnCore"]),
        .library(name: "CairnStore", targets: ["CairnStore"]),
        .library(name: "CairnArtifacts", targets: ["CairnArtifacts"]),
        .library(name: "CairnS3", targets: ["CairnS3"]),
        .library(name: "CairnClient", targets: ["CairnClient"]),
        .library(name: "CairnServer", targets: ["CairnServer"]),
        .library(name: "CairnONNX", targets: ["CairnONNX"]),
        .library(name: "CairnTabular", targets: ["CairnTabular"]),
        .library(name: "CairnStatistics", targets: ["CairnStatistics"]),
        .library(name: "CairnServing", targets: ["CairnServing"]),
        .library(name: "CairnMonitor", targets: ["CairnMonitor"]),
        .library(name: "CairnPipelines", targets: ["CairnPipelines"]),
        .library(name: "CairnUI", targets: ["CairnUI"]),
        .library(name: "CairnAuth", targets: ["CairnAuth"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.1.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.6.0"),
        .package(url: "https://github.com/vapor/sql-kit.git", from: "3.32.0"),
        .package(url: "https://github.com/vapor/sqlite-kit.git", from: "4.5.0"),
        .package(url: "https://github.com/vapor/sqlite-nio.git", from: "1.10.0"),
        .package(url: "https://github.com/vapor/postgres-kit.git", from: "2.13.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.26.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.81.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.30.0"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.24.0"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.3.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.0.0"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.1.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "5.0.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.24.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
        .package(url: "https://github.com/JohnSundell/Ink.git", from: "0.6.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth.git", from: "2.5.0"),
    ],
    targets: [
        .target(
            name: "CairnCore",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "CairnStore",
            dependencies: [
                "CairnCore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "PostgresKit", package: "postgres-kit"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "SQLiteKit", package: "sqlite-kit"),
                .product(name: "SQLiteNIO", package: "sqlite-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // Users, passwords (bcrypt on the thread pool), access tokens, permission decisions, audit.
        .target(
            name: "CairnAuth",
            dependencies: [
                "CairnCore",
                "CairnStore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "CairnArtifacts",
            dependencies: [
                "CairnCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        // Artifacts in an S3 bucket: SigV4 signing, AWS credentials and config, the S3 calls.
        .target(
            name: "CairnS3",
            dependencies: [
                "CairnArtifacts",
                "CairnCore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "CairnONNX",
            swiftSettings: swiftSettings
        ),
        // One client of Cairn's and MLflow's REST API, configured from MLflow's variables.
        .target(
            name: "CairnClient",
            dependencies: [
                "CairnCore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "CairnTabular",
            dependencies: ["CairnCore"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "CairnStatistics",
            dependencies: ["CairnCore"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "CairnMonitor",
            dependencies: [
                "CairnClient",
                "CairnCore",
                "CairnStatistics",
                "CairnStore",
                "CairnTabular",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "CairnServing",
            dependencies: [
                "CairnClient",
                "CairnCore",
                "CairnONNX",
                "CairnTabular",
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: swiftSettings
        ),
        // The web UI's views: templates, renderer, page chrome and embedded assets; no HTTP, no database.
        .target(
            name: "CairnUI",
            dependencies: [
                "CairnCore",
                .product(name: "Ink", package: "Ink"),
                .product(name: "Mustache", package: "swift-mustache"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "CairnServer",
            dependencies: [
                "CairnArtifacts",
                "CairnAuth",
                "CairnClient",
                "CairnCore",
                "CairnMonitor",
                "CairnPipelines",
                "CairnS3",
                "CairnServing",
                "CairnStatistics",
                "CairnStore",
                "CairnTabular",
                "CairnUI",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "CairnPipelines",
            dependencies: [
                "CairnArtifacts",
                "CairnClient",
                "CairnCore",
                "CairnServing",
                "CairnStatistics",
                "CairnStore",
                "CairnTabular",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: swiftSettings
        ),
        // glibc's allocator knobs, which Swift's Glibc module does not export (malloc.h).
        .target(name: "CCairnAllocator"),
        .executableTarget(
            name: "cairn",
            dependencies: [
                "CCairnAllocator",
                "CairnAuth",
                "CairnClient",
                "CairnCore",
                "CairnMonitor",
                "CairnPipelines",
                "CairnServer",
                "CairnServing",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CairnPipelinesTests",
            dependencies: [
                "CairnArtifacts",
                "CairnClient",
                "CairnCore",
                "CairnPipelines",
                "CairnStore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            exclude: ["Fixtures"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CairnAuthTests",
            dependencies: [
                "CairnAuth",
                "CairnCore",
                "CairnStore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CairnUITests",
            dependencies: ["CairnCore", "CairnUI"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CairnCoreTests",
            dependencies: ["CairnCore"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CairnStoreTests",
            dependencies: [
                "CairnCore",
                "CairnStore",
                // The metric-block tests draw a chart's buckets from both storage shapes.
                "CairnUI",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "SQLKit", package: "sql-kit"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CairnArtifactsTests",
            dependencies: [
                "CairnArtifacts",
                "CairnCore",
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CairnS3Tests",
            dependencies: [
                "CairnArtifacts",
                "CairnCore",
                "CairnS3",
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CairnONNXTests",
            dependencies: ["CairnONNX"],
            exclude: ["Fixtures"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CairnTabularTests",
            dependencies: ["CairnCore", "CairnTabular"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CairnStatisticsTests",
            dependencies: ["CairnCore", "CairnStatistics"],
            exclude: ["Fixtures"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CairnClientTests",
            dependencies: [
                "CairnClient",
                "CairnCore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CairnMonitorTests",
            dependencies: [
                "CairnCore",
                "CairnMonitor",
                "CairnStatistics",
                "CairnStore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CairnServingTests",
            dependencies: [
                "CairnClient",
                "CairnCore",
                "CairnONNX",
                "CairnServing",
                "CairnTabular",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CairnServerTests",
            dependencies: [
                "CairnArtifacts",
                "CairnAuth",
                "CairnClient",
                "CairnCore",
                "CairnMonitor",
                "CairnPipelines",
                "CairnServer",
                "CairnServing",
                "CairnStore",
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)

// The bench executables are built only when asked (CAIRN_BENCH=1, as bench/*/run.sh do), as
// Hummingbird gates its benchmarks: `swift build` and CI compile and link none of them.
if Context.environment["CAIRN_BENCH"] != nil {
    package.targets += [
        // Times the native ONNX runtime in process for bench/serving (beside onnxruntime).
        .executableTarget(
            name: "cairn-onnx-bench",
            dependencies: ["CairnONNX"],
            path: "bench/onnx",
            swiftSettings: swiftSettings
        ),
        // Times drift detection over a large window for bench/monitoring (beside Evidently).
        .executableTarget(
            name: "cairn-monitor-bench",
            dependencies: ["CairnMonitor", "CairnStatistics", "CairnStore", .product(name: "Logging", package: "swift-log")],
            path: "bench/monitoring",
            exclude: ["run.sh", "evidently_drift.py", "requirements.txt", "big_requests.py"],
            swiftSettings: swiftSettings
        ),
        // Times the pipeline executors per stage for bench/pipelines/executor-overhead.
        .executableTarget(
            name: "cairn-executor-bench",
            dependencies: ["CairnPipelines"],
            path: "bench/pipelines/executor-overhead",
            exclude: ["run.sh"],
            swiftSettings: swiftSettings
        ),
    ]
}
