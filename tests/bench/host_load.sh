#!/usr/bin/env bash
# Host benchmark (issue: host runtime): run by hand, not in CI.
#
#  1. Full import of N objects (default 100,000) into the cache through the CSV connector:
#     time, peak memory, and cache bytes per object over the raw data.
#  2. Cached `GET /Users?filter=userName eq "x"` throughput over keep-alive HTTP and HTTPS with
#     wrk, as a ratio to the trivial /healthz endpoint of the same server in the same run, and
#     the p99 latency.
#
#  3. A restart with the cache the imports kept (`persist_cache = true`): time to ready.
#  Between 1 and 2: a second full import through the admin socket (`ecma-host import --full`),
#  and the memory after it: an import that finds every object unchanged must not grow the cache.
#
# Usage: tests/bench/host_load.sh [N | --million] [SECONDS] [ROUNDS]   (needs: apt-get install wrk)
set -euo pipefail
N=${1:-100000}
[ "$N" = "--million" ] && N=1000000
SECS=${2:-5}
ROUNDS=${3:-5}
cd "$(dirname "$0")/../.."
command -v wrk >/dev/null || { echo "wrk is required: apt-get install wrk" >&2; exit 1; }
cargo build --release -q -p ecma-host -p csv-connector
BIN=$PWD/target/release/ecma-host
PLUGIN=$PWD/target/release/libcsv_connector.so
WORK=$(mktemp -d /tmp/ecma-bench.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT
TOKEN=bench-token-0123456789

python3 - "$N" "$WORK/users.csv" <<'PY'
import sys
n, path = int(sys.argv[1]), sys.argv[2]
with open(path, "w") as f:
    f.write("id,userName,givenName,surname,mail,department\n")
    for i in range(n):
        f.write(f"u{i:07d},user{i}@contoso.com,Given{i},Surname{i},user{i}@contoso.com,Dept{i % 50}\n")
PY
printf 'id,userName,givenName,surname,mail,department\n' > "$WORK/empty.csv"

config() { # file port csv
  cat > "$1" <<TOML
[host]
listen = "127.0.0.1"
port = $2
hostname = "localhost"
state_dir = "$WORK/state"
plugins_dirs = []
plugin_files = ["$PLUGIN"]
log_level = "warn"
[[app]]
name = "bench"
connector = "csv"
token = "$TOKEN"
autosync_minutes = 0
import_page_size = 5000
persist_cache = true
[app.parameters.connectivity]
File = "$3"
[[app.object_type]]
scim = "User"
target = "User"
anchor = "id"
query_attributes = ["userName"]
core = { userName = "userName" }
TOML
}

wait_ready() { # url
  for _ in $(seq 1 6000); do
    curl -sk -o /dev/null -w '%{http_code}' "$1/readyz" 2>/dev/null | grep -q 200 && return 0
    sleep 0.01
  done
  echo "host not ready" >&2; exit 1
}

rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
hwm_kb() { awk '/VmHWM/ {print $2}' "/proc/$1/status"; }

echo "== import of $N objects (CSV connector, release build)"
config "$WORK/empty.toml" 18601 "$WORK/empty.csv"
"$BIN" serve --insecure-http --config "$WORK/empty.toml" & P0=$!
wait_ready http://127.0.0.1:18601
BASE_KB=$(rss_kb $P0); kill $P0; wait $P0 2>/dev/null || true

config "$WORK/http.toml" 18602 "$WORK/users.csv"
START=$(date +%s.%N)
"$BIN" serve --insecure-http --config "$WORK/http.toml" & P1=$!
wait_ready http://127.0.0.1:18602
END=$(date +%s.%N)
RSS_KB=$(rss_kb $P1); PEAK_KB=$(hwm_kb $P1)
RAW=$(stat -c %s "$WORK/users.csv")
# A second full import while the first snapshot is served: the swap must not leave two.
S2=$(date +%s.%N)
"$BIN" import bench --config "$WORK/http.toml" --full > "$WORK/import2.out"
E2=$(date +%s.%N)
RSS2_KB=$(rss_kb $P1); PEAK2_KB=$(hwm_kb $P1)
# And a third: what the second left must be reused, not added to.
"$BIN" import bench --config "$WORK/http.toml" --full > "$WORK/import3.out"
RSS3_KB=$(rss_kb $P1); PEAK3_KB=$(hwm_kb $P1)
python3 - <<PY
n=$N; raw=$RAW; base=$BASE_KB*1024; rss=$RSS_KB*1024; peak=$PEAK_KB*1024
rss2=$RSS2_KB*1024; peak2=$PEAK2_KB*1024; rss3=$RSS3_KB*1024; peak3=$PEAK3_KB*1024
secs=$END-$START; secs2=$E2-$S2
print(f"start-to-ready {secs:.2f} s ({n/secs:,.0f} objects/s, includes process start and plugin load)")
print(f"RSS empty cache {base/2**20:.1f} MiB; after import {rss/2**20:.1f} MiB; peak {peak/2**20:.1f} MiB")
print(f"cache bytes/object {(rss-base)/n:,.0f}; raw CSV bytes/object {raw/n:,.0f}; ratio {(rss-base)/raw:.1f}x")
print(f"second full import {secs2:.2f} s; RSS after it {rss2/2**20:.1f} MiB "
      f"({(rss2-base)/n:,.0f} bytes/object); peak over both imports {peak2/2**20:.1f} MiB "
      f"({peak2/rss:.2f}x the steady state after the first)")
print(f"third full import: RSS after it {rss3/2**20:.1f} MiB; peak over all three {peak3/2**20:.1f} MiB")
PY

run_wrk() { # url -> "rps p99"
  wrk -t1 -c16 -d"${SECS}s" --latency -H "Authorization: Bearer $TOKEN" "$1" > "$WORK/wrk.out"
  NON2XX=$(awk '/Non-2xx/ {print $NF}' "$WORK/wrk.out")
  [ -z "$NON2XX" ] || { echo "non-2xx answers: $NON2XX" >&2; exit 1; }
  echo "$(awk '/Requests\/sec/ {print $2}' "$WORK/wrk.out") $(awk '$1=="99%" {print $2}' "$WORK/wrk.out")"
}

# The two endpoints alternate for ROUNDS rounds and the median ratio is reported: wrk shares
# the machine's cores with the host, so single runs swing by ±20%.
compare() { # label base_url
  local rows=()
  for r in $(seq 1 "$ROUNDS"); do
    rows+=("$(run_wrk "$2/healthz") $(run_wrk "$2$FILTER")")
  done
  printf '%s\n' "${rows[@]}" | python3 -c "
import sys, statistics
rows = [l.split() for l in sys.stdin if l.strip()]
ratios = sorted(float(f)/float(h) for h, _, f, _ in rows)
print('  rounds (healthz req/s, p99 | filter req/s, p99):')
for h, hp, f, fp in rows: print(f'    {float(h):9.0f} {hp:>8} | {float(f):9.0f} {fp:>8}  ratio {float(f)/float(h):.2f}')
print(f'  $1 median ratio filter/healthz = {statistics.median(ratios):.2f} (min {ratios[0]:.2f}, max {ratios[-1]:.2f})')
"
}

FILTER='/ecma2host_bench/scim/Users?filter=userName+eq+%22user54321@contoso.com%22'
echo "== HTTP keep-alive (wrk 1 thread, 16 connections, ${SECS}s per run, $ROUNDS rounds)"
compare HTTP http://127.0.0.1:18602
kill $P1; wait $P1 2>/dev/null || true

# A restart with the cache the imports kept (persist_cache): time until it serves.
START=$(date +%s.%N)
"$BIN" serve --insecure-http --config "$WORK/http.toml" & P1=$!
wait_ready http://127.0.0.1:18602
END=$(date +%s.%N)
echo "== restart with the kept cache: ready in $(python3 -c "print(f'{$END-$START:.2f}')") s, RSS $(( $(rss_kb $P1) / 1024 )) MiB"
kill $P1; wait $P1 2>/dev/null || true

config "$WORK/https.toml" 18603 "$WORK/users.csv"
"$BIN" serve --config "$WORK/https.toml" & P2=$!
wait_ready https://localhost:18603
echo "== HTTPS keep-alive (TLS 1.3, generated certificate)"
compare HTTPS https://localhost:18603
