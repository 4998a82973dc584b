#!/usr/bin/env bash
# Resolves the Temporal CLI (which carries the dev server) and runs it with the given arguments.
# Order: $TEMPORAL_CLI, `temporal` on PATH, $(go env GOPATH)/bin/temporal, else `go install` it.
# v1.5.1 (server 1.29.1) is the last tag `go install` accepts; later tags carry a replace directive.
# `scripts/temporal.sh --path` prints the resolved path instead of running it.
set -euo pipefail

TEMPORAL_CLI_VERSION=1.5.1

resolve_temporal() {
  if [[ -n "${TEMPORAL_CLI:-}" ]]; then
    [[ -x "$TEMPORAL_CLI" ]] || { echo "TEMPORAL_CLI=$TEMPORAL_CLI is not an executable file" >&2; return 1; }
    echo "$TEMPORAL_CLI"; return 0
  fi
  if command -v temporal >/dev/null 2>&1; then command -v temporal; return 0; fi
  command -v go >/dev/null 2>&1 || { echo "no temporal CLI found and no Go toolchain to build one" >&2; return 1; }
  local gobin
  gobin="$(go env GOBIN)"; [[ -n "$gobin" ]] || gobin="$(go env GOPATH)/bin"
  if [[ -x "$gobin/temporal" ]]; then echo "$gobin/temporal"; return 0; fi
  echo "building the temporal CLI v$TEMPORAL_CLI_VERSION with go install (a few minutes, once)..." >&2
  go install -ldflags "-X github.com/temporalio/cli/temporalcli.Version=$TEMPORAL_CLI_VERSION" \
    "github.com/temporalio/cli/cmd/temporal@v$TEMPORAL_CLI_VERSION" >&2
  echo "$gobin/temporal"
}

bin="$(resolve_temporal)"
if [[ "${1:-}" == "--path" ]]; then echo "$bin"; exit 0; fi
exec "$bin" "$@"
