#!/usr/bin/env bash
# Full-import benchmark: N generated inetOrgPerson entries loaded into a throwaway slapd with
# slapadd, dumped once by `ldapsearch` (paged, to /dev/null) and once by the connector through
# the plugin ABI, in the same run. Prints both rates, the ratio and the connector's peak RSS.
# Needs slapd and ldap-utils. Usage: [ROUNDS=7] bench/run.sh [N] [page size]
set -euo pipefail
N=${1:-50000}
PAGE=${2:-1000}
ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
cd "$ROOT"
cargo build --release -p generic-ldap --lib --example bench_import >&2
LIB="$ROOT/target/release/libgeneric_ldap.so"
BIN="$ROOT/target/release/examples/bench_import"

DIR=$(mktemp -d /tmp/ldapbench.XXXXXX)
PID=""
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null; rm -rf "$DIR"; }
trap cleanup EXIT
mkdir -p "$DIR/slapd.d" "$DIR/db"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$DIR/config.ldif" <<LDIF
dn: cn=config
objectClass: olcGlobal
cn: config

dn: cn=module{0},cn=config
objectClass: olcModuleList
cn: module{0}
olcModulePath: /usr/lib/ldap
olcModuleLoad: back_mdb

dn: cn=schema,cn=config
objectClass: olcSchemaConfig
cn: schema

include: file:///etc/ldap/schema/core.ldif
include: file:///etc/ldap/schema/cosine.ldif
include: file:///etc/ldap/schema/inetorgperson.ldif
include: file:///etc/ldap/schema/nis.ldif

dn: olcDatabase={-1}frontend,cn=config
objectClass: olcDatabaseConfig
objectClass: olcFrontendConfig
olcDatabase: {-1}frontend
olcSizeLimit: unlimited

dn: olcDatabase={1}mdb,cn=config
objectClass: olcDatabaseConfig
objectClass: olcMdbConfig
olcDatabase: {1}mdb
olcSuffix: dc=example,dc=com
olcRootDN: cn=admin,dc=example,dc=com
olcRootPW: secret
olcDbDirectory: $DIR/db
olcDbMaxSize: 4294967296
olcDbIndex: objectClass eq
olcLimits: {0}* size=unlimited time=unlimited
olcSizeLimit: unlimited
LDIF
slapadd -n0 -F "$DIR/slapd.d" -l "$DIR/config.ldif"
# Data generated here, never committed.
{
  printf 'dn: dc=example,dc=com\nobjectClass: dcObject\nobjectClass: organization\ndc: example\no: Example\n\n'
  printf 'dn: ou=bench,dc=example,dc=com\nobjectClass: organizationalUnit\nou: bench\n\n'
  awk -v n="$N" 'BEGIN { for (i = 0; i < n; i++) {
    printf "dn: uid=user%06d,ou=bench,dc=example,dc=com\nobjectClass: inetOrgPerson\nuid: user%06d\ncn: User Number %d\nsn: Number%d\ngivenName: User\nmail: user%06d@example.com\nmail: alias%06d@example.org\ntelephoneNumber: +1 555 %07d\ntitle: Engineer\nemployeeNumber: %d\ndescription: Generated entry %d for the import benchmark\n\n", i, i, i, i, i, i, i, i, i
  } }'
} > "$DIR/data.ldif"
slapadd -q -F "$DIR/slapd.d" -b dc=example,dc=com -l "$DIR/data.ldif"
rm "$DIR/data.ldif"
slapd -F "$DIR/slapd.d" -h "ldap://127.0.0.1:$PORT/" -d 0 >"$DIR/slapd.log" 2>&1 &
PID=$!
for _ in $(seq 1 250); do ldapsearch -x -H "ldap://127.0.0.1:$PORT" -b '' -s base 1.1 >/dev/null 2>&1 && break; sleep 0.02; done

BASE=ou=bench,dc=example,dc=com
# Warm the server cache once so neither side pays for cold pages.
ldapsearch -x -LLL -H "ldap://127.0.0.1:$PORT" -D cn=admin,dc=example,dc=com -w secret -b "$BASE" -E pr=$PAGE/noprompt '(objectClass=inetOrgPerson)' '*' entryUUID structuralObjectClass modifyTimestamp >/dev/null
RATIOS=()
for round in $(seq 1 "${ROUNDS:-7}"); do
  T0=$(date +%s.%N)
  COUNT=$(ldapsearch -x -LLL -H "ldap://127.0.0.1:$PORT" -D cn=admin,dc=example,dc=com -w secret -b "$BASE" \
    -E pr=$PAGE/noprompt '(objectClass=inetOrgPerson)' '*' entryUUID structuralObjectClass modifyTimestamp | grep -c '^dn:')
  T1=$(date +%s.%N)
  LS=$(python3 -c "print(f'{$COUNT/($T1-$T0):.0f}')")
  [ -n "${BENCH_RAW:-}" ] && BENCH_RAW=1 "$BIN" "$LIB" "$PORT" "$BASE" "$PAGE"
  [ -n "${BENCH_RAW:-}" ] && env -u BENCH_RAW BENCH_INPROC=1 "$BIN" "$LIB" "$PORT" "$BASE" "$PAGE" | sed "s/^/in-process /"
  OUT=$(env -u BENCH_RAW ${PERF_OUT:+perf record -q -g -o "$PERF_OUT" --} "$BIN" "$LIB" "$PORT" "$BASE" "$PAGE")
  CON=$(sed -E 's/.*= ([0-9]+) entries\/s.*/\1/' <<<"$OUT")
  echo "round $round: ldapsearch: $COUNT entries in $(python3 -c "print(f'{$T1-$T0:.3f}')") s = $LS entries/s"
  echo "round $round: $OUT"
  R=$(python3 -c "print(f'{$CON/$LS:.2f}')")
  RATIOS+=("$R")
  echo "round $round: ratio connector/ldapsearch = $R"
done
# The machine's noise swings single rounds by +-20%: the median is the number to report.
python3 -c "import statistics,sys; r=sorted(map(float,sys.argv[1:])); print(f'median ratio connector/ldapsearch = {statistics.median(r):.2f} (min {r[0]:.2f}, max {r[-1]:.2f}, {len(r)} rounds)')" "${RATIOS[@]}"
