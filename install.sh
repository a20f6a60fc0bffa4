#!/usr/bin/env bash
# Installs nbmsp for production on Ubuntu 22.04/24.04 and Debian 12: checks Docker, then
# installs the Debian package when one is given or built (target/debian/*.deb), else a given
# binary, else builds from source when a new enough Rust is here (never the distribution's
# too-old cargo); creates the data home and the nbmsp-monitor systemd unit.
#
#   sudo ./install.sh --deb nbmsp_0.1.0_amd64.deb   # the package (scripts/package.sh makes it)
#   sudo ./install.sh                      # a package in target/debian/, else build with cargo
#   sudo ./install.sh --binary ./nbmsp     # install a binary built elsewhere
#   sudo ./install.sh --home /srv/nbmsp    # another data home (default /var/lib/nbmsp)
#   sudo ./install.sh --no-systemd         # skip the monitor unit
set -euo pipefail

prefix=/usr/local
home=/var/lib/nbmsp
binary=""
deb=""
systemd=1

while [ $# -gt 0 ]; do
  case "$1" in
    --binary) binary="$2"; shift 2 ;;
    --deb) deb="$2"; shift 2 ;;
    --home) home="$2"; shift 2 ;;
    --prefix) prefix="$2"; shift 2 ;;
    --no-systemd) systemd=0; shift ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "install.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

say() { printf 'install.sh: %s\n' "$*"; }
die() { printf 'install.sh: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "run as root (sudo ./install.sh): it writes $prefix/bin and $home"

if [ -r /etc/os-release ]; then
  . /etc/os-release
  case "${ID:-}:${VERSION_ID:-}" in
    ubuntu:22.04|ubuntu:24.04) ;;
    *) say "note: tested on Ubuntu 22.04/24.04; this is ${PRETTY_NAME:-unknown}, continuing" ;;
  esac
fi

command -v docker >/dev/null || die "Docker is not installed: apt-get install docker.io (or Docker's own packages), then run this again"
docker info >/dev/null 2>&1 || die "Docker is installed but not answering: systemctl start docker, then run this again"
say "Docker engine $(docker version --format '{{.Server.Version}}' 2>/dev/null || echo '?') found"

src_dir="$(cd "$(dirname "$0")" && pwd)"
# The package is the way in: dpkg knows the files, upgrades keep the data, apt checks Docker.
if [ -z "$deb" ] && [ -z "$binary" ]; then
  deb="$(ls -1t "$src_dir"/target/debian/nbmsp_*_amd64.deb 2>/dev/null | head -1 || true)"
fi
if [ -n "$deb" ]; then
  [ -r "$deb" ] || die "$deb is not readable"
  case "$deb" in /*) ;; *) deb="$PWD/$deb" ;; esac
  say "installing the package $deb"
  DEBIAN_FRONTEND=noninteractive apt-get install -y "$deb"
  say "installed; data home /var/lib/nbmsp; see: man nbmsp"
  exit 0
fi
# Rust 1.90 or newer builds this crate (edition 2024); Debian's and Ubuntu's packaged cargo
# is older, so it is never suggested.
rust_ok() {
  command -v cargo >/dev/null || return 1
  v="$(rustc --version 2>/dev/null | awk '{print $2}')"
  [ "$(printf '%s\n%s\n' "$v" 1.90.0 | sort -V | head -1)" = 1.90.0 ]
}
if [ -z "$binary" ]; then
  if ! rust_ok; then
    die "no package given and no Rust 1.90+ here ($(rustc --version 2>/dev/null || echo 'no rustc')). Either
  build the package elsewhere (scripts/package.sh) and run: sudo ./install.sh --deb nbmsp_*.deb
  or install Rust with rustup (the distribution's cargo is too old for this crate):
    curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh
  then run this again"
  fi
  say "building nbmsp (release) in $src_dir"
  (cd "$src_dir" && cargo build --release --locked)
  binary="$src_dir/target/release/nbmsp"
fi
[ -x "$binary" ] || die "$binary is not an executable"

install -d -m 0755 "$prefix/lib/nbmsp" "$prefix/bin"
install -m 0755 "$binary" "$prefix/lib/nbmsp/nbmsp"
# The wrapper gives every shell the production data home unless NBMSP_HOME says otherwise.
cat > "$prefix/bin/nbmsp" <<WRAP
#!/bin/sh
export NBMSP_HOME="\${NBMSP_HOME:-$home}"
exec "$prefix/lib/nbmsp/nbmsp" "\$@"
WRAP
chmod 0755 "$prefix/bin/nbmsp"

install -d -m 0700 "$home"
say "installed $prefix/bin/nbmsp; data home $home"
# Completions and the man page come from the binary's own command definitions.
bin="$prefix/lib/nbmsp/nbmsp"
install -d -m 0755 "$prefix/share/man/man1" /usr/share/bash-completion/completions \
  /usr/share/zsh/vendor-completions /usr/share/fish/vendor_completions.d
"$bin" man --dir "$prefix/share/man/man1"
"$bin" completions bash > /usr/share/bash-completion/completions/nbmsp
"$bin" completions zsh > /usr/share/zsh/vendor-completions/_nbmsp
"$bin" completions fish > /usr/share/fish/vendor_completions.d/nbmsp.fish
say "installed the man page (man nbmsp) and bash/zsh/fish completions"
if [ -e "$home/nbmsp.db" ]; then
  say "existing installation kept; run: nbmsp doctor"
else
  say "next: nbmsp init --admin-email you@example.com --base-domain msp.example.com"
fi

# --- the monitor as a service ---------------------------------------------------------------
# `nbmsp monitor` unlocks secrets (device tokens, the Gotify token) like any nbmsp user, so it
# runs as an nbmsp user whose name and password live in a root-only environment file. The unit
# is enabled now and starts once that file exists.
if [ "$systemd" = 1 ] && command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
  install -d -m 0700 /etc/nbmsp
  sed -e "s|@HOME@|$home|g" -e "s|@BIN@|$prefix/lib/nbmsp/nbmsp|g" \
    "$src_dir/packaging/nbmsp-monitor.service.in" > /etc/systemd/system/nbmsp-monitor.service
  systemctl daemon-reload
  systemctl enable nbmsp-monitor.service >/dev/null
  if [ -e /etc/nbmsp/monitor.env ]; then
    systemctl restart nbmsp-monitor.service
    say "nbmsp-monitor enabled and (re)started"
  else
    say "nbmsp-monitor enabled; it starts once /etc/nbmsp/monitor.env exists:"
    say "  nbmsp user add monitor --role operator"
    say "  printf 'NBMSP_USER=monitor\\nNBMSP_PASSWORD=<its password>\\n' > /etc/nbmsp/monitor.env; chmod 600 /etc/nbmsp/monitor.env"
    say "  systemctl start nbmsp-monitor; journalctl -u nbmsp-monitor -f"
  fi
elif [ "$systemd" = 1 ]; then
  say "no systemd here: run \`nbmsp monitor\` under your own supervisor for alerts"
fi
