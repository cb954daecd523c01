#!/usr/bin/env bash
# Runs every test: the Swift unit tests, then the MLflow-client compat suite against a live
# `cairn server` built from this tree.
set -euo pipefail
cd "$(dirname "$0")/.."

swift build
swift test

bash scripts/setup-venv.sh
CAIRN_BIN="$PWD/.build/debug/cairn" .venv/bin/python -m pytest Tests/compat -q
