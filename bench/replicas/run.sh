#!/usr/bin/env bash
# Ingestion through nginx with 1, 2 and 3 `cairn server` replicas on one PostgreSQL database.
#
#   bench/replicas/run.sh [--replicas "1 2 3"] [--duration 15s] [--warmup 3s] [--connections 16]
#
# For each replica count: a fresh database on the PostgreSQL server (its user must be allowed
# to create databases), N replicas started together on it with one shared artifact directory,
# nginx (Debian's, generated config in a temp dir) balancing them with keep-alive upstream
# connections, then bench/tracking's wrk loads through nginx:
#   log-batch   wrk -t2 -c16, POST runs/log-batch with 100 metrics (distinct keys, unique steps)
#   log-metric  wrk -t2 -c16, POST runs/log-metric, one metric per request
# (bench/tracking/tracking.lua; runs prepared and the wrk output read by bench/tracking/bench.py).
# Prints a Markdown table (also written to bench/replicas/results/latest.md).
#
# Environment:
#   CAIRN_BIN                   cairn binary (default: .build/release/cairn)
#   CAIRN_BENCH_POSTGRES_URL    PostgreSQL server (default: $CAIRN_TEST_POSTGRES_URL, else
#                               postgres://cairn:cairn@127.0.0.1:5432/cairn_test); a database
#                               is created per replica count and dropped afterwards
#   PY                          Python with `requests` (default: bench/.venv-mlflow, else .venv)
#   BENCH_TMP                   parent dir for the replicas' data dirs (default: ${TMPDIR:-/tmp})
#
# Note: on a 2-core machine the replicas, PostgreSQL, nginx and wrk all share the cores: more
# replicas cannot add CPU here; the figures show what replication costs or gains on one host.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
CMDLINE="${CAIRN_BIN:+CAIRN_BIN=$CAIRN_BIN }bench/replicas/run.sh${*:+ $*}"

COUNTS="1 2 3"
DURATION="15s"
WARMUP="3s"
CONNS=16
THREADS=2
WRITE_RUNS=4
KEEP=0

while [[ $# -gt 0 ]]; do
  case "$1" in
    --replicas) COUNTS="$2"; shift 2 ;;
    --duration) DURATION="$2"; shift 2 ;;
    --warmup) WARMUP="$2"; shift 2 ;;
    --connections) CONNS="$2"; shift 2 ;;
    --keep) KEEP=1; shift ;;
    -h|--help) sed -n '2,24p' "$0"; exit 0 ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
done

log() { printf '\n==> %s\n' "$*" >&2; }
die() { printf '\nFATAL: %s\n' "$*" >&2; exit 1; }

POSTGRES="${CAIRN_BENCH_POSTGRES_URL:-${CAIRN_TEST_POSTGRES_URL:-postgres://cairn:cairn@127.0.0.1:5432/cairn_test}}"
NGINX="$(command -v nginx || echo /usr/sbin/nginx)"
[[ -x "$NGINX" ]] || die "nginx not found (apt-get install nginx)"
command -v wrk >/dev/null || die "wrk not found (apt-get install wrk)"
command -v psql >/dev/null || die "psql not found (apt-get install postgresql-client)"
if [[ -z "${PY:-}" ]]; then
  for candidate in "$ROOT/bench/.venv-mlflow/bin/python" "$ROOT/.venv/bin/python" "$(command -v python3 || true)"; do
    [[ -n "$candidate" && -x "$candidate" ]] && "$candidate" -c 'import requests' 2>/dev/null && { PY="$candidate"; break; }
  done
fi
[[ -n "${PY:-}" ]] || die "no Python with requests: set PY, or run bench/tracking/run.sh once (it makes bench/.venv-mlflow)"
BENCH="$PY $ROOT/bench/tracking/bench.py"
LUA="$ROOT/bench/tracking/tracking.lua"
CAIRN_BIN="$(realpath -s -m -- "${CAIRN_BIN:-$ROOT/.build/release/cairn}")"
[[ -x "$CAIRN_BIN" ]] || die "cairn binary not found: $CAIRN_BIN (set CAIRN_BIN)"
BUILD="release"
[[ "$CAIRN_BIN" == */debug/* ]] && BUILD="DEBUG BUILD, not representative"

WORK="$(mktemp -d "${BENCH_TMP:-${TMPDIR:-/tmp}}/cairn-bench-replicas.XXXXXX")"
mkdir -p "$HERE/results"
PIDS=()
DATABASE=""

database_url() {  # $1 = database name
  "$PY" -c 'import sys, urllib.parse as u; p = u.urlsplit(sys.argv[1]); print(u.urlunsplit((p.scheme, p.netloc, "/" + sys.argv[2], p.query, p.fragment)))' "$POSTGRES" "$1"
}

stop_all() {
  local pid
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  PIDS=()
  if [[ -n "$DATABASE" ]]; then
    psql -qtAX "$POSTGRES" -c "DROP DATABASE IF EXISTS $DATABASE WITH (FORCE)" >/dev/null || true
    DATABASE=""
  fi
}

cleanup() {
  local rc=$?
  stop_all
  if [[ $KEEP -eq 1 || $rc -ne 0 ]]; then echo "data dirs and logs kept in $WORK" >&2; else rm -rf "$WORK"; fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

wait_health() {  # $1 = URL, $2 = pid
  local i
  for i in $(seq 1 600); do
    kill -0 "$2" 2>/dev/null || return 1
    curl -sf "$1/health" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  return 1
}

run_wrk() {  # $1 = name, $2 = mode, $3 = items per request, $4 = URL, $5 = result dir
  wrk -t"$THREADS" -c"$CONNS" -d"$WARMUP" --latency --timeout 30s -s "$LUA" "$4" -- "$2" 0 $RUN_IDS > "$5/$1.warmup.txt" 2>&1 \
    || die "wrk warm-up failed: $(tail -5 "$5/$1.warmup.txt")"
  wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency --timeout 30s -s "$LUA" "$4" -- "$2" 100000000000 $RUN_IDS \
    > "$5/$1.wrk.txt" 2>&1 || die "wrk failed: $(tail -5 "$5/$1.wrk.txt")"
  $BENCH wrk-parse "$5/$1.wrk.txt" --out "$5/$1.json" --name "$1" --per-request "$3" --connections "$CONNS" --threads "$THREADS"
}

ROWS=()
for count in $COUNTS; do
  log "$count replica(s)"
  dir="$WORK/n$count"
  mkdir -p "$dir/artifacts" "$dir/nginx"
  DATABASE="cairn_bench_replicas_$$_$count"
  psql -qtAX "$POSTGRES" -c "CREATE DATABASE $DATABASE" >/dev/null
  url="$(database_url "$DATABASE")"
  servers=""
  ports=()
  for i in $(seq 1 "$count"); do
    port="$(free_port)"
    ports+=("$port")
    mkdir -p "$dir/replica-$i"
    setsid "$CAIRN_BIN" server --host 127.0.0.1 --port "$port" --data-dir "$dir/replica-$i" --backend-store-uri "$url" \
      --artifacts-destination "$dir/artifacts" > "$dir/replica-$i.log" 2>&1 &
    PIDS+=($!)
    servers+="        server 127.0.0.1:$port max_fails=1 fail_timeout=2s;"$'\n'
  done
  for i in $(seq 1 "$count"); do
    wait_health "http://127.0.0.1:${ports[$((i - 1))]}" "${PIDS[$((i - 1))]}" || die "replica $i did not start: $(tail -20 "$dir/replica-$i.log")"
  done
  nginx_port="$(free_port)"
  user=""
  [[ $(id -u) -eq 0 ]] && user="user root;"
  cat > "$dir/nginx/nginx.conf" <<EOF
$user
worker_processes 2;
pid $dir/nginx/nginx.pid;
error_log $dir/nginx/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $dir/nginx/body;
    proxy_temp_path $dir/nginx/proxy;
    fastcgi_temp_path $dir/nginx/fastcgi;
    uwsgi_temp_path $dir/nginx/uwsgi;
    scgi_temp_path $dir/nginx/scgi;
    upstream cairn {
$servers        keepalive 64;
    }
    server {
        listen 127.0.0.1:$nginx_port;
        client_max_body_size 0;
        location / {
            proxy_pass http://cairn;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host \$http_host;
            proxy_next_upstream error timeout http_502;
        }
    }
}
EOF
  "$NGINX" -c "$dir/nginx/nginx.conf" -p "$dir/nginx" -g 'daemon off;' > "$dir/nginx/stderr.log" 2>&1 &
  PIDS+=($!)
  URL="http://127.0.0.1:$nginx_port"
  wait_health "$URL" "${PIDS[-1]}" || die "nginx did not start: $(cat "$dir/nginx/stderr.log")"

  RUN_IDS="$($BENCH prep-write "$URL" --runs "$WRITE_RUNS")" || die "preparing runs failed"
  run_wrk logbatch logbatch 100 "$URL" "$dir"
  run_wrk logmetric logmetric 1 "$URL" "$dir"
  ROWS+=("$("$PY" - "$count" "$dir" <<'EOF'
import json, sys
count, d = sys.argv[1], sys.argv[2]
cells = []
for name in ("logbatch", "logmetric"):
    r = json.load(open(f"{d}/{name}.json"))
    rps = r["ok_req_per_s"]
    p99 = r["lat_us"]["p99"]
    errors = r["non2xx"] + r["socket_errors"]
    cells += [f"{rps:,.0f}", f"{p99 / 1000:.1f}" if p99 is not None else "n/a", str(errors)]
print(f"| {count} | " + " | ".join(cells) + " |")
EOF
)")
  stop_all
done

{
  echo "### Replicas on one PostgreSQL behind nginx ($BUILD)"
  echo
  echo "- date: $(date -u +%Y-%m-%dT%H:%M:%SZ); host: $(nproc) cores, $(uname -sr); PostgreSQL $(psql -qtAX "$POSTGRES" -c 'SHOW server_version' | cut -d' ' -f1); nginx $("$NGINX" -v 2>&1 | sed 's/.*nginx\///')"
  echo "- command: \`$CMDLINE\`"
  echo "- cairn: $CAIRN_BIN; wrk -t$THREADS -c$CONNS -d$DURATION after a $WARMUP warm-up, through nginx (keep-alive upstreams)"
  echo
  echo "| replicas | log-batch req/s (100 metrics) | log-batch p99 ms | errors | log-metric req/s | log-metric p99 ms | errors |"
  echo "|---|---|---|---|---|---|---|"
  printf '%s\n' "${ROWS[@]}"
} | tee "$HERE/results/latest.md"
