#!/usr/bin/env bash
# Builds the container image without a container registry: a distroless-style Debian base made
# with mmdebstrap from Debian's mirrors (imported with `podman import`), the release binary built
# on the host, and deploy/image/Containerfile, which copies the one onto the other.
#
#   deploy/image/build.sh [--rebuild-base] [--binary PATH]
#
#   --rebuild-base   build the base again even if one made from the same inputs exists (e.g. to
#                    take Debian's security updates)
#   --binary PATH    use this release binary instead of building one (it must be built on
#                    Debian bookworm, the base's release, or older)
#
# Environment: IMAGE (default localhost/ocean-azure-devops:<version>), BASE_IMAGE (default
# localhost/ocean-azure-devops-base:bookworm), CARGO_TARGET_DIR (default target/image, so that
# this build never waits on the lock of the usual target/), FEATURES (default kafka: the KAFKA
# listener, the chart's default), DEBIAN_MIRROR (default http://deb.debian.org).
#
# Idempotent: the base is reused while its inputs (this directory's scripts, the package list,
# the suite and the mirror) are unchanged, cargo rebuilds only what changed, and the image is
# rebuilt each time (seconds). Needs root for mmdebstrap and podman; installs podman, runc and
# mmdebstrap with apt-get when they are missing.
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
here="$repo/deploy/image"
cd "$repo"

rebuild_base=false
binary=""
while [ $# -gt 0 ]; do
  case "$1" in
    --rebuild-base) rebuild_base=true ;;
    --binary) binary="$2"; shift ;;
    -h | --help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "build.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

version="$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)"
IMAGE="${IMAGE:-localhost/ocean-azure-devops:$version}"
BASE_IMAGE="${BASE_IMAGE:-localhost/ocean-azure-devops-base:bookworm}"
CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$repo/target/image}"
FEATURES="${FEATURES-kafka}"
DEBIAN_MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org}"
export CARGO_TARGET_DIR

# Debian bookworm: the release the host binary is built on (glibc 2.36, libssl3), and the one the
# Dockerfile's builder and distroless cc-debian12 use.
suite=bookworm
# What the binary links (`ldd`): libc, libm, libgcc_s, and libssl/libcrypto for librdkafka.
# ca-certificates: the roots for rustls (Port, Azure DevOps, Entra ID) and OpenSSL (Kafka).
packages=libc6,libgcc-s1,libssl3,ca-certificates
sources=(
  "deb $DEBIAN_MIRROR/debian $suite main"
  "deb $DEBIAN_MIRROR/debian $suite-updates main"
  "deb $DEBIAN_MIRROR/debian-security $suite-security main"
)
# For the Containerfile's RUN, what this machine kind needs: crun fails on cgroups in hybrid mode
# (so runc), and limits may not be raised above the current ones.
limits=(--ulimit nofile=1024:1024 --ulimit nproc=1024:1024)

log() { printf '\n=== %s\n' "$*"; }
human() { numfmt --to=iec-i --suffix=B --format='%.1f' "$1"; }

ensure_tools() {
  local missing=()
  command -v podman >/dev/null || missing+=(podman)
  command -v runc >/dev/null || missing+=(runc)
  command -v mmdebstrap >/dev/null || missing+=(mmdebstrap)
  command -v strip >/dev/null || missing+=(binutils)
  if [ -z "$binary" ]; then
    command -v cmake >/dev/null || missing+=(cmake)
    dpkg -s libssl-dev >/dev/null 2>&1 || missing+=(libssl-dev)
    dpkg -s libcurl4-openssl-dev >/dev/null 2>&1 || missing+=(libcurl4-openssl-dev)
  fi
  [ ${#missing[@]} -eq 0 ] && return
  log "installing ${missing[*]} (apt-get)"
  local sudo=""
  [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q "${missing[@]}"
}

build_base() {
  local inputs
  inputs="$(
    {
      echo "$suite $packages ${sources[*]}"
      cat "$here/slim-rootfs.sh" "$here/build.sh"
    } | sha256sum | cut -c1-16
  )"
  local existing
  existing="$(podman image inspect --format '{{index .Labels "ocean-rs.base-inputs"}}' \
    "$BASE_IMAGE" 2>/dev/null || true)"
  if ! $rebuild_base && [ "$existing" = "$inputs" ]; then
    log "base $BASE_IMAGE: reused (inputs $inputs; --rebuild-base to refresh)"
    return
  fi
  log "base $BASE_IMAGE: mmdebstrap $suite ($packages)"
  local started=$SECONDS
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  mmdebstrap --quiet --mode=root --variant=extract --include="$packages" \
    "$suite" "$work/rootfs" "${sources[@]}"
  "$here/slim-rootfs.sh" "$work/rootfs"
  # Numeric owners, sorted names and one mtime: the same packages give the same layer.
  tar --create --numeric-owner --sort=name --mtime=@0 --directory="$work/rootfs" --file=- . \
    | podman import --quiet \
      --change "LABEL ocean-rs.base-inputs=$inputs" \
      --change "LABEL org.opencontainers.image.description=Debian $suite: libc, libgcc, libssl3, CA certificates; no shell" \
      --change "USER 65532:65532" \
      - "$BASE_IMAGE" >/dev/null
  base_time="$((SECONDS - started)) s"
  echo "base built in $base_time: $(human "$(podman image inspect --format '{{.Size}}' "$BASE_IMAGE")")"
}

build_binary() {
  if [ -n "$binary" ]; then
    log "binary: $binary (given)"
    return
  fi
  log "binary: cargo build --release ${FEATURES:+--features $FEATURES} (target dir $CARGO_TARGET_DIR)"
  local started=$SECONDS
  nice -n 10 cargo build --release --locked -p app ${FEATURES:+--features "$FEATURES"} \
    --bin ocean-azure-devops
  binary_time="$((SECONDS - started)) s"
  binary="$CARGO_TARGET_DIR/release/ocean-azure-devops"
  echo "binary built in $binary_time: $(human "$(stat -c %s "$binary")")"
}

build_image() {
  log "image $IMAGE"
  echo "shared libraries the binary needs:"
  ldd "$binary" | sed 's/^/  /'
  local started=$SECONDS context="$CARGO_TARGET_DIR/image-context"
  # The context holds the binary alone: nothing of the repository reaches the image.
  rm -rf "$context" && mkdir -p "$context"
  # Without its symbols (the release profile keeps them for crates/app/link-order.sh).
  strip -o "$context/ocean-azure-devops" "$binary"
  podman build --runtime runc "${limits[@]}" --quiet --file "$here/Containerfile" \
    --build-arg BASE="$BASE_IMAGE" --build-arg VERSION="$version" \
    --tag "$IMAGE" "$context" >/dev/null
  image_time="$((SECONDS - started)) s"
  local size
  size="$(podman image inspect --format '{{.Size}}' "$IMAGE")"
  echo "image built in $image_time: $IMAGE, $size bytes ($(human "$size"))"
}

base_time=reused binary_time=given image_time="" work=""
ensure_tools
build_base
build_binary
build_image
log "done: base $base_time, binary $binary_time, image $image_time"
echo "run it: podman --runtime runc run --rm --read-only ${limits[*]} $IMAGE --help"
