#!/usr/bin/env bash
# Create (or update) the Python venv used by the compatibility suite in Tests/compat.
# Idempotent: re-running only installs what is missing or changed in requirements.txt.
#
#   bash scripts/setup-venv.sh            # creates ./.venv in the repo root
#   VENV=/path/to/venv bash scripts/setup-venv.sh
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${VENV:-$ROOT/.venv}"
REQ="$ROOT/Tests/compat/requirements.txt"
PYTHON="${PYTHON:-python3}"
STAMP="$VENV/.compat-requirements.sha256"

if [ ! -x "$VENV/bin/python" ]; then
    echo "setup-venv: creating $VENV with $($PYTHON --version 2>&1)"
    "$PYTHON" -m venv "$VENV"
fi

want="$(sha256sum "$REQ" | cut -d' ' -f1)"
have="$(cat "$STAMP" 2>/dev/null || true)"
if [ "$want" = "$have" ] && "$VENV/bin/python" -c 'import mlflow, pytest' 2>/dev/null; then
    echo "setup-venv: $VENV is up to date"
    exit 0
fi

export PIP_DISABLE_PIP_VERSION_CHECK=1
"$VENV/bin/python" -m pip install --quiet --upgrade pip
"$VENV/bin/python" -m pip install --quiet -r "$REQ"
echo "$want" > "$STAMP"
"$VENV/bin/python" -c 'import mlflow, pytest; print("setup-venv: mlflow", mlflow.__version__, "pytest", pytest.__version__)'
