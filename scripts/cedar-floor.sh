#!/usr/bin/env bash
# Size of a WebAssembly module doing only Cedar's part of phiguard's browser work (schema,
# policies, validation, entities, one decision), built like the browser package, with custom
# sections removed as wasm-bindgen does. Usage: bash scripts/cedar-floor.sh
set -euo pipefail
cd "$(dirname "$0")/cedar-floor"
cp ../../Cargo.lock .
measure() {
  local label=$1
  shift
  cargo build -q --release --target wasm32-unknown-unknown "$@"
  python3 - target/wasm32-unknown-unknown/release/cedar_floor.wasm "$label" <<'PY'
import gzip, sys
b = open(sys.argv[1], "rb").read()
def leb(i):
    r = s = 0
    while True:
        x = b[i]; i += 1; r |= (x & 0x7F) << s; s += 7
        if x < 0x80:
            return r, i
out, i = bytearray(b[:8]), 8
while i < len(b):
    start, sid = i, b[i]
    n, i = leb(i + 1)
    if sid != 0:
        out += b[start:i + n]
    i += n
print(f"cedar floor ({sys.argv[2]}): {len(out)} bytes raw, {len(gzip.compress(bytes(out), 9))} bytes gzip -9")
PY
}
measure "Cedar text schema, validation"
measure "JSON schema, no validation" --features lean
