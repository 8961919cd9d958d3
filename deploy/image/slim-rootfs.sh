#!/usr/bin/env bash
# Turns the packages that `build.sh` extracted with mmdebstrap (libc6, libgcc-s1, libssl3,
# ca-certificates and what they depend on) into a distroless-style root filesystem: the shared
# libraries, the CA bundle, passwd/group and nothing else (no shell, no apt, no dpkg state, no
# docs or locales). Runs on the host, as root, on the root filesystem directory "$1". The
# packages were only extracted (`--variant=extract`): none of their maintainer scripts ran, and
# mmdebstrap runs no customize hook in that variant, hence a script of its own.
set -euo pipefail
root="$1"
cd "$root"

# The CA bundle, made as ca-certificates' postinst (update-ca-certificates) makes it: every
# certificate it ships, concatenated (`awk 1` ends each file with a newline). rustls' native
# roots (Port, Azure DevOps, Entra ID) read /etc/ssl/certs/ca-certificates.crt; OpenSSL
# (librdkafka) reaches the same file through /usr/lib/ssl/cert.pem and /usr/lib/ssl/certs, the
# symlinks of Debian's openssl package.
mkdir -p etc/ssl/certs
find usr/share/ca-certificates -name '*.crt' -print0 | LC_ALL=C sort -z \
  | xargs -0 awk 1 >etc/ssl/certs/ca-certificates.crt
test "$(grep -c 'BEGIN CERTIFICATE' etc/ssl/certs/ca-certificates.crt)" -gt 100
chmod 0644 etc/ssl/certs/ca-certificates.crt
test -L usr/lib/ssl/cert.pem && test -L usr/lib/ssl/certs

# Users: root, Ocean's `ocean` (1001, the image's USER and the Helm chart's runAsUser) and
# distroless' `nonroot` (65532). No home directories: the binary writes no files.
cat >etc/passwd <<'PASSWD'
root:x:0:0:root:/root:/sbin/nologin
ocean:x:1001:1001:ocean:/nonexistent:/sbin/nologin
nonroot:x:65532:65532:nonroot:/nonexistent:/sbin/nologin
PASSWD
cat >etc/group <<'GROUP'
root:x:0:
ocean:x:1001:
nonroot:x:65532:
GROUP
# glibc's resolver: /etc/hosts first (Kubernetes hostAliases), then DNS.
printf 'passwd: files\ngroup: files\nhosts: files dns\n' >etc/nsswitch.conf
chmod 0644 etc/passwd etc/group etc/nsswitch.conf

# Programs, package-manager state and configuration of the removed programs. The container
# runtime provides /etc/hosts, /etc/resolv.conf and /etc/hostname, and /dev.
rm -rf bin sbin usr/bin usr/sbin usr/libexec usr/games usr/local usr/lib/ssl/misc \
  etc/apt etc/dpkg etc/debconf.conf etc/ca-certificates etc/fstab etc/hostname etc/resolv.conf \
  etc/ld.so.conf.d var/lib/apt var/lib/dpkg var/cache var/log dev/*
# /usr/share: keep only the copyright files (the licences of what the image redistributes).
find usr/share -mindepth 1 -maxdepth 1 ! -name doc -exec rm -rf {} +
find usr/share/doc -mindepth 1 ! -name copyright ! -type d -delete
find usr/share/doc -mindepth 1 -type d -empty -delete
rm -rf usr/share/doc/debconf
# Parts of libc6, libssl3 and Perl modules (debconf) that the binary never loads: iconv
# converters (8 MiB), debugging and profiling preloads, NIS and Hesiod lookups, OpenSSL engines.
libs=lib/x86_64-linux-gnu
rm -rf usr/lib/x86_64-linux-gnu/gconv usr/lib/x86_64-linux-gnu/audit \
  usr/lib/x86_64-linux-gnu/engines-3 usr/lib/x86_64-linux-gnu/perl* usr/share/perl* \
  "$libs"/libmemusage.so "$libs"/libpcprofile.so "$libs"/libc_malloc_debug.so.* \
  "$libs"/libBrokenLocale.so.* "$libs"/libnsl.so.* "$libs"/libnss_compat.so.* \
  "$libs"/libnss_hesiod.so.* "$libs"/libthread_db.so.* usr/lib/x86_64-linux-gnu/libmemusage.so \
  usr/lib/x86_64-linux-gnu/libpcprofile.so
# The dynamic loader's cache, made by the host's ldconfig for this tree: no lookup of the
# directories at each start.
mkdir -p etc
printf '/lib/x86_64-linux-gnu\n/usr/lib/x86_64-linux-gnu\n' >etc/ld.so.conf
ldconfig -r "$root"
rm etc/ld.so.conf

# /tmp exists (world-writable, sticky) for a tmpfs mount; the image itself needs none. The mount
# points a runtime binds over exist already, so that a read-only root need not gain them.
mkdir -p tmp proc sys run dev && chmod 1777 tmp
touch etc/hosts etc/hostname etc/resolv.conf

# Nothing executable may remain outside the library directories.
leftover="$(find . -type f -perm /111 ! -path './lib/*' ! -path './lib64/*' ! -path './usr/lib/*')"
if [ -n "$leftover" ]; then
  echo "slim-rootfs: executables left in the base:" >&2
  echo "$leftover" >&2
  exit 1
fi
