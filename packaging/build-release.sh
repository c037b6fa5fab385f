#!/usr/bin/env bash
# Build fully static release binaries of tgbox with cargo-zigbuild (zig is the C compiler and
# linker for the C parts: mimalloc, ring), print their sizes, prove they are static, and smoke
# test them: the x86_64 binary natively, the aarch64 one under qemu-aarch64-static
# (`--version`, then `tgbox demo --duration 15` whose data directory must pass `tgbox stats`).
#
# Usage: packaging/build-release.sh [--target x86_64|aarch64|all] [--no-smoke] [--out DIR]
#   default: --target all, output in dist/
#
# Needs (installed when missing and possible): cargo-zigbuild and ziglang (pip), the rustup
# targets x86_64-unknown-linux-musl and aarch64-unknown-linux-musl, `file`, and for the aarch64
# smoke test qemu-aarch64-static (Debian: apt-get install qemu-user-static).
set -euo pipefail
cd "$(dirname "$0")/.."

which_targets=all
smoke=1
out=dist
while [ $# -gt 0 ]; do
    case "$1" in
        --target) which_targets="$2"; shift 2 ;;
        --no-smoke) smoke=0; shift ;;
        --out) out="$2"; shift 2 ;;
        -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
        *) echo "unknown argument: $1 (try --help)" >&2; exit 2 ;;
    esac
done
case "$which_targets" in
    x86_64) targets=(x86_64-unknown-linux-musl) ;;
    aarch64) targets=(aarch64-unknown-linux-musl) ;;
    all) targets=(x86_64-unknown-linux-musl aarch64-unknown-linux-musl) ;;
    *) echo "--target must be x86_64, aarch64 or all" >&2; exit 2 ;;
esac

die() { echo "build-release: $*" >&2; exit 1; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else return 1; fi; }

# --- tools ---------------------------------------------------------------------------------
if ! command -v cargo-zigbuild >/dev/null 2>&1; then
    echo "== installing cargo-zigbuild and ziglang (pip)"
    python3 -m pip install --quiet ziglang cargo-zigbuild \
        || die "cannot install cargo-zigbuild; run: pip install ziglang cargo-zigbuild"
    hash -r
    command -v cargo-zigbuild >/dev/null 2>&1 \
        || die "cargo-zigbuild is installed but not on PATH (pip's bin directory?)"
fi
for t in "${targets[@]}"; do
    if ! rustup target list --installed | grep -qx "$t"; then
        echo "== rustup target add $t"
        rustup target add "$t" || die "cannot add the Rust target $t"
    fi
done
if ! command -v file >/dev/null 2>&1; then
    as_root apt-get install -y -qq file >/dev/null || die "'file' is missing: apt-get install file"
fi
need_qemu=0
for t in "${targets[@]}"; do [ "$t" = aarch64-unknown-linux-musl ] && [ "$smoke" = 1 ] && need_qemu=1; done
if [ "$need_qemu" = 1 ] && ! command -v qemu-aarch64-static >/dev/null 2>&1; then
    echo "== installing qemu-user-static (apt)"
    { as_root apt-get update -qq && as_root apt-get install -y -qq qemu-user-static >/dev/null; } \
        || die "qemu-aarch64-static is missing: apt-get install qemu-user-static (or use --no-smoke)"
fi

version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)
mkdir -p "$out"
out=$(cd "$out" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

smoke_test() { # runner... binary
    local label=$1; shift
    local dir="$work/$label"
    mkdir -p "$dir"
    echo "-- $label: --version"
    "$@" --version
    echo "-- $label: demo --duration 15"
    (cd "$dir" && TGBOX_WEB_LISTEN=127.0.0.1:0 "$@" --log-level warn demo --duration 15 --rate 50 \
        --status-every 5 --data demo)
    echo "-- $label: stats"
    local stats
    stats=$(cd "$dir" && "$@" stats --data demo --json)
    echo "$stats"
    local messages
    messages=$(printf '%s' "$stats" | sed -n 's/.*"messages": *\([0-9]*\).*/\1/p')
    [ "${messages:-0}" -gt 0 ] || die "$label: the demo archived no messages"
}

for t in "${targets[@]}"; do
    echo "== cargo zigbuild --release --target $t"
    start=$(date +%s)
    cargo zigbuild --release --locked --target "$t" --bin tgbox
    echo "   built in $(( $(date +%s) - start )) s"
    bin="target/$t/release/tgbox"
    dest="$out/tgbox-$version-$t"
    cp "$bin" "$dest"
    bytes=$(stat -c %s "$dest")
    echo "== $dest: $bytes bytes ($(awk -v b="$bytes" 'BEGIN { printf "%.1f MiB", b / 1048576 }'))"
    desc=$(file -b "$dest")
    echo "   $desc"
    case "$desc" in
        *"statically linked"*|*"static-pie linked"*) ;;
        *) die "$dest is not statically linked" ;;
    esac
    if readelf -l "$dest" 2>/dev/null | grep -q "INTERP"; then
        die "$dest asks for a dynamic loader (PT_INTERP)"
    fi
    if readelf -d "$dest" 2>/dev/null | grep -q "NEEDED"; then
        die "$dest needs shared libraries"
    fi
    echo "   static: no program interpreter, no shared libraries"
    if [ "$smoke" = 1 ]; then
        case "$t" in
            x86_64-*) smoke_test x86_64 "$dest" ;;
            aarch64-*) smoke_test aarch64-qemu qemu-aarch64-static "$dest" ;;
        esac
    fi
done
(cd "$out" && sha256sum tgbox-"$version"-* > SHA256SUMS)
echo "== done: $(ls "$out" | tr '\n' ' ')"
