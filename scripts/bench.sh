#!/usr/bin/env bash
# Benchmarks, printed as `bench <name> <value> <unit>` lines (see BENCHMARKS.md for results).
#
#   deploy_healthy_s    nbmsp customer create: validate .. containers up .. health checks pass
#   compose_up_s        docker-compose up -d of the same rendered files (does not wait for health)
#   deploy_vs_compose   ratio of the two (target <= 0.8)
#
# Needs a Docker engine and docker-compose; uses the stand-in images (scripts/standin-images.sh).
# Usage: scripts/bench.sh [runs]   (default 5; medians are reported)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
runs="${1:-5}"
cd "$root"
cargo build --release --quiet
bin="${CARGO_TARGET_DIR:-$root/target}/release/nbmsp"
bash scripts/standin-images.sh >/dev/null

home="$(mktemp -d)"
net="nbmsp-bench-$$"
export NBMSP_HOME="$home" NBMSP_PASSWORD="bench-password-1"
cleanup() {
  docker ps -aq --filter "label=nbmsp.bench=$$" | xargs -r docker rm -f >/dev/null 2>&1 || true
  "$bin" customer list --json 2>/dev/null | python3 -c 'import json,sys; [print(c["subdomain"]) for c in json.load(sys.stdin)]' \
    | while read -r s; do "$bin" customer delete "$s" --yes --purge-data >/dev/null 2>&1 || true; done
  docker network rm "$net" >/dev/null 2>&1 || true
  rm -rf "$home"
}
trap cleanup EXIT

"$bin" init --admin-email bench@msp.example --base-domain msp.example >/dev/null
for kv in images.server=nbmsp-standin/netbird-server:latest images.dashboard=nbmsp-standin/dashboard:latest \
          docker_network=$net relay_base_port=47000 relay_port_count=50; do
  "$bin" settings set "${kv%%=*}" "${kv#*=}" >/dev/null
done

now() { python3 -c 'import time; print(time.monotonic())'; }
median() { python3 -c 'import sys,statistics; print(f"{statistics.median(float(x) for x in sys.argv[1:]):.3f}")' "$@"; }

deploys=()
composes=()
for i in $(seq 1 "$runs"); do
  sub="bench$i"
  t0=$(now)
  "$bin" customer create --name "Bench $i" --subdomain "$sub" --email "b@$sub.example" >/dev/null 2>&1
  t1=$(now)
  deploys+=("$(python3 -c "print($t1 - $t0)")")
  # The same files, applied by docker-compose under another project once nbmsp's stack is gone.
  out="$home/compose-$i"
  "$bin" customer render "$sub" --out "$out" >/dev/null
  "$bin" customer delete "$sub" --yes --purge-data >/dev/null
  mkdir -p "$home/instances/$sub"
  cp "$out"/* "$home/instances/$sub/"
  t0=$(now)
  (cd "$home/instances/$sub" && docker-compose -p "bench$$-$i" up -d >/dev/null 2>&1)
  t1=$(now)
  composes+=("$(python3 -c "print($t1 - $t0)")")
  (cd "$home/instances/$sub" && docker-compose -p "bench$$-$i" down >/dev/null 2>&1) || true
  rm -rf "$home/instances/$sub"
done

d=$(median "${deploys[@]}")
c=$(median "${composes[@]}")
echo "bench deploy_healthy_s $d s"
echo "bench compose_up_s $c s"
echo "bench deploy_vs_compose $(python3 -c "print(f'{$d / $c:.2f}')") ratio"
