#!/usr/bin/env bash
# Install tgbox as a systemd service: the binary, the unit, a config template (kept if one is
# already there) and the bot token as a systemd credential. See docs/DEPLOY.md.
#
# Usage: sudo packaging/install.sh [options]
#   --binary PATH      the tgbox binary (default: dist/tgbox-<version>-<arch>-unknown-linux-musl
#                      for this machine, else target/release/tgbox)
#   --token-file PATH  a file holding the bot token, installed as the credential
#                      /etc/tgbox/credentials/telegram-token (mode 0600, root only)
#   --root DIR         install under DIR instead of / (for images; implies --no-start)
#   --no-start         do not enable and start the service
#   --dry-run          print what would be done, change nothing
set -euo pipefail
cd "$(dirname "$0")/.."

binary=""
token_file=""
root=""
start=1
dry=0
while [ $# -gt 0 ]; do
    case "$1" in
        --binary) binary="$2"; shift 2 ;;
        --token-file) token_file="$2"; shift 2 ;;
        --root) root="${2%/}"; start=0; shift 2 ;;
        --no-start) start=0; shift ;;
        --dry-run) dry=1; shift ;;
        -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
        *) echo "install.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
    esac
done

die() { echo "install.sh: $*" >&2; exit 1; }
run() {
    echo "+ $*"
    if [ "$dry" = 0 ]; then "$@"; fi
}

version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)
if [ -z "$binary" ]; then
    case "$(uname -m)" in
        x86_64|amd64) arch=x86_64 ;;
        aarch64|arm64) arch=aarch64 ;;
        *) arch=unknown ;;
    esac
    for candidate in "dist/tgbox-$version-$arch-unknown-linux-musl" target/release/tgbox; do
        if [ -x "$candidate" ]; then binary=$candidate; break; fi
    done
    [ -n "$binary" ] || die "no binary found; build one (packaging/build-release.sh) or pass --binary"
fi
[ -f "$binary" ] || die "--binary $binary does not exist"
[ -z "$token_file" ] || [ -f "$token_file" ] || die "--token-file $token_file does not exist"
if [ "$dry" = 0 ] && [ -z "$root" ] && [ "$(id -u)" != 0 ]; then
    die "run as root (sudo), or use --dry-run / --root DIR"
fi

bin_dir="$root/usr/local/bin"
unit_dir="$root/etc/systemd/system"
conf_dir="$root/etc/tgbox"
cred_dir="$conf_dir/credentials"
doc_dir="$root/usr/local/share/doc/tgbox"

echo "== installing tgbox $version from $binary"
run install -d -m 0755 "$bin_dir" "$unit_dir" "$conf_dir" "$doc_dir"
run install -m 0755 "$binary" "$bin_dir/tgbox"
run install -m 0644 packaging/tgbox.service "$unit_dir/tgbox.service"
run install -m 0644 docs/DEPLOY.md "$doc_dir/DEPLOY.md"
if [ -e "$conf_dir/tgbox.toml" ]; then
    echo "   keeping the existing $conf_dir/tgbox.toml (the new template is tgbox.toml.example)"
    run install -m 0644 packaging/tgbox.toml.example "$conf_dir/tgbox.toml.example"
else
    run install -m 0644 packaging/tgbox.toml.example "$conf_dir/tgbox.toml"
fi
run install -d -m 0700 "$cred_dir"
if [ -n "$token_file" ]; then
    run install -m 0600 "$token_file" "$cred_dir/telegram-token"
elif [ ! -e "$cred_dir/telegram-token" ]; then
    echo "   no token yet: put it in $cred_dir/telegram-token (mode 0600) before starting"
    start=0
fi

if [ "$start" = 1 ]; then
    run systemctl daemon-reload
    run systemctl enable --now tgbox.service
    echo "== started; follow it with: journalctl -u tgbox -f"
else
    [ -n "$root" ] || run systemctl daemon-reload
    echo "== installed; start it with: systemctl enable --now tgbox"
fi
