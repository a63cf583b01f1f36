#!/usr/bin/env bash
# Isolation benchmark (issue: connectors in their own process): run by hand, not in CI.
#
# The Generic SQL connector in the host's process and with isolation = "process", in the same
# run, as ratios (process / in-process), over SQLite and over a real PostgreSQL server (the
# database of Microsoft's Generic SQL tutorial). SQLite is the worst case: its files go on tmpfs
# (/dev/shm, where there is one), so that an insert costs tens of us and the pipe round trip is
# a large share of it (on a disk each commit waits ~1 ms for fsync and both modes come out
# alike). The script starts PostgreSQL itself on a free loopback port in its temp dir (trust
# auth, fsync off, as the test harness runs it) and stops it by its PID on exit:
#  1. a full import of N rows (default 100,000) through a running host (`ecma-host import
#     --full` over the admin socket, timed from the command's start to its end; best of 3);
#  2. SCIM creates per second (Entra's lookup-then-POST pair, 4 concurrent keep-alive clients,
#     plain HTTP on loopback), C creates (default 2,000) into an empty table.
# Each database is measured in ROUNDS rounds (default 3); the two modes alternate within a
# round and swap order from one round to the next, so background noise hits both alike. The
# summary gives each round's ratios, their median and their range.
#
# Usage: tests/bench/isolation.sh [rows] [creates] [sqlite|postgres|both]
# ECMA_HOST=path/to/ecma-host runs that build instead of building this tree's (to compare two
# builds of the host, e.g. before and after a change, run alternately).
# Run it under the shared cargo lock (it builds, and other benchmarks must not run meanwhile).
set -euo pipefail
N=${1:-100000}
C=${2:-2000}
DBS=${3:-both}
ROUNDS=${ROUNDS:-3}
case $DBS in
  sqlite) DB_LIST=(sqlite) ;;
  postgres) DB_LIST=(postgres) ;;
  both) DB_LIST=(sqlite postgres) ;;
  *) echo "usage: tests/bench/isolation.sh [rows] [creates] [sqlite|postgres|both]" >&2; exit 2 ;;
esac
cd "$(dirname "$0")/../.."
command -v python3 >/dev/null || { echo "python3 is required" >&2; exit 1; }
PLUGIN=$PWD/target/release/libgeneric_sql.so
if [ -n "${ECMA_HOST:-}" ]; then
  BIN=$(realpath "$ECMA_HOST")
  [ -f "$PLUGIN" ] || cargo build --release -q -p generic-sql
else
  cargo build --release -q -p ecma-host -p generic-sql
  BIN=$PWD/target/release/ecma-host
fi
WORK=$(mktemp -d /tmp/ecma-bench.XXXXXX)
SQLITE_DIR=$WORK
if [ -d /dev/shm ] && [ -w /dev/shm ]; then
  SQLITE_DIR=$(mktemp -d /dev/shm/ecma-bench.XXXXXX)
fi
TOKEN=bench-token-0123456789
RESULTS=$WORK/results
PG_PID=
PG_PORT=
PG_BIN=

cleanup() {
  local pids
  pids=$(jobs -p)
  [ -n "$pids" ] && kill $pids 2>/dev/null || true
  if [ -n "$PG_PID" ]; then
    # PostgreSQL's fast shutdown, then wait (up to a minute) for the postmaster to go.
    kill -INT "$PG_PID" 2>/dev/null || true
    for _ in $(seq 1 3000); do kill -0 "$PG_PID" 2>/dev/null || break; sleep 0.02; done
  fi
  rm -rf "$WORK" "$SQLITE_DIR"
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# ---- the databases ------------------------------------------------------------------------

sqlite_table() { # file rows: a users table with `rows` rows, in a new file
  rm -f "$1"
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

pg_start() {
  PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [ -x "$PG_BIN/initdb" ] || { echo "PostgreSQL (initdb under /usr/lib/postgresql/*/bin) is required" >&2; exit 1; }
  local dir=$WORK/pg as=()
  mkdir "$dir"
  if [ "$(id -u)" = 0 ]; then
    # The server refuses to run as root: its programs run as `postgres`, which must reach
    # its directory inside ours.
    chmod 711 "$WORK"
    chown postgres:postgres "$dir"
    as=(runuser -u postgres --)
  fi
  "${as[@]}" "$PG_BIN/initdb" -D "$dir/data" -A trust -U postgres --no-sync -E UTF8 > "$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; exit 1; }
  PG_PORT=$(free_port)
  "${as[@]}" "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/log" -w \
    -o "-p $PG_PORT -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
    start > /dev/null || { cat "$dir/log" >&2; exit 1; }
  PG_PID=$(head -n 1 "$dir/data/postmaster.pid")
}

pg_sql() { # statements
  PGOPTIONS="-c client_min_messages=warning" "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -c "$1" > /dev/null
}

pg_table() { # table rows: a new users table with `rows` rows
  pg_sql "DROP TABLE IF EXISTS $1;
    CREATE TABLE $1 (id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
      login VARCHAR(200) NOT NULL UNIQUE, first_name VARCHAR(200), last_name VARCHAR(200), email VARCHAR(200));
    INSERT INTO $1 (login, first_name, last_name, email)
      SELECT 'user' || i || '@contoso.com', 'Given' || i, 'Surname' || i, 'user' || i || '@contoso.com'
      FROM generate_series(0, $2 - 1) AS i;"
  pg_sql "VACUUM ANALYZE $1"
}

# ---- the host -----------------------------------------------------------------------------

config() { # file port connection-string table isolation
  cat > "$1" <<TOML
[host]
listen = "127.0.0.1"
port = $2
hostname = "localhost"
state_dir = "$(mktemp -d "$WORK/state.XXXXXX")"
plugins_dirs = []
plugin_files = ["$PLUGIN"]
log_level = "warn"
[[app]]
name = "bench"
connector = "generic-sql"
isolation = "$5"
token = "$TOKEN"
autosync_minutes = 0
import_page_size = 5000
[app.parameters.connectivity]
"Connection string" = "$3"
[app.parameters.schema]
"Table" = "$4"
"Anchor columns" = "id"
[[app.object_type]]
scim = "User"
target = "User"
query_attributes = ["login"]
attributes = ["login", "first_name", "last_name", "email"]
TOML
}

wait_ready() { # url pid log
  for _ in $(seq 1 12000); do
    curl -s -o /dev/null -w '%{http_code}' "$1/readyz" 2>/dev/null | grep -q 200 && return 0
    kill -0 "$2" 2>/dev/null || { echo "host exited before it was ready:" >&2; cat "$3" >&2; exit 1; }
    sleep 0.01
  done
  echo "host not ready:" >&2; cat "$3" >&2; exit 1
}

import_secs() { # isolation connection-string table -> seconds of the best of 3 full imports
  local port cfg=$WORK/import-$1.toml
  port=$(free_port)
  config "$cfg" "$port" "$2" "$3" "$1"
  "$BIN" serve --insecure-http --config "$cfg" > "$cfg.log" 2>&1 & local pid=$!
  wait_ready "http://127.0.0.1:$port" "$pid" "$cfg.log"
  local best=
  for _ in 1 2 3; do
    local s e
    s=$(date +%s.%N)
    "$BIN" import bench --config "$cfg" --full > /dev/null
    e=$(date +%s.%N)
    best=$(python3 -c "b='$best'; t=$e-$s; print(t if not b else min(float(b), t))")
  done
  kill "$pid"; wait "$pid" 2>/dev/null || true
  echo "$best"
}

creates_per_sec() { # isolation connection-string table (empty)
  local port cfg=$WORK/creates-$1.toml
  port=$(free_port)
  config "$cfg" "$port" "$2" "$3" "$1"
  "$BIN" serve --insecure-http --config "$cfg" > "$cfg.log" 2>&1 & local pid=$!
  wait_ready "http://127.0.0.1:$port" "$pid" "$cfg.log"
  python3 - "$port" "$C" "$TOKEN" <<'PY'
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
  kill "$pid"; wait "$pid" 2>/dev/null || true
}

# ---- one database, ROUNDS rounds ----------------------------------------------------------

measure() { # db
  local db=$1 import_conn creates_conn import_table=users creates_table value
  case $db in
    sqlite)
      sqlite_table "$SQLITE_DIR/import.db" "$N"
      import_conn="sqlite://$SQLITE_DIR/import.db?mode=rwc"
      ;;
    postgres)
      pg_start
      pg_table users "$N"
      import_conn="postgres://postgres@127.0.0.1:$PG_PORT/postgres"
      creates_conn=$import_conn
      ;;
  esac
  local where=
  case $db in
    sqlite) where=" (files in $(df --output=fstype "$SQLITE_DIR" | tail -n 1))" ;;
    postgres) where=" (fsync off)" ;;
  esac
  echo "== Generic SQL over $db$where: $N rows imported, $C creates, $ROUNDS rounds"
  for round in $(seq 1 "$ROUNDS"); do
    local modes=(in_process process)
    [ $((round % 2)) = 0 ] && modes=(process in_process)
    for mode in "${modes[@]}"; do
      value=$(import_secs "$mode" "$import_conn" "$import_table")
      echo "$db $round import $mode $value" >> "$RESULTS"
    done
    for mode in "${modes[@]}"; do
      case $db in
        sqlite)
          sqlite_table "$SQLITE_DIR/creates.db" 0
          creates_conn="sqlite://$SQLITE_DIR/creates.db?mode=rwc"
          creates_table=users
          ;;
        postgres)
          creates_table=created
          pg_table "$creates_table" 0
          ;;
      esac
      value=$(creates_per_sec "$mode" "$creates_conn" "$creates_table")
      echo "$db $round creates $mode $value" >> "$RESULTS"
    done
    echo "   round $round done" >&2
  done
}

: > "$RESULTS"
for db in "${DB_LIST[@]}"; do
  measure "$db"
done

python3 - "$RESULTS" "$N" <<'PY'
import statistics, sys
from collections import defaultdict
path, n = sys.argv[1], int(sys.argv[2])
runs = defaultdict(dict)  # (db, round, kind) -> {mode: value}
dbs = []
for line in open(path):
    db, rnd, kind, mode, value = line.split()
    runs[(db, int(rnd), kind)][mode] = float(value)
    if db not in dbs:
        dbs.append(db)
def summary(ratios, target):
    return (f"median {statistics.median(ratios):.2f}, range {min(ratios):.2f}-{max(ratios):.2f}"
            f" (target >= {target})")
for db in dbs:
    rounds = sorted({r for (d, r, _) in runs if d == db})
    print(f"== {db}")
    imports, creates = [], []
    for r in rounds:
        i = runs[(db, r, "import")]
        ti, tp = i["in_process"], i["process"]
        imports.append(ti / tp)
        print(f"round {r}: import in-process {ti:6.2f} s ({n/ti:7,.0f} rows/s), process {tp:6.2f} s"
              f" ({n/tp:7,.0f} rows/s), ratio {ti/tp:.2f}")
    for r in rounds:
        c = runs[(db, r, "creates")]
        ci, cp = c["in_process"], c["process"]
        creates.append(cp / ci)
        print(f"round {r}: creates in-process {ci:6.0f} /s, process {cp:6.0f} /s, ratio {cp/ci:.2f}")
    print(f"{db}: import throughput ratio process/in-process: {summary(imports, 0.8)}")
    print(f"{db}: creates ratio process/in-process:           {summary(creates, 0.9)}")
PY
