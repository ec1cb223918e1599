#!/usr/bin/env bash
# Builds local stand-ins for the public images the Dockerfile and compose.yaml name, for
# machines that cannot pull from a registry. Each is built once and kept in podman's
# storage (skipped when present):
#
#   localhost/debian:bookworm-slim          debootstrap --variant=minbase from apt's mirror
#   localhost/rust:<host rustc>-bookworm    + gcc, libc6-dev and this machine's Rust toolchain
#   localhost/postgres:15                   + Debian's PostgreSQL, with the official entry point's variables
#   localhost/prometheus:debian             + Debian's Prometheus
#   localhost/nginx:debian                  + Debian's nginx
#
# Prints the names as shell assignments (RUST_IMAGE=... etc.) for run.sh to read.
# Needs root, debootstrap and podman (run.sh installs them).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
export CONTAINERS_CONF="${CONTAINERS_CONF:-$here/containers.conf}"

debian=localhost/debian:bookworm-slim
rust_version="$(rustc --version | cut -d' ' -f2)"
rust=localhost/rust:$rust_version-bookworm
postgres=localhost/postgres:15
prometheus=localhost/prometheus:debian
nginx=localhost/nginx:debian

# The mirror apt uses on this machine (its deb822 or one-line sources).
apt_mirror() {
    local uri
    uri="$(grep -hsoE '^URIs: *http[^ ]*/debian/?$' /etc/apt/sources.list.d/*.sources | head -n 1 | sed 's/^URIs: *//')"
    [ -n "$uri" ] || uri="$(grep -hsoE '^deb +http[^ ]*/debian/? ' /etc/apt/sources.list | head -n 1 | awk '{print $2}')"
    echo "${uri:-http://deb.debian.org/debian}"
}

log() { echo "   $*" >&2; }

# What the official slim image does to a minbase tree: apt keeps no package caches, dpkg
# installs no documentation, manual pages or translations.
slim() {
    local rootfs="$1"
    cat >"$rootfs/etc/apt/apt.conf.d/docker-clean" <<'APT'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
APT
    echo 'APT::Install-Recommends "false";' >"$rootfs/etc/apt/apt.conf.d/docker-no-recommends"
    cat >"$rootfs/etc/dpkg/dpkg.cfg.d/docker" <<'DPKG'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
DPKG
    find "$rootfs/usr/share/doc" -mindepth 2 ! -name copyright -delete 2>/dev/null || true
    rm -rf "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* "$rootfs"/usr/share/locale/* \
        "$rootfs"/var/cache/apt/* "$rootfs"/var/lib/apt/lists/*
}

build_debian() {
    local rootfs
    rootfs="$(mktemp -d)"
    log "debootstrap bookworm from $(apt_mirror) -> $debian"
    debootstrap --variant=minbase bookworm "$rootfs" "$(apt_mirror)" >"$rootfs.log" 2>&1 ||
        { cat "$rootfs.log" >&2; exit 1; }
    slim "$rootfs"
    tar -C "$rootfs" -c . | podman import --quiet --change 'CMD ["/bin/bash"]' - "$debian" >/dev/null
    rm -rf "$rootfs" "$rootfs.log"
}

# The toolchain's binaries and libraries (not its documentation), and the host's CA bundle
# so that cargo can reach crates.io through this machine's TLS proxy; the context is
# temporary and the bundle never leaves this machine.
build_rust() {
    local context sysroot
    context="$(mktemp -d)"
    sysroot="$(rustc --print sysroot)"
    mkdir "$context/toolchain"
    cp -a "$sysroot/bin" "$sysroot/lib" "$context/toolchain/"
    [ -d "$sysroot/libexec" ] && cp -a "$sysroot/libexec" "$context/toolchain/"
    cp /etc/ssl/certs/ca-certificates.crt "$context/host-ca-bundle.crt"
    log "$rust from $debian and the toolchain at $sysroot"
    podman build -q --format docker --build-arg BASE_IMAGE="$debian" \
        -f "$here/images/rust.Containerfile" -t "$rust" "$context" >/dev/null
    rm -rf "$context"
}

build_from_debian() {
    local image="$1" containerfile="$2"
    log "$image from $debian ($containerfile)"
    podman build -q --format docker --build-arg BASE_IMAGE="$debian" \
        -f "$here/images/$containerfile" -t "$image" "$here/images" >/dev/null
}

podman image exists "$debian" || build_debian
podman image exists "$rust" || build_rust
podman image exists "$postgres" || build_from_debian "$postgres" postgres.Containerfile
podman image exists "$prometheus" || build_from_debian "$prometheus" prometheus.Containerfile
podman image exists "$nginx" || build_from_debian "$nginx" nginx.Containerfile

echo "RUNTIME_IMAGE=$debian"
echo "RUST_IMAGE=$rust"
echo "POSTGRES_IMAGE=$postgres"
echo "PROMETHEUS_IMAGE=$prometheus"
echo "NGINX_IMAGE=$nginx"
