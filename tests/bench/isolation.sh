#!/usr/bin/env bash
# Isolation benchmark (issue: connectors in their own process): run by hand, not in CI.
#
# The Generic SQL connector over SQLite, in the host's process and with isolation = "process",
# in the same run, as ratios (process / in-process):
#  1. a full import of N rows (default 100,000) through a running host (`ecma-host import
#     --full` over the admin socket, timed from the command's start to its end);
#  2. SCIM creates per second (Entra's lookup-then-POST pair, 4 concurrent keep-alive clients,
#     plain HTTP on loopback), C creates (default 2,000) into an empty table.
#
# Usage: tests/bench/isolation.sh [N] [C]
set -euo pipefail
N=${1:-100000}
C=${2:-2000}
cd "$(dirname "$0")/../.."
command -v sqlite3 >/dev/null || { echo "sqlite3 is required" >&2; exit 1; }
cargo build --release -q -p ecma-host -p generic-sql
BIN=$PWD/target/release/ecma-host
PLUGIN=$PWD/target/release/libgeneric_sql.so
WORK=$(mktemp -d /tmp/ecma-bench.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT
TOKEN=bench-token-0123456789

make_db() { # file rows
  python3 - "$1" "$2" <<'PY'
import sqlite3, sys
path, n = sys.argv[1], int(sys.argv[2])
db = sqlite3.connect(path)
db.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, login TEXT NOT NULL UNIQUE, first_name TEXT, last_name TEXT, email TEXT)")
db.executemany("INSERT INTO users (login, first_name, last_name, email) VALUES (?, ?, ?, ?)",
               ((f"user{i}@contoso.com", f"Given{i}", f"Surname{i}", f"user{i}@contoso.com") for i in range(n)))
db.commit()
PY
}

config() { # file port db isolation
  cat > "$1" <<TOML
[host]
listen = "127.0.0.1"
port = $2
hostname = "localhost"
state_dir = "$WORK/state-$2"
plugins_dirs = []
plugin_files = ["$PLUGIN"]
log_level = "warn"
[[app]]
name = "bench"
connector = "generic-sql"
isolation = "$4"
token = "$TOKEN"
autosync_minutes = 0
import_page_size = 5000
[app.parameters.connectivity]
"Connection string" = "sqlite://$3?mode=rwc"
[app.parameters.schema]
"Table" = "users"
"Anchor columns" = "id"
[[app.object_type]]
scim = "User"
target = "User"
query_attributes = ["login"]
attributes = ["login", "first_name", "last_name", "email"]
TOML
}

wait_ready() { # url
  for _ in $(seq 1 12000); do
    curl -s -o /dev/null -w '%{http_code}' "$1/readyz" 2>/dev/null | grep -q 200 && return 0
    sleep 0.01
  done
  echo "host not ready" >&2; exit 1
}

import_secs() { # isolation port -> seconds of the best of 3 full imports
  config "$WORK/import-$1.toml" "$2" "$WORK/import.db" "$1"
  "$BIN" serve --insecure-http --config "$WORK/import-$1.toml" & local pid=$!
  wait_ready "http://127.0.0.1:$2"
  local best=
  for _ in 1 2 3; do
    local s e
    s=$(date +%s.%N)
    "$BIN" import bench --config "$WORK/import-$1.toml" --full > /dev/null
    e=$(date +%s.%N)
    best=$(python3 -c "b='$best'; t=$e-$s; print(t if not b else min(float(b), t))")
  done
  kill $pid; wait $pid 2>/dev/null || true
  echo "$best"
}

creates_per_sec() { # isolation port
  rm -f "$WORK/creates-$1.db"
  make_db "$WORK/creates-$1.db" 0
  config "$WORK/creates-$1.toml" "$2" "$WORK/creates-$1.db" "$1"
  "$BIN" serve --insecure-http --config "$WORK/creates-$1.toml" & local pid=$!
  wait_ready "http://127.0.0.1:$2"
  python3 - "$2" "$C" "$TOKEN" <<'PY'
import http.client, json, sys, threading, time
port, n, token = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
EXT = "urn:ietf:params:scim:schemas:extension:ECMA2Host:2.0:User"
headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/scim+json"}
lock = threading.Lock(); counter = iter(range(n))
def client():
    conn = http.client.HTTPConnection("127.0.0.1", port)
    while True:
        with lock:
            i = next(counter, None)
        if i is None:
            return
        login = f"new{i}@contoso.com"
        conn.request("GET", f"/ecma2host_bench/scim/Users?filter=login+eq+%22{login}%22", headers=headers)
        r = conn.getresponse(); body = json.loads(r.read())
        assert body["totalResults"] == 0, body
        user = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", EXT],
                EXT: {"login": login, "first_name": "New", "last_name": f"Number {i}", "email": login}}
        conn.request("POST", "/ecma2host_bench/scim/Users", body=json.dumps(user), headers=headers)
        r = conn.getresponse(); r.read()
        assert r.status == 201, (r.status, r.reason)
start = time.perf_counter()
threads = [threading.Thread(target=client) for _ in range(4)]
for t in threads: t.start()
for t in threads: t.join()
print(n / (time.perf_counter() - start))
PY
  kill $pid; wait $pid 2>/dev/null || true
}

echo "== Generic SQL over SQLite: $N rows imported, $C creates (release build)"
make_db "$WORK/import.db" "$N"
IN_IMPORT=$(import_secs in_process 18701)
PR_IMPORT=$(import_secs process 18702)
IN_CREATES=$(creates_per_sec in_process 18703)
PR_CREATES=$(creates_per_sec process 18704)
python3 - <<PY
n=$N
i, p = $IN_IMPORT, $PR_IMPORT
ci, cp = $IN_CREATES, $PR_CREATES
print(f"full import, in process      {i:6.2f} s ({n/i:9,.0f} rows/s)")
print(f"full import, process         {p:6.2f} s ({n/p:9,.0f} rows/s)")
print(f"  import throughput ratio process/in-process = {i/p:.2f} (target >= 0.8)")
print(f"creates, in process          {ci:8.0f} /s")
print(f"creates, process             {cp:8.0f} /s")
print(f"  creates ratio process/in-process = {cp/ci:.2f} (target >= 0.9)")
PY
