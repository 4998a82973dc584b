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
ready() { for _ in $(seq 1 120); do curl -sf "$API/readyz" >/dev/null && return 0; sleep 0.5; done; return 1; }
ready || { echo "the API at $API never answered /readyz" >&2; exit 1; }

# Things for the operations on one run, schedule or window to act on, so that the fuzzer reaches
# their logic rather than a 404 on an id it made up: a patch run parked at its production gate
# (approvals, rollout steering) and another to abort, a disk replacement waiting for its human
# task, a paused schedule, one to trigger and backfill (it fires once, in 2025: a backfill starts
# one run at most) and one to delete, a maintenance window and one to delete. The fuzzer's own
# token cannot be revoked by it, nor its admin role taken (the API refuses both to the caller).
call() { # METHOD PATH TOKEN [BODY]: the answer's body; fails on a status >= 400, the body on stderr
  curl -sS --fail-with-body -X "$1" "$API$2" -H "Authorization: Bearer $3" -H 'content-type: application/json' ${4:+-d "$4"}
}
field() { # NAME: the field of the JSON on stdin; fails when it has none
  node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const v=JSON.parse(s)[process.argv[1]];
    if (v === undefined) { console.error(`no ${process.argv[1]} in ${s}`); process.exit(1); } console.log(v)})' "$1"
}
until_run() { # RUN STATE: waits (up to a minute) until the run's status is STATE
  for _ in $(seq 1 120); do
    [[ "$(call GET "/v1/runs/$1" demo-admin-token | field status)" == "$2" ]] && return 0
    sleep 0.5
  done
  echo "run $1 did not reach $2" >&2
  return 1
}
PATCH="$(cat "$DATA/demo/patch-request.json")"
DISK_INPUT='{"host":"db-07","slot":"bay 3","notify":["dba-team"]}'
PATCH_RUN="$(call POST /v1/runs demo-technician-token "$PATCH" | field runId)"
ABORT_RUN="$(call POST /v1/runs demo-technician-token "$PATCH" | field runId)"
TASK_RUN="$(call POST /v1/runs demo-technician-token "{\"runbook\":\"disk-replacement\",\"input\":$DISK_INPUT}" | field runId)"
until_run "$PATCH_RUN" awaiting_approval
until_run "$ABORT_RUN" awaiting_approval
until_run "$TASK_RUN" awaiting_task
for id in fuzz-schedule fuzz-schedule-fired fuzz-schedule-deleted; do
  call POST /v1/schedules demo-scheduler-token "{\"id\":\"$id\",\"runbook\":\"disk-replacement\",\"input\":$DISK_INPUT,
    \"spec\":{\"cron\":[\"0 0 1 1 *\"],\"startAt\":\"2025-01-01T00:00:00Z\",\"endAt\":\"2025-12-31T00:00:00Z\"},\"paused\":true}" >/dev/null
done
for name in fuzz-window fuzz-window-deleted; do
  call PUT "/v1/maintenance/windows/$name" demo-scheduler-token '{"opens":"0 1 * * 0","timezone":"UTC","durationSeconds":3600}' >/dev/null
done
# schemathesis reads schemathesis.toml from its working folder: these ids for these operations.
pin() { # "METHOD PATH" 'toml inline table of parameters'
  printf '[[operations]]\ninclude-name = "%s"\nparameters = %s\n\n' "$1" "$2"
}
{
  pin "POST /v1/runs/{id}/approvals/{gateId}" "{ \"path.id\" = \"$PATCH_RUN\", \"path.gateId\" = \"approve-production\" }"
  for op in pause resume concurrency skip; do pin "POST /v1/runs/{id}/rollout/$op" "{ \"path.id\" = \"$PATCH_RUN\" }"; done
  pin "POST /v1/runs/{id}/rollout/abort" "{ \"path.id\" = \"$ABORT_RUN\" }"
  for op in claim release reassign complete; do
    pin "POST /v1/runs/{id}/tasks/{taskId}/$op" "{ \"path.id\" = \"$TASK_RUN\", \"path.taskId\" = \"swap-disk\" }"
  done
  for op in "GET /v1/schedules/{id}" "PATCH /v1/schedules/{id}" "GET /v1/schedules/{id}/pre-approvals" \
    "POST /v1/schedules/{id}/pre-approvals" "POST /v1/schedules/{id}/pause" "POST /v1/schedules/{id}/unpause"; do
    pin "$op" '{ "path.id" = "fuzz-schedule" }'
  done
  for op in trigger backfill; do pin "POST /v1/schedules/{id}/$op" '{ "path.id" = "fuzz-schedule-fired" }'; done
  pin "DELETE /v1/schedules/{id}" '{ "path.id" = "fuzz-schedule-deleted" }'
  pin "PUT /v1/maintenance/windows/{name}" '{ "path.name" = "fuzz-window" }'
  pin "DELETE /v1/maintenance/windows/{name}" '{ "path.name" = "fuzz-window-deleted" }'
} >"$DATA/schemathesis.toml"

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
