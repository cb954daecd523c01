// swift-tools-version:6.0
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "cairn",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "cairn", targets: ["cairn"]),
        .library(name: "CairnCore", targets: ["CairnCore"]),
        .library(name: "CairnStore", targets: ["CairnStore"]),
        .library(name: "CairnArtifacts", targets: ["CairnArtifacts"]),
        .library(name: "CairnServer", targets: ["CairnServer"]),
        .library(name: "CairnONNX", targets: ["CairnONNX"]),
        .library(name: "CairnServing", targets: ["CairnServing"]),
        .library(name: "CairnMonitor", targets: ["CairnMonitor"]),
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
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.81.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.0.0"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.1.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "5.0.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.24.0"),
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
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "SQLiteKit", package: "sqlite-kit"),
                .product(name: "SQLiteNIO", package: "sqlite-nio"),
                .product(name: "PostgresKit", package: "postgres-kit"),
                .product(name: "Logging", package: "swift-log"),
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
        .target(
            name: "CairnONNX",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "CairnMonitor",
            dependencies: [
                "CairnCore",
                "CairnServing",
                "CairnStore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "CairnServing",
            dependencies: [
                "CairnCore",
                "CairnONNX",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "CairnServer",
            dependencies: [
                "CairnArtifacts",
                "CairnCore",
                "CairnMonitor",
                "CairnServing",
                "CairnStore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "cairn",
            dependencies: [
                "CairnMonitor",
                "CairnServer",
                "CairnServing",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CairnCoreTests",
            dependencies: ["CairnCore"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CairnStoreTests",
            dependencies: ["CairnStore"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CairnArtifactsTests",
            dependencies: [
                "CairnArtifacts",
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
            name: "CairnMonitorTests",
            dependencies: ["CairnMonitor"],
            exclude: ["Fixtures"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CairnServingTests",
            dependencies: [
                "CairnServing",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CairnServerTests",
            dependencies: [
                "CairnMonitor",
                "CairnServer",
                "CairnServing",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
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
            dependencies: ["CairnMonitor", "CairnStore", .product(name: "Logging", package: "swift-log")],
            path: "bench/monitoring",
            exclude: ["run.sh", "evidently_drift.py", "requirements.txt", "big_requests.py"],
            swiftSettings: swiftSettings
        ),
    ]
}
