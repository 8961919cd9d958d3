# syntax=docker/dockerfile:1
# Image of the `ocean-azure-devops` binary, built with the KAFKA listener (the port-ocean chart's
# default listener). Used by deploy/helm/ocean-azure-devops.
#
# NOT BUILT OR RUN YET: the machine this was written on reaches no container registry (no Docker
# Hub), so neither stage has been tried, and .ci/helm-check does not cover this file.
#
#   docker build -t ocean-azure-devops:0.1.0 .

# 1.95.0 exactly, as rust-toolchain.toml pins it: rustup then downloads no other toolchain.
FROM rust:1.95.0-bookworm AS builder
# librdkafka is compiled from source by cmake, against the OpenSSL and curl headers (README.md).
RUN apt-get update \
 && apt-get install -y --no-install-recommends cmake libssl-dev libcurl4-openssl-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# Cache mounts keep the registry and the compiled librdkafka between builds; the binary is
# copied out because the target dir does not persist into the image.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p app --features kafka --bin ocean-azure-devops \
 && cp target/release/ocean-azure-devops /usr/local/bin/ocean-azure-devops

# Debian slim rather than distroless: the same release as the builder (same libssl3 ABI), and a
# shell for the library check below, since no one has run this image yet.
FROM debian:bookworm-slim
# libssl3 and zlib1g: linked dynamically by the Kafka build. ca-certificates: the roots that
# rustls (Port, Azure DevOps) and OpenSSL (Kafka) trust; it brings /usr/lib/ssl/certs too.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates libssl3 zlib1g \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --gid 1001 ocean \
 && useradd --uid 1001 --gid 1001 --no-create-home --shell /usr/sbin/nologin ocean
COPY --from=builder /usr/local/bin/ocean-azure-devops /usr/local/bin/ocean-azure-devops
# Fail the build, not the pod, if the binary needs a shared library this stage lacks.
RUN ! ldd /usr/local/bin/ocean-azure-devops | grep 'not found'
# uid/gid 1001 as Ocean's `ocean` user (ocean-framework.md §1.3, §11). The binary writes no files,
# so a read-only root filesystem works.
USER 1001:1001
EXPOSE 8000
ENTRYPOINT ["/usr/local/bin/ocean-azure-devops"]
