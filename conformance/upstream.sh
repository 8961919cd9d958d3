#!/usr/bin/env bash
# Runs Port's Python Azure DevOps integration (the conformance oracle) on this machine.
#
#   conformance/upstream.sh setup OCEAN_CHECKOUT   build the runtime once (≈ 1–2 min)
#   conformance/upstream.sh run                    run the integration with the caller's OCEAN__* env
#   conformance/upstream.sh versions               print what `setup` installed, as JSON
#
# OCEAN_CHECKOUT is a work tree of github.com/port-labs/ocean (any commit; its
# `integrations/azure-devops` is what runs). Nothing of it is committed here: the source and the
# runtime live under $CONFORMANCE_WORK (default target/conformance, ignored by git).
#
# Why a chroot: the integration needs CPython >= 3.12 (pyproject `python = "^3.12"`, and it uses
# `itertools.batched`), this machine has 3.11, and no Python download site is reachable. Debian's
# archive is: mmdebstrap builds a Debian trixie root (CPython 3.13) in about 30 s. The Python
# packages are the exact versions of the checkout's poetry.lock, downloaded on the host (whose pip
# trusts this network's proxy CA; the chroot's CPython 3.13 rejects that CA under its stricter
# X.509 checks) and installed offline inside the root.
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
WORK="${CONFORMANCE_WORK:-$HERE/../target/conformance}"
ROOT="$WORK/rootfs"

need_root() {
  if [ "$(id -u)" != 0 ]; then
    echo "error: $0 needs root (mmdebstrap and chroot); run it with sudo" >&2
    exit 2
  fi
}

setup() {
  local checkout="${1:?usage: $0 setup OCEAN_CHECKOUT}"
  local integration="$checkout/integrations/azure-devops"
  if [ ! -f "$integration/pyproject.toml" ] || [ ! -f "$integration/poetry.lock" ]; then
    echo "error: $integration has no pyproject.toml/poetry.lock: pass a port-labs/ocean work tree" >&2
    exit 2
  fi
  need_root
  mkdir -p "$WORK"
  if ! command -v mmdebstrap >/dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q mmdebstrap
  fi
  if [ ! -x "$ROOT/usr/bin/python3" ]; then
    rm -rf "$ROOT"
    mmdebstrap --variant=apt --include=python3,python3-venv,ca-certificates \
      trixie "$ROOT" http://deb.debian.org/debian
  fi
  # The locked runtime dependencies (poetry's "main" group), pinned.
  python3 - "$integration/poetry.lock" > "$WORK/requirements.txt" <<'EOF'
import sys, tomllib
lock = tomllib.load(open(sys.argv[1], "rb"))
for p in lock["package"]:
    groups = p.get("groups", [p.get("category", "main")])
    if "main" not in groups:
        continue
    marker = p.get("markers")
    if isinstance(marker, dict):
        marker = marker.get("main")
    line = f'{p["name"]}=={p["version"]}'
    print(f"{line} ; {marker}" if marker else line)
EOF
  rm -rf "$WORK/wheels" && mkdir -p "$WORK/wheels"
  python3 -m pip download --quiet --no-deps --dest "$WORK/wheels" \
    --python-version 3.13 --implementation cp --only-binary=:all: \
    --platform manylinux2014_x86_64 --platform manylinux_2_17_x86_64 \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_34_x86_64 --platform any \
    -r "$WORK/requirements.txt"
  rm -rf "$ROOT/opt/wheels" "$ROOT/opt/venv" "$ROOT/opt/integration"
  cp -r "$WORK/wheels" "$ROOT/opt/wheels"
  cp "$WORK/requirements.txt" "$ROOT/opt/requirements.txt"
  chroot "$ROOT" /usr/bin/python3 -m venv /opt/venv
  chroot "$ROOT" /opt/venv/bin/pip install --quiet --no-index --no-deps \
    --find-links /opt/wheels -r /opt/requirements.txt
  cp -r "$integration" "$ROOT/opt/integration"
  # What ran, for the golden files' headers.
  local commit=""
  commit="$(git -C "$checkout" rev-parse HEAD 2>/dev/null || true)"
  chroot "$ROOT" /opt/venv/bin/python - "$commit" > "$WORK/versions.json" <<'EOF'
import json, sys, tomllib, platform
from importlib.metadata import version
project = tomllib.load(open("/opt/integration/pyproject.toml", "rb"))["tool"]["poetry"]
print(json.dumps({
    "integration": f'{project["name"]} {project["version"]}',
    "portOcean": version("port-ocean"),
    "oceanCommit": sys.argv[1] or None,
    "python": f"CPython {platform.python_version()}",
}))
EOF
  cat "$WORK/versions.json"
}

run() {
  if [ ! -d "$ROOT/opt/integration" ]; then
    echo "error: run '$0 setup OCEAN_CHECKOUT' first" >&2
    exit 2
  fi
  need_root
  # The chroot shares this machine's network, so the simulators on 127.0.0.1 are reachable.
  # Only the OCEAN__* and APPLICATION__* settings pass in.
  local -a env_args=(PATH=/opt/venv/bin:/usr/bin:/bin HOME=/root PYTHONUNBUFFERED=1)
  while IFS= read -r name; do
    env_args+=("$name=${!name}")
  done < <(compgen -e | grep -E '^(OCEAN|APPLICATION)__' || true)
  mountpoint -q "$ROOT/proc" || mount -t proc proc "$ROOT/proc"
  exec chroot "$ROOT" /usr/bin/env -i "${env_args[@]}" \
    /bin/sh -c 'cd /opt/integration && exec ocean sail'
}

case "${1:-}" in
  setup) shift; setup "$@" ;;
  run) run ;;
  versions) cat "$WORK/versions.json" ;;
  *) sed -n '2,8p' "$0" >&2; exit 2 ;;
esac
