#!/usr/bin/env bash
# Starts the whole service on its embedded default: a Temporal dev server persisted in SQLite
# under data/ (runs survive a restart of everything), the web UI, the worker, the API, and the
# demo restic repository. Ctrl-C stops everything.
#   TEMPORAL_PORT (7233), TEMPORAL_UI_PORT (8233), PORT (API, 3000)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
DATA="${RUNBOOKS_DATA_DIR:-$ROOT/data}"
TEMPORAL_PORT="${TEMPORAL_PORT:-7233}"
TEMPORAL_UI_PORT="${TEMPORAL_UI_PORT:-8233}"
export PORT="${PORT:-3000}"
export TEMPORAL_ADDRESS="127.0.0.1:$TEMPORAL_PORT"
export RUNBOOKS_DATA_DIR="$DATA"
mkdir -p "$DATA"

command -v restic >/dev/null || { echo "restic is not installed: sudo apt-get install -y restic" >&2; exit 1; }
[[ -d node_modules ]] || npm install --no-audit --no-fund
npm run build --silent

pids=()
cleanup() {
  trap - EXIT INT TERM
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait || true
}
trap cleanup EXIT INT TERM

SEARCH_ATTRIBUTES=()
while read -r sa; do SEARCH_ATTRIBUTES+=(--search-attribute "$sa"); done < <(node -e \
  "require('./libs/contracts/dist').SEARCH_ATTRIBUTE_REGISTRATIONS.forEach(s => console.log(s))")

bash scripts/temporal.sh server start-dev --ip 127.0.0.1 --port "$TEMPORAL_PORT" --ui-port "$TEMPORAL_UI_PORT" \
  --db-filename "$DATA/temporal.db" --log-level warn "${SEARCH_ATTRIBUTES[@]}" &
pids+=($!)
for _ in $(seq 1 120); do
  bash scripts/temporal.sh operator cluster health --address "$TEMPORAL_ADDRESS" >/dev/null 2>&1 && break
  sleep 0.5
done
bash scripts/temporal.sh operator cluster health --address "$TEMPORAL_ADDRESS" >/dev/null

node apps/worker/dist/demo/seed-demo.js "$DATA"
# The API signs what it asserts about each caller; the worker verifies it with the same key.
# A demo key is generated once per data folder; set RUNBOOKS_ASSERTION_KEYS to use your own.
if [[ -z "${RUNBOOKS_ASSERTION_KEYS:-}" ]]; then
  KEY_FILE="$DATA/assertion-keys.demo"
  [[ -s "$KEY_FILE" ]] || (umask 077 && node -e "console.log('demo1:' + require('crypto').randomBytes(32).toString('base64'))" >"$KEY_FILE")
  RUNBOOKS_ASSERTION_KEYS="$(cat "$KEY_FILE")"
fi
export RUNBOOKS_ASSERTION_KEYS
node apps/worker/dist/main.js &
pids+=($!)
node apps/api/dist/main.js &
pids+=($!)

echo
echo "Temporal UI:  http://127.0.0.1:$TEMPORAL_UI_PORT"
echo "API:          http://127.0.0.1:$PORT   (OpenAPI UI: http://127.0.0.1:$PORT/docs)"
echo "Demo request: $DATA/demo/restore-request.json   (walk-through in README.md)"
wait -n "${pids[@]}"
