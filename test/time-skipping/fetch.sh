#!/usr/bin/env bash
# Fetches Temporal's Java time-skipping test server (pom.xml) into the cache folder and compiles
# the loopback launcher beside it. Idempotent: a cache that matches pom.xml and the launcher is kept.
# Prints the cache folder. Needs mvn and a JDK (javac).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache="${RUNBOOKS_TIME_SKIPPING_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/runbooks/time-skipping-test-server}"
stamp="$(cat "$here/pom.xml" "$here/LoopbackTestServer.java" | sha256sum | cut -c1-16)"
if [[ -f "$cache/stamp" && "$(cat "$cache/stamp")" == "$stamp" ]]; then
  echo "$cache"
  exit 0
fi
rm -rf "$cache"
mkdir -p "$cache/lib" "$cache/classes"
mvn -B -q -Dstyle.color=never -f "$here/pom.xml" dependency:copy-dependencies -DoutputDirectory="$cache/lib" >&2
javac -d "$cache/classes" -cp "$cache/lib/*" "$here/LoopbackTestServer.java" >&2
echo "$stamp" > "$cache/stamp"
echo "$cache"
