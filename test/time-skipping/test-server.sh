#!/usr/bin/env bash
# The time-skipping test server as @temporalio/testing starts it (`<port> [flags]`, see
# TestWorkflowEnvironment.createTimeSkipping with an existing-path executable): the Java test
# server from the cache fetch.sh fills, bound to 127.0.0.1. The JVM flags shorten start-up:
# the SDK waits only 5 s for the server to answer.
set -euo pipefail
cache="${RUNBOOKS_TIME_SKIPPING_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/runbooks/time-skipping-test-server}"
exec java -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xss512k -cp "$cache/lib/*:$cache/classes" LoopbackTestServer "$@"
