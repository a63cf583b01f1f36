#!/usr/bin/env bash
# Benchmark (run by hand, not in CI): adding one member to a group of N members (default
# 100,000) through SCIM PATCH, as Entra does, while wrk loads /healthz on the same host.
#
# Reports the PATCH time per request (median, p90, max; measured by the client, so it
# includes HTTP and the CSV connector rewriting its file), the mean time in the host (the
# host's request time minus the connector's export time, from /metrics), and /healthz p99
# with and without the PATCHes running, in the same run. Target (issue "production
# resilience"): the PATCH under 50 ms in the host, /healthz p99 under 10 ms.
#
# MEMBERS=1 leaves out `?excludedAttributes=members`, as Entra does: each answer then
# carries the whole group. ANSWER=no_content sets the application's `group_patch_answer =
# "no_content"`: each PATCH answers 204 without a body (and MEMBERS no longer matters).
#
# Usage: tests/bench/group_patch.sh [N] [PATCHES]     (needs: apt-get install wrk)
set -euo pipefail
N=${1:-100000}
PATCHES=${2:-30}
cd "$(dirname "$0")/../.."
command -v wrk >/dev/null || { echo "wrk is required: apt-get install wrk" >&2; exit 1; }
cargo build --release -q -p ecma-host -p csv-connector
BIN=$PWD/target/release/ecma-host
PLUGIN=$PWD/target/release/libcsv_connector.so
WORK=$(mktemp -d /tmp/ecma-group-bench.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT
TOKEN=bench-token-0123456789
PORT=18611

python3 - "$N" "$WORK/groups.csv" <<'PY'
import sys
n, path = int(sys.argv[1]), sys.argv[2]
with open(path, "w") as f:
    f.write("id,displayName,members\n")
    f.write("g1,Everyone," + ";".join(f"u{i:07d}" for i in range(n)) + "\n")
PY

cat > "$WORK/host.toml" <<TOML
[host]
listen = "127.0.0.1"
port = $PORT
state_dir = "$WORK/state"
plugins_dirs = []
plugin_files = ["$PLUGIN"]
log_level = "warn"
[[app]]
name = "groups"
connector = "csv"
token = "$TOKEN"
autosync_minutes = 0
group_patch_answer = "${ANSWER:-resource}"
[app.parameters.connectivity]
File = "$WORK/groups.csv"
[app.parameters.schema]
"Object type" = "Group"
"Multi-valued columns" = "members"
[[app.object_type]]
scim = "Group"
target = "Group"
anchor = "id"
members_attribute = "members"
core = { displayName = "displayName" }
TOML

"$BIN" serve --insecure-http --config "$WORK/host.toml" & HOST=$!
for _ in $(seq 1 6000); do
  curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/readyz" 2>/dev/null | grep -q 200 && break
  sleep 0.01
done

healthz_p99() { # seconds
  wrk -t1 -c4 -d"${1}s" --latency "http://127.0.0.1:$PORT/healthz" | awk '$1=="99%" {print $2}'
}

echo "== group of $N members, $PATCHES PATCHes adding one member each"
echo "/healthz p99, idle host: $(healthz_p99 5)"
healthz_p99 15 > "$WORK/p99" & WRK=$!
sleep 1
metric_sum() { # name kind-label -> the summary's _sum and _count
  curl -s "http://127.0.0.1:$PORT/metrics" | awk -v n="$1" -v k="$2" '
    index($1, n "_sum{") == 1 && index($1, k) { s += $2 }
    index($1, n "_count{") == 1 && index($1, k) { c += $2 }
    END { printf "%s %s\n", s + 0, c + 0 }'
}
STATUS=200
[ "${ANSWER:-resource}" = no_content ] && STATUS=204
read -r HTTP0 _ < <(metric_sum ecma_http_request_duration_seconds "app=\"groups\",status=\"$STATUS\"")
read -r EXPORT0 EXPORTS0 < <(metric_sum ecma_connector_call_duration_seconds 'kind="export"')
QUERY="?excludedAttributes=members"
[ "${MEMBERS:-0}" = 1 ] && QUERY=""
python3 - "$PORT" "$TOKEN" "$PATCHES" "$QUERY" "$STATUS" <<'PY'
import http.client, json, statistics, sys, time
port, token, count, query, expected = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5])
conn = http.client.HTTPConnection("127.0.0.1", port)
times = []
for i in range(count):
    body = json.dumps({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                       "Operations": [{"op": "Add", "path": "members", "value": [{"value": f"new{i:05d}"}]}]})
    started = time.perf_counter()
    conn.request("PATCH", "/ecma2host_groups/scim/Groups/g1" + query, body,
                 {"Authorization": f"Bearer {token}", "Content-Type": "application/scim+json"})
    r = conn.getresponse(); r.read()
    times.append((time.perf_counter() - started) * 1000)
    if r.status != expected:
        sys.exit(f"PATCH answered {r.status}")
times.sort()
print(f"PATCH add one member: median {statistics.median(times):.1f} ms, "
      f"p90 {times[int(len(times) * 0.9) - 1]:.1f} ms, max {times[-1]:.1f} ms")
PY
read -r HTTP1 _ < <(metric_sum ecma_http_request_duration_seconds "app=\"groups\",status=\"$STATUS\"")
read -r EXPORT1 EXPORTS1 < <(metric_sum ecma_connector_call_duration_seconds 'kind="export"')
python3 -c "
http, export, n = $HTTP1 - $HTTP0, $EXPORT1 - $EXPORT0, $EXPORTS1 - $EXPORTS0
print(f'in the host (request time minus the connector\'s export, mean of {n:.0f}): {(http - export) / n * 1000:.1f} ms;'
      f' the connector\'s export: {export / n * 1000:.1f} ms')"
wait $WRK
echo "/healthz p99 during the PATCHes: $(cat "$WORK/p99")"
kill $HOST; wait $HOST 2>/dev/null || true
