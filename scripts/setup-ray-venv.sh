#!/usr/bin/env bash
# Create (or update) the venv holding Ray for the `ray` executor's tests: a real Ray head runs
# from it (see .ci/run). Separate from the compat venv because ray[default] is large and pins
# its own dependency versions. Idempotent: a venv with the pinned version is left alone.
#
#   bash scripts/setup-ray-venv.sh              # creates ./.venv-ray in the repo root
#   RAY_VENV=/path/to/venv bash scripts/setup-ray-venv.sh
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RAY_VENV="${RAY_VENV:-$ROOT/.venv-ray}"
RAY_VERSION="2.60.0"
PYTHON="${PYTHON:-python3}"

if [ ! -x "$RAY_VENV/bin/python" ]; then
    echo "setup-ray-venv: creating $RAY_VENV with $($PYTHON --version 2>&1)"
    "$PYTHON" -m venv "$RAY_VENV"
fi

# The installed version from pip's metadata: importing ray to ask takes seconds.
if compgen -G "$RAY_VENV/lib/python3*/site-packages/ray-$RAY_VERSION.dist-info" >/dev/null && [ -x "$RAY_VENV/bin/ray" ]; then
    echo "setup-ray-venv: $RAY_VENV has ray $RAY_VERSION"
    exit 0
fi

export PIP_DISABLE_PIP_VERSION_CHECK=1
"$RAY_VENV/bin/python" -m pip install --quiet --upgrade pip
"$RAY_VENV/bin/python" -m pip install --quiet "ray[default]==$RAY_VERSION"
"$RAY_VENV/bin/python" -c 'import ray; print("setup-ray-venv: ray", ray.__version__)'
