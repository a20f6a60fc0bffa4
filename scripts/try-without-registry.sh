#!/usr/bin/env bash
# For TRYING nbmsp on a machine that cannot reach a registry (not for production): builds the
# stand-in images the tests use (they behave like NetBird v0.77.1 where nbmsp looks, but they
# are not NetBird: no VPN traffic flows) and points the six images.* settings of the nbmsp
# home in NBMSP_HOME (or --home) at them. Put the real images back with `nbmsp settings set`.
#
#   scripts/try-without-registry.sh            # asks for the admin password (or NBMSP_PASSWORD)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bash "$root/scripts/standin-images.sh"
nbmsp="${NBMSP_BIN:-$root/target/release/nbmsp}"
[ -x "$nbmsp" ] || (cd "$root" && cargo build --release --locked)
for pair in server:netbird-server dashboard:dashboard management:management signal:signal relay:relay proxy:reverse-proxy; do
  "$nbmsp" "$@" settings set "images.${pair%%:*}" "nbmsp-standin/${pair#*:}:latest"
done
echo "try-without-registry: images.* point at the stand-ins; create a customer in the app (n) or with"
echo "  nbmsp customer create --name Test --subdomain test --email it@test.example"
