#!/usr/bin/env bash
# Builds the release binaries a Keeper Gateway can run with nothing installed, into dist/,
# with a SHA256SUMS list:
#   x86_64-unknown-linux-musl   static Linux binary (x86_64 gateways)
#   aarch64-unknown-linux-musl  static Linux binary (ARM gateways)
#   x86_64-pc-windows-gnu       Windows .exe (mingw-w64)
# Usage: scripts/release.sh [TARGET...]   (default: all three)
# Installs what it needs: the rustup targets, and from Debian musl-tools, gcc-mingw-w64-x86-64
# and gcc-aarch64-linux-gnu (ring compiles C and assembly for each target).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(x86_64-unknown-linux-musl aarch64-unknown-linux-musl x86_64-pc-windows-gnu)

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
need_packages() {
    local missing=()
    for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
    if [ ${#missing[@]} -gt 0 ]; then
        as_root apt-get update -qq
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
}

need_packages file
version="$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)"
mkdir -p dist
rm -f dist/SHA256SUMS
for target in "${targets[@]}"; do
    rustup target add "$target" >/dev/null
    suffix=""
    case "$target" in
        x86_64-unknown-linux-musl)
            need_packages musl-tools
            export CC_x86_64_unknown_linux_musl=musl-gcc ;;
        aarch64-unknown-linux-musl)
            need_packages gcc-aarch64-linux-gnu
            export CC_aarch64_unknown_linux_musl=aarch64-linux-gnu-gcc
            export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_MUSL_LINKER=aarch64-linux-gnu-gcc ;;
        x86_64-pc-windows-gnu)
            need_packages gcc-mingw-w64-x86-64
            suffix=".exe" ;;
        *) echo "release.sh: unsupported target $target" >&2; exit 2 ;;
    esac
    echo "== $target"
    cargo build --release --locked --quiet --target "$target"
    out="dist/tenable-rotate-$version-$target$suffix"
    cp "target/$target/release/tenable-rotate$suffix" "$out"
    case "$target" in
        *-linux-musl)
            # A gateway must need nothing: refuse to ship a dynamically linked build.
            if file "$out" | grep -q 'dynamically linked'; then
                echo "release.sh: $out is dynamically linked" >&2; exit 1
            fi ;;
    esac
    file "$out" | sed 's/^dist\///'
    # Smoke test: the whole demo (emulator, gateway payload, rotation, logins) on the binary.
    runner=()
    case "$target" in
        aarch64-unknown-linux-musl) need_packages qemu-user; runner=(qemu-aarch64) ;;
        x86_64-pc-windows-gnu)
            # Debian 12's wine 8 lacks bcryptprimitives.dll (ProcessPrng), which Rust's std
            # needs on Windows 10 and later, so the .exe cannot be run here; check it on Windows.
            echo "demo not run: no Windows to run it on (wine 8 lacks ProcessPrng)"; continue ;;
    esac
    if ! "${runner[@]}" "$out" demo >/dev/null; then
        echo "release.sh: $out failed its demo" >&2; exit 1
    fi
    echo "demo passed${runner:+ under ${runner[*]}}"
done
(cd dist && sha256sum tenable-rotate-"$version"-* > SHA256SUMS && cat SHA256SUMS)
