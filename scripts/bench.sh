#!/usr/bin/env bash
# Benchmarks, printed as `bench <name> <value> <unit>` lines (see BENCHMARKS.md for results).
#
#   deploy_healthy_s    nbmsp customer create: validate .. containers up .. health checks pass
#   compose_up_s        docker-compose up -d of the same rendered files (does not wait for health)
#   deploy_vs_compose   ratio of the two (no target: the stand-in's API, like NetBird's, starts ~5 s late)
#   deploy_overhead_s   the same deploy with the stand-in's API up at once: nbmsp's own share
#   deploy_overhead_vs_compose  its ratio to compose_up_s (target <= 0.8)
#   tui_first_frame_1k  start to first full frame with 1,000 customers, login included (target <= 100 ms)
#   tui_rss_1k          peak memory of that run (target <= 40 MB)
#   tui_idle_bytes_10s  bytes written to the terminal in 10 s at rest, from 1 s after the first frame (target 0)
#   filter_10k_per_key  incremental filter over 10,000 customers, per keystroke (target <= 5 ms)
#   edge_config_{100,1000}    generating the edge's nginx configuration for 100 / 1,000 customers
#   edge_nginx_t_{100,1000}   nginx -t over it (what a reload waits for before the SIGHUP)
#   history_rows_1k_year{1,2}, history_bytes_1k_year{1,2}, history_db_file_1k  the month's history
#                       at 1,000 customers over two simulated years with 13 months kept (bounded)
#   history_round_record_ms_1k  what recording one monitor round adds at 1,000 customers
#   report_month_ms_1k  a month's report over 1,000 customers
#   tui_key_latency_logs_5k  key to screen while the shown container logs 5,000 lines/s (target <= 16 ms):
#                       scripts/keylat.py, the frame's last byte read; _tuimeter: the same through tuimeter
#   tui_rss_logs_5k     peak memory of that run (bounded by the log ring buffers)
#   tui_log_bytes_per_s_5k  bytes per second written to the terminal while following that stream (target <= 900)
#   import_100_s        nbmsp customer import of 100 customers into an empty fleet, each created and deployed
#                       to healthy (target <= 60 s on 2 cores); import_100_cpu_s is nbmsp's own CPU in it
#   bulk_create_50_s    nbmsp customer import of 50 customers, created and deployed to healthy
#   fleet_refresh_calls_{50,100}  Docker API calls of one monitor round at 50 and 100 customers (target: constant)
#   fleet_refresh_ms_100          duration of that round at 100 customers (target <= 200 ms)
#   tui_idle_bytes_fleet_100      bytes written in 30 s at rest (from 20 s after start) with 100 live customers and the monitor on (target 0)
#
# Needs a Docker engine and docker-compose; uses the stand-in images (scripts/standin-images.sh).
# Usage: scripts/bench.sh [runs]   (default 5; medians are reported)
# The TUI figures need Python's pyte (pip install pyte) for ../shared/tools/tuimeter.py.
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
          docker_network=$net relay_base_port=47000 relay_port_count=200; do
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

# nbmsp's own share: the same deploy with the stand-in's management API up at once (a template
# override sets STANDIN_STARTUP_DELAY_MS=0; by default it models NetBird's 5 s start-up).
mkdir -p "$home/templates/combined"
sed 's/      NB_SETUP_PAT_ENABLED: "true"/      NB_SETUP_PAT_ENABLED: "true"\n      STANDIN_STARTUP_DELAY_MS: "0"/' \
  "$root/templates/combined/docker-compose.yml" > "$home/templates/combined/docker-compose.yml"
fast=()
for i in $(seq 1 "$runs"); do
  sub="benchfast$i"
  t0=$(now)
  "$bin" customer create --name "Fast $i" --subdomain "$sub" --email "b@$sub.example" >/dev/null 2>&1
  t1=$(now)
  fast+=("$(python3 -c "print($t1 - $t0)")")
  "$bin" customer delete "$sub" --yes --purge-data >/dev/null
done
rm -rf "$home/templates"
o=$(median "${fast[@]}")
echo "bench deploy_overhead_s $o s"
echo "bench deploy_overhead_vs_compose $(python3 -c "print(f'{$o / $c:.2f}')") ratio"

# --- Fleet: bulk create, monitor rounds ---------------------------------------------------------
entries() {  # entries FROM TO: an import file for customers fleetFROM..fleetTO
  python3 -c 'import json,sys; a,b=int(sys.argv[1]),int(sys.argv[2]); print(json.dumps([{"name":f"Fleet {i}","subdomain":f"fleet{i}","email":f"it@fleet{i}.example"} for i in range(a,b)]))' "$1" "$2"
}
# One import of 100, then all of them deleted again (four at a time) before the fleet below.
python3 -c 'import json; print(json.dumps([{"name":f"Import {i}","subdomain":f"imp{i}","email":f"it@imp{i}.example"} for i in range(100)]))' > "$home/import-100.json"
t0=$(now)
/usr/bin/time -f "%U %S" -o "$home/import.cpu" "$bin" customer import --file "$home/import-100.json" >/dev/null 2>"$home/import.err" \
  || { cat "$home/import.err" >&2; exit 1; }
t1=$(now)
echo "bench import_100_s $(python3 -c "print(f'{$t1 - $t0:.1f}')") s"
echo "bench import_100_cpu_s $(awk '{printf "%.1f", $1 + $2}' "$home/import.cpu") s"
seq 0 99 | xargs -P 4 -I{} "$bin" customer delete "imp{}" --yes --purge-data >/dev/null

entries 0 50 > "$home/fleet-a.json"
t0=$(now)
"$bin" customer import --file "$home/fleet-a.json" >/dev/null 2>"$home/import.err" || { cat "$home/import.err" >&2; exit 1; }
t1=$(now)
echo "bench bulk_create_50_s $(python3 -c "print(f'{$t1 - $t0:.1f}')") s"
round() {  # the second round of `monitor --once` (the first warms the caches), as "calls ms"
  "$bin" monitor --once --json | python3 -c 'import json,sys; r=json.load(sys.stdin)["round"]; print(r["docker_calls"], r["millis"], r["customers"])'
}
read -r calls50 _ n50 <<<"$(round)"
echo "bench fleet_refresh_calls_50 $calls50 calls ($n50 customers)"
entries 50 100 > "$home/fleet-b.json"
"$bin" customer import --file "$home/fleet-b.json" >/dev/null 2>"$home/import.err" || { cat "$home/import.err" >&2; exit 1; }
ms=()
for i in $(seq 1 "$runs"); do
  read -r calls100 m n100 <<<"$(round)"
  ms+=("$m")
done
echo "bench fleet_refresh_calls_100 $calls100 calls ($n100 customers)"
echo "bench fleet_refresh_ms_100 $(median "${ms[@]}") ms"

# --- TUI -------------------------------------------------------------------------------------
cargo bench --quiet --bench filter 2>/dev/null | grep '^bench '
cargo bench --quiet --bench edge 2>/dev/null | grep '^bench '
cargo bench --quiet --bench history 2>/dev/null | grep '^bench '
meter="$root/../shared/tools/tuimeter.py"
if [ ! -f "$meter" ] || ! python3 -c 'import pyte' 2>/dev/null; then
  echo "bench tui SKIPPED: needs $meter and pyte (pip install pyte)"
  exit 0
fi
tuihome="$(mktemp -d)"
NBMSP_HOME="$tuihome" "$bin" init --admin-email bench@msp.example --base-domain msp.example --beside-foreign >/dev/null
python3 - "$tuihome/nbmsp.db" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.executemany(
    "INSERT INTO customers (name, company, subdomain, email, max_devices, notes, layout, status, created_at, updated_at)"
    " VALUES (?, ?, ?, ?, 20, '', 'combined', ?, '2026-03-02T10:00:00Z', '2026-03-02T10:00:00Z')",
    [(f"Customer {i}", f"Company {i}", f"c{i}", f"it@c{i}.example", "error" if i % 10 == 0 else "active") for i in range(1000)],
)
db.commit()
PY
result="$(NBMSP_HOME="$tuihome" DOCKER_HOST=tcp://127.0.0.1:1 python3 "$meter" --cols 120 --rows 40 \
  --ready "Customers (1000)" --script 'wait:1000,idle:10,key:q' -- /usr/bin/time -f '%M' -o "$tuihome/rss" "$bin")"
python3 - "$result" "$tuihome/rss" <<'PY'
import json, sys
d = json.loads(sys.argv[1])
rss_kb = int(open(sys.argv[2]).read().split()[-1])
print(f"bench tui_first_frame_1k {d['ready_ms']:.0f} ms")
print(f"bench tui_rss_1k {rss_kb / 1024:.1f} MB")
print(f"bench tui_idle_bytes_10s {d['idle_bytes']} bytes")
PY
rm -rf "$tuihome"

# The same at rest, but with the 100 live customers above and the monitor running in the app.
result="$(python3 "$meter" --cols 120 --rows 40 --ready "Customers (100)" --script 'wait:20000,idle:30,key:q' -- "$bin")"
python3 - "$result" <<'PY'
import json, sys
print(f"bench tui_idle_bytes_fleet_100 {json.loads(sys.argv[1])['idle_bytes']} bytes")
PY

# --- TUI under a chatty container ------------------------------------------------------------
# A customer whose server logs 5,000 lines/s (a template override passes STANDIN_LOG_RATE), the
# Logs tab open, its bytes counted over 20 s (a frame comes every 2 s at that rate: a 5 s window
# held two or three of them, ±20 %), then tab switches timed from key to screen.
chatty="bench-chatty"
mkdir -p "$home/templates/combined"
sed 's/      NB_SETUP_PAT_ENABLED: "true"/      NB_SETUP_PAT_ENABLED: "true"\n      STANDIN_LOG_RATE: "5000"/' \
  "$root/templates/combined/docker-compose.yml" > "$home/templates/combined/docker-compose.yml"
"$bin" customer create --name "Chatty" --subdomain "$chatty" --email "c@chatty.example" >/dev/null 2>"$home/chatty.err" \
  || { echo "bench: the chatty customer was not created:" >&2; cat "$home/chatty.err" >&2; exit 1; }
result="$(DOCKER_HOST= python3 "$meter" --cols 120 --rows 40 --ready "Customers (" \
  --script 'key:Enter,expect:Audit log,key:3,wait:3000,idle:20,key:4,expect:Health ·,key:3,expect:Logs ·,key:4,expect:Health ·,key:3,expect:Logs ·,wait:5000,key:Esc,key:q' \
  -- /usr/bin/time -f '%M' -o "$home/rss-chatty" "$bin")"
python3 - "$result" "$home/rss-chatty" <<'PY'
import json, statistics, sys
d = json.loads(sys.argv[1])
# Key to screen: from the key sent to the expected text on the emulated screen.
ms = [s["since_send_ms"] for s in d["steps"] if s["step"].startswith("expect:") and s["step"] != "expect:Audit log" and "since_send_ms" in s]
rss_kb = int(open(sys.argv[2]).read().split()[-1])
print(f"bench tui_key_latency_logs_5k_tuimeter {statistics.median(ms):.0f} ms")
print(f"bench tui_log_bytes_per_s_5k {d['idle_bytes_per_s']:.0f} bytes/s")
print(f"bench tui_rss_logs_5k {rss_kb / 1024:.1f} MB")
PY
# Key to screen again, timed by scripts/keylat.py: it records the program's output with read
# times and parses it afterwards, so the figure holds no meter's delay (tuimeter's ~22 ms floor).
DOCKER_HOST= python3 "$root/scripts/keylat.py" --cols 120 --rows 40 --ready "Customers (" \
  --prepare "Enter=Audit log" --prepare "3=Logs ·" --settle 3000 --press "4=Health ·" --press "3=Logs ·" --rounds 5 \
  -- "$bin" | python3 -c 'import json,sys; m = json.load(sys.stdin)["median_ms"]; print(f"bench tui_key_latency_logs_5k {m:.1f} ms")'
"$bin" customer delete "$chatty" --yes --purge-data >/dev/null 2>&1 || true
