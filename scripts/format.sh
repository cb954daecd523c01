#!/usr/bin/env bash
# Formats the Swift sources with the toolchain's swift-format and the checked-in
# .swift-format (4-space indent, 140 columns, as Hummingbird's). `--check` only lints, strictly:
# .ci/run uses it, so unformatted code fails CI.
# Rules turned off in .swift-format, and why: AlwaysUseLowerCamelCase (test vectors keep
# scipy's and scikit-learn's names, the ONNX kernels libm's), UseSynthesizedInitializer
# (public types need their explicit public init), OnlyOneTrailingClosureArgument (the test
# server's handler reads best as a trailing closure), AvoidRetroactiveConformances
# (ArgumentParser's ExpressibleByArgument on our own option types).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = "--check" ]; then
    swift format lint --strict --recursive --parallel Sources Tests bench Package.swift
else
    swift format format --in-place --recursive --parallel Sources Tests bench Package.swift
fi
