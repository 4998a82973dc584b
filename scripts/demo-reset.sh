#!/usr/bin/env bash
# Resets the embedded default's demo: removes the data folder (Temporal's SQLite database with every
# run, the demo repository and share, the lab fleet, inventory, calendar, secrets, reports), so the
# next `npm start` seeds a fresh demo. Refuses while `npm start` still uses that folder.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA="${RUNBOOKS_DATA_DIR:-$PWD/data}"
[[ -d "$DATA" ]] || { echo "nothing to reset: $DATA does not exist"; exit 0; }
DATA="$(cd "$DATA" && pwd -P)"
for cmdline in /proc/[0-9]*/cmdline; do
  if { tr "\\0" " " <"$cmdline"; } 2>/dev/null | grep -qF -- "$DATA/temporal.db"; then
    echo "npm start is still running on $DATA (pid $(basename "$(dirname "$cmdline")")): stop it first (Ctrl-C)" >&2
    exit 1
  fi
done
rm -rf -- "$DATA"
echo "removed $DATA; the next npm start seeds a fresh demo"
