#!/usr/bin/env bash
# Load benchmark of `phiguard serve` (a benchmark, not a test: `make bench-server`).
# The server is pinned to core 0 and wrk to core 1, on 127.0.0.1 only, each run bounded in
# time (DURATION seconds). Default pack, warm plans, the 28-field demo patient record, audit
# on (HMAC-chained, written through per request). Development auth (no JWT verification).
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-20}
PORT=${PORT:-18707}
command -v wrk >/dev/null || { echo "bench-server: installing wrk (Debian)"; apt-get install -y -q wrk >/dev/null; }
cargo build --release -q -p phiguard-cli
dir=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$dir"' EXIT
target/release/phiguard keygen -o "$dir/key" >/dev/null
cat > "$dir/serve.toml" <<TOML
listen = "127.0.0.1:$PORT"
key_file = "$dir/key"
audit_log = "$dir/audit.log"
as_of_year = 2026
[auth]
mode = "development"
TOML
taskset -c 0 target/release/phiguard serve --config "$dir/serve.toml" 2>"$dir/server.err" &
pid=$!
for _ in $(seq 50); do
  curl -fs "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break
  sleep 0.1
done
python3 - "$dir" <<'PY'
import csv, json, sys
d = sys.argv[1]
rows = list(csv.DictReader(open("tests/data/patients.csv")))
one = json.dumps(rows[0])
batch = json.dumps({"records": [rows[i % len(rows)] for i in range(100)]})
def lua(path, body):
    return ('wrk.method = "POST"\n'
            f'wrk.body = {json.dumps(body)}\n'
            'wrk.headers["Content-Type"] = "application/json"\n'
            'wrk.headers["X-Phiguard-User"] = "an-1"\n'
            'wrk.headers["X-Phiguard-Roles"] = "data_analyst"\n'
            'wrk.headers["X-Purpose-Of-Use"] = "HRESCH"\n')
open(f"{d}/one.lua", "w").write(lua("/v1/records/apply", one))
open(f"{d}/batch.lua", "w").write(lua("/v1/records/batch", batch))
print(f"record: {len(rows[0])} fields, {len(one)} bytes; batch: 100 records, {len(batch)} bytes")
PY
run() { # name path script connections
  echo "== $1 ($4 connections, ${DURATION}s, wrk on core 1, server on core 0)"
  taskset -c 1 wrk -t1 -c"$4" -d2s -s "$dir/$3" "http://127.0.0.1:$PORT$2" >/dev/null
  taskset -c 1 wrk -t1 -c"$4" -d"${DURATION}s" --latency -s "$dir/$3" "http://127.0.0.1:$PORT$2" \
    | grep -E "Requests/sec|Latency|50%|75%|90%|99%|requests in|Non-2xx|Socket errors"
}
run "one record" /v1/records/apply one.lua 8
run "one record, 1 connection" /v1/records/apply one.lua 1
run "batch of 100" /v1/records/batch batch.lua 2
echo "server RSS: $(( $(ps -o rss= -p "$pid") / 1024 )) MiB; audit log: $(wc -l < "$dir/audit.log") events"
target/release/phiguard audit verify "$dir/audit.log" --key-file "$dir/key" 2>&1 | tail -1
