#!/usr/bin/env bash
# End-to-end CLI throughput: 1,000,000 patient rows (the bundled sample repeated with fresh
# ids) through the Safe Harbor and the pseudonymizing plan. Prints rows/s per run.
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${ROWS:-1000000}
dir=${BENCH_DIR:-target/bench-cli}
mkdir -p "$dir"
cargo build --release -q -p phiguard-cli
bin=target/release/phiguard
input="$dir/patients-$rows.csv"
if [ ! -s "$input" ]; then
  python3 - "$rows" "$input" <<'PY'
import csv, sys, uuid, random
n, out = int(sys.argv[1]), sys.argv[2]
random.seed(1)
rows = list(csv.reader(open("tests/data/patients.csv", newline="")))
hdr, body = rows[0], rows[1:]
with open(out, "w", newline="") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(hdr)
    for k in range(n):
        r = list(body[k % len(body)])
        r[0] = r[1] = str(uuid.UUID(int=random.getrandbits(128)))
        w.writerow(r)
PY
fi
[ -s "$dir/bench.key" ] || "$bin" keygen -o "$dir/bench.key" 2>/dev/null
echo "input: $input ($(du -h "$input" | cut -f1), $rows rows), $(nproc) cores"
for spec in "data_analyst HRESCH" "coder HOPERAT"; do
  set -- $spec
  for run in 1 2 3; do
    "$bin" deidentify --role "$1" --purpose "$2" --key-file "$dir/bench.key" \
      "$input" -o "$dir/out-$1.csv" 2>&1 | head -1 | sed "s/^phiguard: /$1 run $run: /"
  done
done
