#!/usr/bin/env bash
# Regenerates crates/app/link-order-kafka.txt and link-order.txt (builds with and without the
# `kafka` feature): the functions a resync runs, which the release build places together at the
# start of the binary's code (build.rs passes the file to the linker).
#
#   bash crates/app/link-order.sh        (two release builds, ≈ 8 min cold on 2 cores then ≈ 4
#                                          more, each followed by two runs under valgrind;
#                                          needs valgrind and python3)
#
# Why (issue 18): the kernel maps a binary's code into memory 64 KiB around each page a
# process runs, so code used by a resync but spread over the whole 17 MB text costs ~14 MiB
# of RSS; the same 3.8 MB of functions packed together cost ~6.5 MiB.
#
# How: builds the release binary as the image does (the profile keeps symbols, and the image
# strips them afterwards: cargo hashes the profile into the names, so a build with other settings
# would name every function differently), runs a first and an unchanged second resync of the
# medium organization against the simulators over HTTPS (every deployment on Azure DevOps
# Services reaches both APIs so, and the TLS code must sit with the rest) under callgrind, and
# keeps every function of the binary that ran, sorted by name (stable diffs). Code no run
# reaches (a webhook, Kafka, an action, an error path) keeps its place after them, where it
# costs what it did before.
#
# The file names functions by their mangled symbols: a dependency upgrade, a new toolchain, a
# change to the release profile or to the features renames them, and the linker skips names it
# no longer finds (the build still succeeds; the code just spreads out again). This script
# prints how many of the committed names the current build still has: regenerate when it falls.
set -euo pipefail
cd "$(dirname "$0")/../.."
target="${CARGO_TARGET_DIR:-$PWD/target}"
work="$(mktemp -d)"
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

# The functions (text symbols) of a binary, sorted: none when it is stripped.
functions_of() {
  { nm --defined-only "$1" 2>/dev/null || true; } | awk '$2 ~ /^[tTwW]$/ {print $3}' | sort -u
}
# How many names of order file $1 are among the sorted functions in file $2.
matched() { sort -u "$1" | comm -12 - "$2" | wc -l; }

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_port() {
  for _ in $(seq 600); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done
  echo "nothing listens on port $1" >&2; exit 1
}

# One list per feature set: the `kafka` feature changes the app crate's symbol names (cargo
# hashes the features into them too). build.rs picks the file by the build's features.
record() {
  local order="$1" features="$2"
  command -v valgrind >/dev/null || { echo "valgrind is needed (apt-get install valgrind)" >&2; exit 1; }
  CARGO_TARGET_DIR="$target" cargo build --release --locked -p app ${features:+--features "$features"} \
    --bin ocean-azure-devops
  local bin="$target/release/ocean-azure-devops"
  functions_of "$bin" > "$work/text"
  if [ -f "$order" ]; then
    echo "before: $(matched "$order" "$work/text") of $(wc -l < "$order") names in $order are functions of this build"
  fi
  local port_port ado_port
  port_port=$(free_port); ado_port=$(free_port)
  "$bin" sim-port --port "$port_port" --tls-ca "$work/port-ca.pem" > /dev/null 2>&1 & pids+=($!)
  "$bin" sim-ado --port "$ado_port" --projects 20 --repositories 25 --work-items 250 \
    --releases 50 --pull-requests 10 --tls-ca "$work/ado-ca.pem" > /dev/null 2>&1 & pids+=($!)
  wait_port "$port_port"; wait_port "$ado_port"
  # Each simulator wrote its CA before it bound its port.
  cat "$work/port-ca.pem" "$work/ado-ca.pem" > "$work/cas.pem"
  rm -f "$work"/cg.*
  for run in first second; do
    env OCEAN__PORT__CLIENT_ID=sim-client-id OCEAN__PORT__CLIENT_SECRET=sim-client-secret \
      OCEAN__PORT__BASE_URL="https://127.0.0.1:$port_port" REQUESTS_CA_BUNDLE="$work/cas.pem" \
      OCEAN__INTEGRATION__IDENTIFIER=link-order \
      OCEAN__INTEGRATION__CONFIG__ORGANIZATION_URL="https://127.0.0.1:$ado_port/acme" \
      OCEAN__INTEGRATION__CONFIG__PERSONAL_ACCESS_TOKEN=sim-pat \
      OCEAN__EVENT_LISTENER='{"type":"ONCE"}' \
      valgrind --tool=callgrind --demangle=no --callgrind-out-file="$work/cg.$run" "$bin" \
      > "$work/$run.log" 2>&1 || { tail -20 "$work/$run.log" >&2; exit 1; }
    grep -q '"Resync finished."' "$work/$run.log" || { tail -20 "$work/$run.log" >&2; exit 1; }
  done
  kill "${pids[@]}" 2>/dev/null || true
  pids=()
  # Callgrind names each function once per file, as "fn=(id) name" or "cfn=(id) name".
  sed -n 's/^c\{0,1\}fn=([0-9]*) //p' "$work"/cg.* | sort -u | comm -12 - "$work/text" > "$order"
  echo "wrote $(wc -l < "$order") functions to $order (the next release build links with it)"
}

# Whether release binary $1, built with features $2 (kafka or default), still has 90 % of the
# functions its order file names (.ci/image-check): below, the names have drifted and the code
# of a resync spreads out again. A stripped binary is not checked.
check() {
  local order=crates/app/link-order.txt
  [ "$2" != kafka ] || order=crates/app/link-order-kafka.txt
  functions_of "$1" > "$work/text"
  if [ ! -s "$work/text" ]; then
    echo "the binary has no symbols (stripped): the link order is not checked"
    return
  fi
  local listed found
  listed=$(sort -u "$order" | wc -l)
  found=$(matched "$order" "$work/text")
  echo "$found of $listed functions of $order are in the binary"
  [ $((found * 10)) -ge $((listed * 9)) ] \
    || { echo "$order has drifted from the code: run bash crates/app/link-order.sh" >&2; exit 1; }
}

# `link-order.sh kafka` or `link-order.sh default` regenerates one of the two;
# `link-order.sh check BINARY kafka|default` only checks.
case "${1:-both}" in
  kafka) record crates/app/link-order-kafka.txt kafka ;;
  default) record crates/app/link-order.txt "" ;;
  both) record crates/app/link-order-kafka.txt kafka; record crates/app/link-order.txt "" ;;
  check) check "${2:?usage: $0 check BINARY kafka|default}" "${3:?usage: $0 check BINARY kafka|default}" ;;
  *) echo "usage: $0 [kafka|default] | $0 check BINARY kafka|default" >&2; exit 2 ;;
esac
