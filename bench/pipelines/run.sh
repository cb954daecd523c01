#!/usr/bin/env bash
# Cairn's pipeline engine vs DVC (`dvc status`, `dvc repro`) on the same projects, same machine,
# same run (issue 13's bench):
#   (a) status with nothing changed over a 100k-file dataset folder, warm;
#   (b) one changed file in that folder: how long until status sees it, and which stages rerun;
#   (c) 50 independent trivial stages: wall time of a full run, and per-stage overhead;
#   (d) a full cache-hit rerun (outputs deleted, every stage restored from the cache).
#
#   bench/pipelines/run.sh [--files 100000] [--stages 50] [--repeat 5]
#
# Uses .build/debug/cairn unless CAIRN_BIN points at a binary (build release for the figures:
# `swift build -c release --product cairn`), installs requirements.txt (DVC, pinned) into
# bench/.venv-dvc if missing, and writes bench/pipelines/results/latest.md.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
VENV="$ROOT/bench/.venv-dvc"
if [[ ! -x "$VENV/bin/python" ]] || ! cmp -s "$HERE/requirements.txt" "$VENV/.requirements.txt"; then
  [[ -x "$VENV/bin/python" ]] || python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q -r "$HERE/requirements.txt" >&2
  cp "$HERE/requirements.txt" "$VENV/.requirements.txt"
fi
CAIRN_BIN="$(realpath "${CAIRN_BIN:-$ROOT/.build/debug/cairn}")"
mkdir -p "$HERE/results"
exec "$VENV/bin/python" "$HERE/bench.py" --cairn "$CAIRN_BIN" --dvc "$VENV/bin/dvc" --out "$HERE/results/latest.md" "$@"
