#!/usr/bin/env bash
# Regenerates every golden catalog from Port's Python integration:
#
#   sudo conformance/regenerate.sh OCEAN_CHECKOUT [CASE,CASE...]
#
# OCEAN_CHECKOUT: a work tree of github.com/port-labs/ocean at the version to record (the files
# state the versions they were recorded with). Builds the Python runtime (conformance/upstream.sh
# setup), then runs each case against fresh simulators twice, the Python integration and ours,
# and writes conformance/goldens/CASE.json from the Python integration's catalog. Not run by CI
# (it needs the upstream source, which is not in this repository); CI compares ours with the
# recorded files (`cargo test -p app --test it conformance`).
set -euo pipefail
cd "$(dirname "$0")/.."
checkout="${1:?usage: $0 OCEAN_CHECKOUT [CASE,CASE...]}"
started=$SECONDS
bash conformance/upstream.sh setup "$checkout"
export CONFORMANCE_CASES="${2:-}"
[ -n "$CONFORMANCE_CASES" ] || unset CONFORMANCE_CASES
cargo test --locked -p app --test it -- --ignored --exact \
  conformance::record_goldens_from_upstream --nocapture
echo "regenerated in $((SECONDS - started)) s"
