#!/usr/bin/env bash
# Starts the whole service on its embedded default: a Temporal dev server persisted in SQLite
# under data/ (runs survive a restart of everything), the web UI, the worker, the API, and the
# demo restic repository. Ctrl-C, or SIGINT or SIGTERM to this process, stops everything it started.
#   TEMPORAL_PORT (7233), TEMPORAL_UI_PORT (8233), PORT (API, 3000)
set -euo pipefail
# Started in the background, a shell inherits SIGINT ignored, and bash cannot trap a signal that was
# ignored when it started: start again (same pid) with the default dispositions, so the trap holds.
if [[ -z "${RUNBOOKS_START_SIGNALS_RESET:-}" ]]; then
  RUNBOOKS_START_SIGNALS_RESET=1 exec env --default-signal=INT,TERM,HUP bash "$0" "$@"
fi
cd "$(dirname "$0")/.."
ROOT="$PWD"
DATA="${RUNBOOKS_DATA_DIR:-$ROOT/data}"
TEMPORAL_PORT="${TEMPORAL_PORT:-7233}"
TEMPORAL_UI_PORT="${TEMPORAL_UI_PORT:-8233}"
export PORT="${PORT:-3000}"
export TEMPORAL_ADDRESS="127.0.0.1:$TEMPORAL_PORT"
export RUNBOOKS_DATA_DIR="$DATA"
# Payloads in Temporal are encrypted; the demo key is made on the first start (production: real keys).
export RUNBOOKS_CODEC_KEYS="${RUNBOOKS_CODEC_KEYS:-secret:codec/demo}"
export RUNBOOKS_TEMPORAL_UI_ORIGIN="${RUNBOOKS_TEMPORAL_UI_ORIGIN:-http://127.0.0.1:$TEMPORAL_UI_PORT}"
mkdir -p "$DATA"

command -v restic >/dev/null || { echo "restic is not installed: sudo apt-get install -y restic" >&2; exit 1; }
[[ -d node_modules ]] || npm install --no-audit --no-fund
npm run build --silent

# Job control: each process started in the background below runs in a process group of its own, so
# a Ctrl-C in the terminal (SIGINT to the foreground process group) reaches this script alone, and
# cleanup stops the rest in its order rather than every process at once.
set -m
pids=()
# Stops the given processes: SIGTERM, then SIGKILL for any still there after 30 s.
stop() {
  for pid in "$@"; do kill -TERM "$pid" 2>/dev/null || true; done
  for _ in $(seq 1 60); do
    alive=0
    for pid in "$@"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    ((alive)) || break
    sleep 0.5
  done
  for pid in "$@"; do kill -KILL "$pid" 2>/dev/null || true; done
}
cleanup() {
  # Ignored from here on: a Ctrl-C reaches this script twice (from the terminal and forwarded by
  # npm), and a second signal must not cut the stopping short.
  trap - EXIT
  trap '' INT TERM HUP
  # Everything else first, while Temporal (the first started) still answers: the worker drains its
  # tasks and the API closes its connection against a live server. Then Temporal.
  if ((${#pids[@]} > 1)); then stop "${pids[@]:1}"; fi
  if ((${#pids[@]} > 0)); then stop "${pids[0]}"; fi
  wait || true
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# shellcheck source=scripts/dev-server.sh
source scripts/dev-server.sh
search_attribute_flags
bash scripts/temporal.sh server start-dev --ip 127.0.0.1 --port "$TEMPORAL_PORT" --ui-port "$TEMPORAL_UI_PORT" \
  --db-filename "$DATA/temporal.db" --log-level warn "${SEARCH_ATTRIBUTES[@]}" &
pids+=($!)
wait_for_temporal

node apps/worker/dist/demo/seed-demo.js "$DATA"
# The demo's desk-01 keeps its packages in a package root under data/ (seeded when run as root with
# dpkg-deb and apt-ftparchive): apt and dpkg act there, never on this machine's own packages.
if [[ -z "${RUNBOOKS_DEBIAN_PACKAGE_ROOT:-}" && -d "$DATA/demo/apt/roots/desk-01" ]]; then
  export RUNBOOKS_DEBIAN_PACKAGE_ROOT="$DATA/demo/apt/roots/desk-01"
fi
# The API signs what it asserts about each caller; the worker verifies it with the same key.
# A demo key is generated once per data folder; set RUNBOOKS_ASSERTION_KEYS to use your own.
if [[ -z "${RUNBOOKS_ASSERTION_KEYS:-}" ]]; then
  KEY_FILE="$DATA/assertion-keys.demo"
  [[ -s "$KEY_FILE" ]] || (umask 077 && node -e "console.log('demo1:' + require('crypto').randomBytes(32).toString('base64'))" >"$KEY_FILE")
  RUNBOOKS_ASSERTION_KEYS="$(cat "$KEY_FILE")"
fi
export RUNBOOKS_ASSERTION_KEYS
# The account runbooks' demo: a local slapd and a mail catcher (README "Walk-through: a new starter").
if [[ -x /usr/sbin/slapd ]]; then
  rm -f "$DATA/demo/accounts.env"
  node apps/worker/dist/demo/accounts-demo.js "$DATA" &
  pids+=($!)
  for _ in $(seq 1 100); do [[ -s "$DATA/demo/accounts.env" ]] && break; sleep 0.2; done
  # shellcheck source=/dev/null
  [[ -s "$DATA/demo/accounts.env" ]] && source "$DATA/demo/accounts.env"
else
  echo "slapd is not installed: the account runbooks have no directory (sudo apt-get install -y slapd ldap-utils acl)" >&2
fi
node apps/worker/dist/main.js &
pids+=($!)
node apps/api/dist/main.js &
pids+=($!)
# The incident demo's ERP standby (loopback), catalogue and request (README: "Respond to an incident").
node apps/worker/dist/demo/incident-demo.js "$DATA" &
pids+=($!)

echo
echo "Temporal UI:  http://127.0.0.1:$TEMPORAL_UI_PORT"
echo "API:          http://127.0.0.1:$PORT   (OpenAPI UI: http://127.0.0.1:$PORT/docs)"
echo "Demo request: $DATA/demo/restore-request.json   (walk-through in README.md)"
echo "Incident:     $DATA/demo/incident/incident-request.json   (README: Respond to an incident)"
[[ -n "${RUNBOOKS_LDAP_URL:-}" ]] && echo "Accounts:     directory $RUNBOOKS_LDAP_URL, mail caught in $DATA/demo/mail/"
wait -n "${pids[@]}"
