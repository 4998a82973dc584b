#!/usr/bin/env bash
# The production shape without Docker: PostgreSQL 15 (Debian's), the Temporal server v1.29.1 on it
# (postgres12 plugin, schemas set up by Temporal's `sql` tool), the `default` namespace with the
# runbooks' search attributes, two workers and two API replicas on a runbooks database. Everything
# listens on 127.0.0.1, on free ports. Used by `npm run test:production` and CI.
#
#   scripts/production-stack.sh start   start it (builds the Temporal server and sql tool once if missing)
#   scripts/production-stack.sh env     print `export NAME=value` lines to reach it
#   scripts/production-stack.sh stop    stop everything and delete its folder
#   scripts/production-stack.sh worker a|b   start a stopped (crashed) worker again
#   scripts/production-stack.sh api a|b      start a stopped (crashed) API replica again
#   scripts/production-stack.sh temporal     start a stopped (crashed) Temporal server again, same ports
#   scripts/production-stack.sh build   only build the Temporal server and sql tool when missing
#
# RUNBOOKS_STACK_DIR   where it lives (default: $TMPDIR/runbooks-production-stack); one stack per folder
# RUNBOOKS_STACK_PG_PORT, RUNBOOKS_STACK_TEMPORAL_PORT, RUNBOOKS_STACK_API_PORTS ("a b")  fixed ports (default: free ones)
# TEMPORAL_SERVER_BIN, TEMPORAL_SQL_BIN  prebuilt binaries (default: $(go env GOPATH)/bin/{server,sql}, built if missing)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
STACK="${RUNBOOKS_STACK_DIR:-${TMPDIR:-/tmp}/runbooks-production-stack}"
TEMPORAL_SERVER_VERSION=v1.29.1

log() { echo "production-stack: $*" >&2; }
die() {
  log "$*"
  exit 1
}

# The Temporal server and its sql tool, built from the module (~4 min on 2 cores, once).
temporal_binaries() {
  local gobin
  gobin="$(go env GOBIN)"
  [[ -n "$gobin" ]] || gobin="$(go env GOPATH)/bin"
  SERVER_BIN="${TEMPORAL_SERVER_BIN:-$gobin/server}"
  SQL_BIN="${TEMPORAL_SQL_BIN:-$gobin/sql}"
  if [[ ! -x "$SERVER_BIN" ]]; then
    log "building the Temporal server $TEMPORAL_SERVER_VERSION (once)"
    go install "go.temporal.io/server/cmd/server@$TEMPORAL_SERVER_VERSION"
  fi
  if [[ ! -x "$SQL_BIN" ]]; then
    log "building the Temporal sql tool $TEMPORAL_SERVER_VERSION (once)"
    go install "go.temporal.io/server/cmd/tools/sql@$TEMPORAL_SERVER_VERSION"
  fi
  SCHEMA_DIR="$(go env GOMODCACHE)/go.temporal.io/server@$TEMPORAL_SERVER_VERSION/schema/postgresql/v12"
  [[ -d "$SCHEMA_DIR" ]] || go mod download "go.temporal.io/server@$TEMPORAL_SERVER_VERSION"
  [[ -d "$SCHEMA_DIR" ]] || die "no PostgreSQL schema at $SCHEMA_DIR"
}

pg_bindir() {
  local dir
  dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)"
  [[ -x "$dir/initdb" ]] || die "PostgreSQL is not installed: apt-get install -y postgresql"
  echo "$dir"
}

# PostgreSQL refuses to run as root: as root, its programs run as the postgres user.
as_postgres() {
  if ((EUID == 0)); then runuser -u postgres -- "$@"; else "$@"; fi
}

# n distinct free loopback ports, held together so none is handed out twice. Drawn below the
# kernel's ephemeral range (32768+): Temporal stores membership ports as a PostgreSQL smallint.
free_ports() {
  node -e '
    const net = require("net");
    const n = Number(process.argv[1]);
    const servers = [];
    const next = () => {
      if (servers.length === n) {
        console.log(servers.map((s) => s.address().port).join(" "));
        servers.forEach((s) => s.close());
        return;
      }
      const port = 20000 + Math.floor(Math.random() * 12000);
      const s = net.createServer();
      s.once("error", next);
      s.listen(port, "127.0.0.1", () => { servers.push(s); next(); });
    };
    next();' "$1"
}

# Succeeds when the URL answers 2xx (node, so the stack needs no curl).
http_ok() {
  node -e 'fetch(process.argv[1]).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))' "$1"
}

# Retries a command until it succeeds; gives up early if the stack's process `needs` has died.
wait_for() {
  local what="$1" tries="$2" needs="$3"
  shift 3
  for _ in $(seq 1 "$tries"); do
    "$@" >/dev/null 2>&1 && return 0
    kill -0 "$(cat "$STACK/pids/$needs")" 2>/dev/null || die "$what: $needs exited (see $STACK/logs/$needs.log)"
    sleep 0.5
  done
  die "$what did not come up (see $STACK/logs)"
}

start_process() {
  local name="$1"
  shift
  nohup "$@" >"$STACK/logs/$name.log" 2>&1 &
  echo $! >"$STACK/pids/$name"
}

start() {
  [[ ! -e "$STACK/env" ]] || die "a stack is already running in $STACK (stop it first)"
  command -v node >/dev/null || die "node is not installed"
  temporal_binaries
  local pgbin temporal_cli
  pgbin="$(pg_bindir)"
  temporal_cli="$(bash scripts/temporal.sh --path)"
  [[ -f apps/worker/dist/main.js && -f apps/api/dist/main.js ]] || die "build first: npm run build"

  # Never wipe a folder the caller pointed at by mistake: it must be new or empty.
  [[ ! -e "$STACK" || -z "$(ls -A "$STACK")" ]] || die "$STACK exists and is not empty: choose another RUNBOOKS_STACK_DIR"
  mkdir -p "$STACK"/{logs,pids,data,pg,run}
  chmod 755 "$STACK" "$STACK/run"
  ((EUID != 0)) || chown postgres "$STACK/pg" "$STACK/run" "$STACK/logs"
  as_postgres test -w "$STACK/pg" || die "the postgres user cannot reach $STACK (its parent folders must be searchable)"
  trap 'failed_start' EXIT

  local ports
  read -r -a ports <<<"$(free_ports 14)"
  local api_ports=(${RUNBOOKS_STACK_API_PORTS:-${ports[12]} ${ports[13]}})
  export TEMPORAL_DB_PORT="${RUNBOOKS_STACK_PG_PORT:-${ports[0]}}"
  export TEMPORAL_FRONTEND_PORT="${RUNBOOKS_STACK_TEMPORAL_PORT:-${ports[1]}}"
  export TEMPORAL_FRONTEND_HTTP_PORT="${ports[2]}" TEMPORAL_FRONTEND_MEMBERSHIP_PORT="${ports[3]}"
  export TEMPORAL_HISTORY_PORT="${ports[4]}" TEMPORAL_HISTORY_MEMBERSHIP_PORT="${ports[5]}"
  export TEMPORAL_MATCHING_PORT="${ports[6]}" TEMPORAL_MATCHING_MEMBERSHIP_PORT="${ports[7]}"
  export TEMPORAL_WORKER_PORT="${ports[8]}" TEMPORAL_WORKER_MEMBERSHIP_PORT="${ports[9]}"
  export TEMPORAL_METRICS_PORT="${ports[10]}"
  export TEMPORAL_DYNAMIC_CONFIG_FILE="$ROOT/config/temporal-dynamic-config.yaml"
  export TEMPORAL_DB_USER=temporal
  # Passwords are made here and kept in the stack's folder only (mode 600).
  local superuser_pw runbooks_pw
  superuser_pw="$(node -e 'console.log(require("crypto").randomBytes(18).toString("hex"))')"
  export TEMPORAL_DB_PASSWORD="$(node -e 'console.log(require("crypto").randomBytes(18).toString("hex"))')"
  runbooks_pw="$(node -e 'console.log(require("crypto").randomBytes(18).toString("hex"))')"

  log "PostgreSQL on 127.0.0.1:$TEMPORAL_DB_PORT"
  (umask 077 && echo "$superuser_pw" >"$STACK/run/superuser-password")
  ((EUID != 0)) || chown postgres "$STACK/run/superuser-password"
  as_postgres "$pgbin/initdb" -D "$STACK/pg" -U postgres --pwfile="$STACK/run/superuser-password" \
    --auth-host=scram-sha-256 --auth-local=peer -E UTF8 --locale=C.UTF-8 >"$STACK/logs/initdb.log"
  rm -f "$STACK/run/superuser-password"
  as_postgres "$pgbin/pg_ctl" -D "$STACK/pg" -l "$STACK/logs/postgresql.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $TEMPORAL_DB_PORT -c unix_socket_directories=$STACK/run -c max_connections=200" start >/dev/null
  psql_super() { PGPASSWORD="$superuser_pw" psql -h 127.0.0.1 -p "$TEMPORAL_DB_PORT" -U postgres -v ON_ERROR_STOP=1 -q "$@"; }
  psql_super -d postgres <<SQL
CREATE ROLE temporal LOGIN CREATEDB PASSWORD '$TEMPORAL_DB_PASSWORD';
CREATE ROLE runbooks LOGIN PASSWORD '$runbooks_pw';
CREATE DATABASE runbooks OWNER runbooks;
SQL

  log "Temporal schemas ($SCHEMA_DIR)"
  local db
  # The password goes by environment, not on a command line others can list.
  export SQL_PASSWORD="$TEMPORAL_DB_PASSWORD"
  for db in temporal:temporal temporal_visibility:visibility; do
    local sql=("$SQL_BIN" --plugin postgres12 --ep 127.0.0.1 -p "$TEMPORAL_DB_PORT" -u temporal --db "${db%%:*}")
    "${sql[@]}" create-database >>"$STACK/logs/schema.log" 2>&1
    "${sql[@]}" setup-schema -v 0.0 >>"$STACK/logs/schema.log" 2>&1
    "${sql[@]}" update-schema -d "$SCHEMA_DIR/${db##*:}/versioned" >>"$STACK/logs/schema.log" 2>&1
  done

  export TEMPORAL_ADDRESS="127.0.0.1:$TEMPORAL_FRONTEND_PORT"
  # What the server needs to start again on the same ports (a supervisor's unit file, in effect);
  # it holds the database password, so only the stack's owner reads it.
  (umask 077 && export -p | grep -E '^declare -x (TEMPORAL_|SQL_PASSWORD)' >"$STACK/temporal.env")
  log "Temporal server $TEMPORAL_SERVER_VERSION on $TEMPORAL_ADDRESS"
  start_temporal
  wait_for "the Temporal server" 240 temporal "$temporal_cli" operator cluster health --address "$TEMPORAL_ADDRESS"
  # The real server creates no namespace; retry while its services finish joining.
  wait_for "namespace default" 120 temporal "$temporal_cli" operator namespace create --address "$TEMPORAL_ADDRESS" --namespace default --retention 72h
  local sa_args=()
  while read -r sa; do sa_args+=(--name "${sa%%=*}" --type "${sa##*=}"); done < <(node -e \
    "require('./libs/contracts/dist').SEARCH_ATTRIBUTE_REGISTRATIONS.forEach(s => console.log(s))")
  wait_for "the search attributes" 60 temporal "$temporal_cli" operator search-attribute create --address "$TEMPORAL_ADDRESS" --namespace default "${sa_args[@]}"

  unset TEMPORAL_DB_PASSWORD SQL_PASSWORD # the server has it; the workers and APIs must not

  # One workflow bundle for both workers, so neither spends its start-up bundling.
  node -e "require('./apps/worker/dist/bundle').bundleRunbookWorkflows().then((b) => require('fs').writeFileSync(process.argv[1], b.code))" \
    "$STACK/workflow-bundle.js"

  write_secrets

  cat >"$STACK/env" <<ENV
export RUNBOOKS_STACK_DIR=$STACK
export TEMPORAL_ADDRESS=$TEMPORAL_ADDRESS
export TEMPORAL_NAMESPACE=default
export RUNBOOKS_DATABASE_URL=postgres://runbooks:$runbooks_pw@127.0.0.1:$TEMPORAL_DB_PORT/runbooks
export RUNBOOKS_DATA_DIR=$STACK/data
export RUNBOOKS_WORKFLOW_BUNDLE=$STACK/workflow-bundle.js
export RUNBOOKS_PRINCIPALS_FILE=${RUNBOOKS_PRINCIPALS_FILE:-$ROOT/config/principals.demo.json}
export RUNBOOKS_SECRETS_FILE=$STACK/secrets.json
export RUNBOOKS_SECRETS_DIR=$STACK/secrets
export RUNBOOKS_CODEC_KEYS=secret:codec/stack
export RUNBOOKS_ASSERTION_KEYS=stack1:$(node -e 'console.log(require("crypto").randomBytes(32).toString("base64"))')
export RUNBOOKS_STACK_RESTIC_REPOSITORY=$STACK/data/restic/repo
export RUNBOOKS_STACK_RESTIC_PASSWORD_REF=secret:backup/stack
export RUNBOOKS_API_A=http://127.0.0.1:${api_ports[0]}
export RUNBOOKS_API_B=http://127.0.0.1:${api_ports[1]}
export RUNBOOKS_STACK_WORKERS="a b"
ENV
  chmod 600 "$STACK/env"
  # shellcheck disable=SC1091
  source "$STACK/env"

  # The store's migrations once, before any replica starts.
  log "store migrations"
  node libs/store/dist/migrate-cli.js >"$STACK/logs/migrate.log" 2>&1

  local w
  for w in a b; do start_worker "$w"; done
  for w in a b; do start_api "$w"; done
  wait_for "API a" 120 api-a http_ok "$RUNBOOKS_API_A/readyz"
  wait_for "API b" 120 api-b http_ok "$RUNBOOKS_API_B/readyz"
  trap - EXIT
  log "up: API $RUNBOOKS_API_A and $RUNBOOKS_API_B, Temporal $TEMPORAL_ADDRESS (scripts/production-stack.sh env)"
}

# The secrets every replica reads by name (same file, same folder): the payload codec key, which the
# APIs and workers must share, and the password of the stack's restic repository, usable by
# technicians' data-restore runs against that repository only. Random values, made once per stack.
write_secrets() {
  local random_key='console.log(require("crypto").randomBytes(32).toString("base64"))'
  mkdir -p "$STACK/secrets/codec" "$STACK/secrets/backup"
  chmod 700 "$STACK/secrets"
  (umask 077 && node -e "$random_key" >"$STACK/secrets/codec/stack" && node -e "$random_key" >"$STACK/secrets/backup/stack")
  (umask 077 && cat >"$STACK/secrets.json") <<JSON
{ "secrets": [
  { "name": "codec/stack", "description": "payload codec key of this stack",
    "source": { "backend": "file", "file": "codec/stack" }, "runbooks": [], "roles": [] },
  { "name": "backup/stack", "description": "restic password of the stack's repository",
    "source": { "backend": "file", "file": "backup/stack" }, "runbooks": ["data-restore"], "roles": ["technician"],
    "repositories": ["$STACK/data/restic/repo"] }
] }
JSON
}

start_temporal() {
  start_process temporal "$SERVER_BIN" --allow-no-auth --root "$ROOT" --config config --env temporal-postgres start
}

# (Re)starts the Temporal server of the running stack on its old ports, as a supervisor would after
# a crash, and waits until it answers.
restart_temporal() {
  expect_stopped temporal
  temporal_binaries
  # shellcheck disable=SC1091
  source "$STACK/temporal.env"
  start_temporal
  wait_for "the Temporal server" 240 temporal "$(bash scripts/temporal.sh --path)" operator cluster health --address "$TEMPORAL_ADDRESS"
}

# Worker a or b, on its own stable id (its own task queue survives a restart).
start_worker() {
  log "worker $1"
  RUNBOOKS_WORKER_ID="worker-$1" start_process "worker-$1" node apps/worker/dist/main.js
}

# API replica a or b, on the port its URL in the env file names.
start_api() {
  local url="RUNBOOKS_API_${1^^}"
  log "API $1 on ${!url}"
  HOST=127.0.0.1 PORT="${!url##*:}" start_process "api-$1" node apps/api/dist/main.js
}

# Checks that the stack runs and its process `name` does not (any more), then loads the stack's env.
expect_stopped() {
  local name="$1" pid
  [[ -f "$STACK/env" ]] || die "no stack running in $STACK"
  pid="$(cat "$STACK/pids/$name" 2>/dev/null || true)"
  [[ -z "$pid" ]] || ! kill -0 "$pid" 2>/dev/null || die "$name is still running (pid $pid)"
  # shellcheck disable=SC1091
  source "$STACK/env"
}

# (Re)starts API replica a or b of the running stack and waits until it is ready.
restart_api() {
  [[ "${1:-}" =~ ^(a|b)$ ]] || die "usage: $0 api a|b"
  expect_stopped "api-$1"
  start_api "$1"
  local url="RUNBOOKS_API_${1^^}"
  wait_for "API $1" 120 "api-$1" http_ok "${!url}/readyz"
}

# (Re)starts worker a or b of the running stack, as a supervisor would after a crash.
restart_worker() {
  [[ "${1:-}" =~ ^(a|b)$ ]] || die "usage: $0 worker a|b"
  expect_stopped "worker-$1"
  start_worker "$1"
}

# Shows the end of every log (the folder goes with the stack), then stops what was started.
failed_start() {
  trap - EXIT
  local f
  for f in "$STACK"/logs/*.log; do
    [[ -s "$f" ]] && { echo "--- $f" >&2; tail -n 20 "$f" >&2; }
  done
  log "start failed; stopping what was started"
  stop
  exit 1
}

stop() {
  local pidfile
  for pidfile in "$STACK"/pids/api-* "$STACK"/pids/worker-* "$STACK"/pids/temporal; do
    [[ -f "$pidfile" ]] || continue
    kill -TERM "$(cat "$pidfile")" 2>/dev/null || true
  done
  for pidfile in "$STACK"/pids/*; do
    [[ -f "$pidfile" ]] || continue
    local pid
    pid="$(cat "$pidfile")"
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  if [[ -f "$STACK/pg/postmaster.pid" ]]; then
    as_postgres "$(pg_bindir)/pg_ctl" -D "$STACK/pg" -m fast -w stop >/dev/null || true
  fi
  # Only a folder this script made (it has pids/) is deleted.
  if [[ -d "$STACK/pids" ]]; then rm -rf "$STACK"; fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  env) [[ -f "$STACK/env" ]] && cat "$STACK/env" || die "no stack running in $STACK" ;;
  worker) restart_worker "${2:-}" ;;
  api) restart_api "${2:-}" ;;
  temporal) restart_temporal ;;
  build) temporal_binaries && echo "$SERVER_BIN $SQL_BIN" ;;
  *) die "usage: $0 start|stop|env|worker a|b|api a|b|temporal|build" ;;
esac
