#!/usr/bin/env bash
# Server time of a 1M-point metric chart: Cairn's /charts/metric.svg beside MLflow 3.17.2's
# get-history-bulk-interval (what its UI charts from), same data, same machine.
#
#   CAIRN_BIN=.build/release/cairn bench/ui/chart.sh [--points 1000000] [--reps 20] [--only cairn|mlflow]
#
# Python: the compat venv (mlflow 3.17.2, requests), or $PYTHON.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"
[ -x "$PYTHON" ] || PYTHON=/work/main/.venv/bin/python
exec "$PYTHON" "$HERE/chart.py" "$@"
