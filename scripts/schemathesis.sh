#!/usr/bin/env bash
# Fuzzes the API with schemathesis over its own OpenAPI document, as admin, against the real
# service: a Temporal dev server (in memory), the worker and the API on free loopback ports, with
# the demo data seeded into a temporary folder. Fails on any 5xx or any response outside the
# document. Bounded: a fixed number of examples per operation and a time budget.
#   SCHEMATHESIS_MAX_EXAMPLES (15), SCHEMATHESIS_MAX_TIME (600 s), SCHEMATHESIS_SEED (1)
set -euo pipefail
cd "$(dirname "$0")/.."
command -v st >/dev/null || { echo "schemathesis is not installed: pip install schemathesis==4.32.5" >&2; exit 1; }

DATA="$(mktemp -d)"
free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
TEMPORAL_PORT="$(free_port)"
export TEMPORAL_ADDRESS="127.0.0.1:$TEMPORAL_PORT" RUNBOOKS_DATA_DIR="$DATA" PORT="$(free_port)" HOST=127.0.0.1
export RUNBOOKS_TASK_QUEUE="schemathesis" RUNBOOKS_CODEC_KEYS="secret:codec/demo" RUNBOOKS_API_LOG_LEVELS="error,fatal"

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait || true
  rm -rf "$DATA"
}
trap cleanup EXIT

# shellcheck source=scripts/dev-server.sh
source scripts/dev-server.sh
search_attribute_flags
bash scripts/temporal.sh server start-dev --ip 127.0.0.1 --port "$TEMPORAL_PORT" --headless --log-level error \
  "${SEARCH_ATTRIBUTES[@]}" &
pids+=($!)
wait_for_temporal

node apps/worker/dist/demo/seed-demo.js "$DATA" >/dev/null
node apps/worker/dist/main.js >"$DATA/worker.log" 2>&1 &
pids+=($!)
node apps/api/dist/main.js &
pids+=($!)

API="http://127.0.0.1:$PORT"
cd "$DATA" # schemathesis and hypothesis keep their caches in the working folder
st run "$API/openapi.json" \
  --wait-for-schema 60 \
  --header 'Authorization: Bearer demo-admin-token' \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
  --phases examples,coverage,fuzzing \
  --max-examples "${SCHEMATHESIS_MAX_EXAMPLES:-15}" \
  --max-time "${SCHEMATHESIS_MAX_TIME:-600}" \
  --seed "${SCHEMATHESIS_SEED:-1}" \
  --workers 1 \
  --request-timeout 30
