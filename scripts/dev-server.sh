# Sourced by start.sh and schemathesis.sh: what starting a Temporal dev server for this service takes.

# The flags that register the service's custom search attributes (from the contracts, built).
search_attribute_flags() {
  SEARCH_ATTRIBUTES=()
  while read -r sa; do SEARCH_ATTRIBUTES+=(--search-attribute "$sa"); done < <(node -e \
    "require('./libs/contracts/dist').SEARCH_ATTRIBUTE_REGISTRATIONS.forEach(s => console.log(s))")
}

# Waits (up to a minute) until the server at $TEMPORAL_ADDRESS answers; fails if it never does.
wait_for_temporal() {
  for _ in $(seq 1 120); do
    bash scripts/temporal.sh operator cluster health --address "$TEMPORAL_ADDRESS" >/dev/null 2>&1 && return 0
    sleep 0.5
  done
  bash scripts/temporal.sh operator cluster health --address "$TEMPORAL_ADDRESS" >/dev/null
}
