# syntax=docker/dockerfile:1
# Image of the `ocean-azure-devops` binary, built from source with the KAFKA listener (the
# port-ocean chart's default listener). Used by deploy/helm/ocean-azure-devops.
#
#   docker build -t ocean-azure-devops:0.1.0 .
#   docker build --build-arg RUNTIME_BASE=<your mirror>/distroless/cc-debian12:nonroot .
#
# Machines that reach Debian's mirrors but no registry build the same image from the host's
# release binary and a base made with mmdebstrap: deploy/image/build.sh (run and checked by
# .ci/image-check). This file was built once with podman 4.3 (buildah) on such a machine, with
# BUILDER_IMAGE a local stand-in for rust:1.95.0-bookworm (Debian bookworm, build-essential and
# the 1.95.0 toolchain at /usr/local/{rustup,cargo}) and RUNTIME_BASE that mmdebstrap base: 7m51s
# cold, 31.3 MB, and its ONCE resync passed. The registry images themselves were not pulled.

# The runtime base: glibc, libgcc, libssl3 and CA certificates, no shell. It must be the Debian
# release of the builder (bookworm: glibc 2.36, libssl3). deploy/image/slim-rootfs.sh makes the
# equivalent from Debian's packages.
ARG RUNTIME_BASE=gcr.io/distroless/cc-debian12:nonroot
# 1.95.0 exactly, as rust-toolchain.toml pins it: rustup then downloads no other toolchain.
ARG BUILDER_IMAGE=rust:1.95.0-bookworm

FROM ${BUILDER_IMAGE} AS builder
# librdkafka is compiled from source by cmake, against the OpenSSL and curl headers (README.md);
# openssl-sys finds OpenSSL with pkg-config.
RUN apt-get update \
 && apt-get install -y --no-install-recommends cmake pkg-config libssl-dev libcurl4-openssl-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# Cache mounts keep the registry and the compiled librdkafka between builds; the binary is
# copied out because the target dir does not persist into the image, without its symbols (the
# release profile keeps them for crates/app/link-order.sh; they are not loaded at run time).
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p app --features kafka --bin ocean-azure-devops \
 && strip -o /usr/local/bin/ocean-azure-devops target/release/ocean-azure-devops

FROM ${RUNTIME_BASE}
COPY --from=builder /usr/local/bin/ocean-azure-devops /usr/local/bin/ocean-azure-devops
# Runs the binary in the final image, without a shell: the build fails, not the pod, if a shared
# library the binary links is missing from the base.
RUN ["/usr/local/bin/ocean-azure-devops", "--version"]
# uid/gid 1001 as Ocean's `ocean` user (ocean-framework.md §1.3, §11) and the chart's runAsUser;
# any uid works. The binary writes no files, so a read-only root filesystem works.
USER 1001:1001
EXPOSE 8000
ENTRYPOINT ["/usr/local/bin/ocean-azure-devops"]
