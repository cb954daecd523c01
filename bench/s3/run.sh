#!/usr/bin/env bash
# Cairn vs `mlflow server` with the same S3 artifact destination (moto's standalone server on
# loopback): a 1 GiB proxied upload and download through each tracking server, the bytes
# checked with boto3 as an independent client, and each server's peak resident memory.
#
#   bench/s3/run.sh [--size-mb 1024]
#
# Installs mlflow, moto[server] and boto3 (the versions Tests/compat/requirements.txt pins)
# into bench/.venv-s3, builds Cairn in release mode unless CAIRN_BIN is set, and writes
# bench/s3/results/latest.md.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
VENV="$ROOT/bench/.venv-s3"
SIZE_MB=1024
while [[ $# -gt 0 ]]; do
  case "$1" in
    --size-mb) SIZE_MB="$2"; shift 2 ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
done

if [[ ! -x "$VENV/bin/mlflow" ]] || ! "$VENV/bin/python" -c 'import moto, boto3' 2>/dev/null; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --upgrade pip
  "$VENV/bin/pip" install -q $(grep -E '^(mlflow|moto\[server\]|boto3)==' "$ROOT/Tests/compat/requirements.txt") requests
fi
if [[ -z "${CAIRN_BIN:-}" ]]; then
  (cd "$ROOT" && swift build -c release --product cairn >&2)
fi
CAIRN_BIN="$(realpath "${CAIRN_BIN:-$ROOT/.build/release/cairn}")"

WORK="$(mktemp -d "${BENCH_TMP:-/tmp}/cairn-s3.XXXXXX")"
PIDS=()
cleanup() { for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

mkdir -p "$HERE/results"
head -c "$((SIZE_MB * 1024 * 1024))" /dev/urandom > "$WORK/big.bin"
free_port() { "$VENV/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

moto_port=$(free_port)
"$VENV/bin/python" -m moto.server -H 127.0.0.1 -p "$moto_port" > "$WORK/moto.log" 2>&1 &
PIDS+=($!)
export AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench AWS_REGION=us-east-1
export MLFLOW_S3_ENDPOINT_URL="http://127.0.0.1:$moto_port"
"$VENV/bin/python" - <<'PY'
import os, time, boto3
for _ in range(600):
    try:
        boto3.client("s3", endpoint_url=os.environ["MLFLOW_S3_ENDPOINT_URL"]).create_bucket(Bucket="bench")
        break
    except Exception:
        time.sleep(0.1)
else:
    raise SystemExit("moto did not start")
PY

for server in cairn mlflow; do
  port=$(free_port)
  dir="$WORK/$server"; mkdir -p "$dir"
  if [[ $server == cairn ]]; then
    (cd "$dir" && exec "$CAIRN_BIN" server --host 127.0.0.1 --port "$port" --data-dir "$dir/data" \
      --artifacts-destination "s3://bench/$server") > "$dir/log" 2>&1 &
  else
    (cd "$dir" && MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false exec "$VENV/bin/mlflow" server --host 127.0.0.1 --port "$port" \
      --backend-store-uri "sqlite:///$dir/mlflow.db" --artifacts-destination "s3://bench/$server") > "$dir/log" 2>&1 &
  fi
  pid=$!
  PIDS+=($pid)
  "$VENV/bin/python" "$HERE/transfer.py" --url "http://127.0.0.1:$port" --pid "$pid" --big "$WORK/big.bin" \
    --bucket bench --key "$server/bench/big.bin" --out "$WORK/$server.json"
  kill "$pid"; wait "$pid" 2>/dev/null || true
done

"$VENV/bin/python" - "$WORK" "$SIZE_MB" > "$HERE/results/latest.md" <<'PY'
import json, sys
work, mb = sys.argv[1], int(sys.argv[2])
c = json.load(open(f"{work}/cairn.json")); m = json.load(open(f"{work}/mlflow.json"))
print("| workload (S3 on moto, loopback) | Cairn | MLflow |\n|---|---:|---:|")
print(f"| upload {mb} MiB through the server, MiB/s | {mb/c['put']:.0f} | {mb/m['put']:.0f} |")
print(f"| download {mb} MiB through the server, MiB/s | {mb/c['get']:.0f} | {mb/m['get']:.0f} |")
print(f"| peak server RSS during the upload, MiB | {c['put_rss_mib']:.0f} | {m['put_rss_mib']:.0f} |")
print(f"| peak server RSS during the download, MiB | {c['get_rss_mib']:.0f} | {m['get_rss_mib']:.0f} |")
print(f"| object in the bucket byte-identical (boto3), download identical | {c['verified']} | {m['verified']} |")
PY
cat "$HERE/results/latest.md"
