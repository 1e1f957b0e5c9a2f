#!/usr/bin/env bash
# What `npm test` checks before the tests, side by side: ESLint, Prettier, TypeDoc's doc-comment
# check and the build. Each is mostly one core's work, so together they take about the time of
# the slowest instead of the sum. Fails if any of them fails; `npm run lint` runs the three
# checks one after another, for output that does not interleave.
set -uo pipefail
cd "$(dirname "$0")/../.."
pids=()
run() {
  "$@" &
  pids+=($!)
}
run npx eslint .
run npx prettier --check --log-level warn .
run npx typedoc --emit none
run npm run build --silent
status=0
for pid in "${pids[@]}"; do wait "$pid" || status=1; done
exit "$status"
