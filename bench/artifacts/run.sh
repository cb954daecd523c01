#!/usr/bin/env bash
# Cairn vs `mlflow server` on proxied artifact transfers, with `cp` of the same data on the
# same disk beside them, and each server's peak resident memory during the 1 GiB upload.
#
#   bench/artifacts/run.sh [--size-mb 1024] [--small 1000]
#
# Installs mlflow==3.17.2 into bench/.venv-mlflow (shared with bench/tracking), builds Cairn
# in release mode unless CAIRN_BIN is set, and writes bench/artifacts/results/latest.md.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
VENV="$ROOT/bench/.venv-mlflow"
SIZE_MB=1024
SMALL=1000
while [[ $# -gt 0 ]]; do
  case "$1" in
    --size-mb) SIZE_MB="$2"; shift 2 ;;
    --small) SMALL="$2"; shift 2 ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
done

if [[ ! -x "$VENV/bin/mlflow" ]]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --upgrade pip
  "$VENV/bin/pip" install -q "mlflow==3.17.2" requests
fi
if [[ -z "${CAIRN_BIN:-}" ]]; then
  (cd "$ROOT" && swift build -c release --product cairn >&2)
fi
CAIRN_BIN="$(realpath "${CAIRN_BIN:-$ROOT/.build/release/cairn}")"

WORK="$(mktemp -d "${BENCH_TMP:-/tmp}/cairn-artifacts.XXXXXX")"
PID=""
cleanup() { [[ -n "$PID" ]] && kill "$PID" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

mkdir -p "$WORK/data/small" "$HERE/results"
head -c "$((SIZE_MB * 1024 * 1024))" /dev/urandom > "$WORK/data/big.bin"
for i in $(seq 1 "$SMALL"); do head -c 4096 /dev/urandom > "$WORK/data/small/f$i.bin"; done
sync

free_port() { "$VENV/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# cp of the same data on the same disk: the ceiling for a transfer that lands in a file.
cp_big=$( { /usr/bin/time -f %e cp "$WORK/data/big.bin" "$WORK/cp-big.bin"; } 2>&1 )
cp_small=$( { /usr/bin/time -f %e cp -r "$WORK/data/small" "$WORK/cp-small"; } 2>&1 )
rm -rf "$WORK/cp-big.bin" "$WORK/cp-small"

declare -A RESULT
for server in cairn mlflow; do
  port=$(free_port)
  dir="$WORK/$server"; mkdir -p "$dir"
  if [[ $server == cairn ]]; then
    (cd "$dir" && exec "$CAIRN_BIN" server --host 127.0.0.1 --port "$port" --data-dir "$dir/data") > "$dir/log" 2>&1 &
  else
    (cd "$dir" && MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false exec "$VENV/bin/mlflow" server --host 127.0.0.1 --port "$port" \
      --backend-store-uri "sqlite:///$dir/mlflow.db" --artifacts-destination "$dir/artifacts") > "$dir/log" 2>&1 &
  fi
  PID=$!
  "$VENV/bin/python" "$HERE/transfer.py" --url "http://127.0.0.1:$port" --pid "$PID" \
    --big "$WORK/data/big.bin" --small "$WORK/data/small" --out "$WORK/$server.json"
  # The same 1 GiB through curl, so the client is not the bottleneck: the server's own speed.
  base="http://127.0.0.1:$port/api/2.0/mlflow-artifacts/artifacts/curl"
  curl_put=$( { /usr/bin/time -f %e curl -sS -f -H "Expect:" -T "$WORK/data/big.bin" "$base/big.bin" -o /dev/null; } 2>&1 )
  curl_get=$( { /usr/bin/time -f %e curl -sS -f "$base/big.bin" -o "$WORK/curl-download.bin"; } 2>&1 )
  cmp -s "$WORK/data/big.bin" "$WORK/curl-download.bin" || { echo "curl round trip differs for $server" >&2; exit 1; }
  rm -f "$WORK/curl-download.bin"
  echo "{\"put\": $curl_put, \"get\": $curl_get}" > "$WORK/$server-curl.json"
  kill "$PID"; wait "$PID" 2>/dev/null || true; PID=""
done

"$VENV/bin/python" - "$WORK" "$cp_big" "$cp_small" "$SIZE_MB" "$SMALL" > "$HERE/results/latest.md" <<'PY'
import json, sys
work, cp_big, cp_small, size_mb, small = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
c = json.load(open(f"{work}/cairn.json")); m = json.load(open(f"{work}/mlflow.json"))
cc = json.load(open(f"{work}/cairn-curl.json")); mc = json.load(open(f"{work}/mlflow-curl.json"))
mb = size_mb
print(f"| workload | Cairn | MLflow | cp |\n|---|---:|---:|---:|")
print(f"| upload {mb} MiB, MiB/s | {mb/c['big_put']:.0f} | {mb/m['big_put']:.0f} | {mb/cp_big:.0f} |")
print(f"| download {mb} MiB, MiB/s | {mb/c['big_get']:.0f} | {mb/m['big_get']:.0f} | {mb/cp_big:.0f} |")
print(f"| upload {mb} MiB with curl, MiB/s | {mb/cc['put']:.0f} | {mb/mc['put']:.0f} | {mb/cp_big:.0f} |")
print(f"| download {mb} MiB with curl, MiB/s | {mb/cc['get']:.0f} | {mb/mc['get']:.0f} | {mb/cp_big:.0f} |")
print(f"| upload {small} × 4 KiB files, s | {c['small_put']:.2f} | {m['small_put']:.2f} | {cp_small:.2f} |")
print(f"| download {small} × 4 KiB files, s | {c['small_get']:.2f} | {m['small_get']:.2f} | {cp_small:.2f} |")
print(f"| peak RSS during the {mb} MiB upload, MiB | {c['peak_rss_mib']:.0f} | {m['peak_rss_mib']:.0f} | — |")
print(f"| bytes verified (sha256) | {c['verified']} | {m['verified']} | — |")
PY
cat "$HERE/results/latest.md"
