#!/usr/bin/env bash
# Resolves the Temporal CLI (which carries the dev server) and runs it with the given arguments.
# Order: $TEMPORAL_CLI, else our pinned build in $(go env GOPATH)/bin, building it when missing.
#
# The build is the CLI v1.5.1 (server 1.29.1; the last tag without a replace directive), from
# scripts/temporal-cli/go.mod, which raises one dependency: modernc.org/sqlite to v1.44.3. The
# v1.34.1 that v1.5.1 pins has an interrupt bug: under load a cancelled query left the dev
# server's in-memory SQLite answering "interrupted (9)" to later transactions, failing whole test
# files at random (Temporal fixed it the same way, temporalio/temporal#9198).
# `scripts/temporal.sh --path` prints the resolved path instead of running it.
set -euo pipefail

TEMPORAL_CLI_VERSION=1.5.1
BUILD_NAME="temporal-cli-v${TEMPORAL_CLI_VERSION}-sqlite-v1.44.3"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

resolve_temporal() {
  if [[ -n "${TEMPORAL_CLI:-}" ]]; then
    [[ -x "$TEMPORAL_CLI" ]] || { echo "TEMPORAL_CLI=$TEMPORAL_CLI is not an executable file" >&2; return 1; }
    echo "$TEMPORAL_CLI"; return 0
  fi
  command -v go >/dev/null 2>&1 || { echo "no TEMPORAL_CLI and no Go toolchain to build the temporal CLI" >&2; return 1; }
  local gobin
  gobin="$(go env GOBIN)"; [[ -n "$gobin" ]] || gobin="$(go env GOPATH)/bin"
  if [[ -x "$gobin/$BUILD_NAME" ]]; then echo "$gobin/$BUILD_NAME"; return 0; fi
  echo "building the temporal CLI v$TEMPORAL_CLI_VERSION (scripts/temporal-cli; a few minutes, once)..." >&2
  mkdir -p "$gobin"
  (cd "$here/temporal-cli" && go build -ldflags "-X github.com/temporalio/cli/temporalcli.Version=$TEMPORAL_CLI_VERSION" \
    -o "$gobin/$BUILD_NAME.tmp" github.com/temporalio/cli/cmd/temporal) >&2
  mv "$gobin/$BUILD_NAME.tmp" "$gobin/$BUILD_NAME"
  echo "$gobin/$BUILD_NAME"
}

bin="$(resolve_temporal)"
if [[ "${1:-}" == "--path" ]]; then echo "$bin"; exit 0; fi
exec "$bin" "$@"
