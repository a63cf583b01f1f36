#!/bin/bash
# start-389ds.sh DIR PORT [ROOT_PASSWORD]
#
# Used by the test harness (tests/support/ds389.rs) with DS_PREPARE_ONLY=1: it writes the
# instance files and then runs ns-slapd itself as a child process, stopped by PID.
#
# Create (if DIR/config/dse.ldif does not exist yet) and start a throwaway
# 389 Directory Server instance whose files all live under DIR, listening on
# 127.0.0.1:PORT (plain LDAP only, no TLS, no LDAPI), without systemd and
# without dscreate/lib389 (the dse.ldif is rendered directly from the
# package's template-dse.ldif, like dscreate does internally).
#
# Enabled: Retro Changelog (cn=changelog, with nsuniqueid -> targetUniqueId),
# Content Synchronization (RFC 4533), entryUUID (active from first start).
#
# On success prints the server PID as the LAST line of stdout and exits 0.
# All diagnostics go to stderr. Stop with stop-389ds.sh DIR (or kill -TERM PID).
#
# Environment knobs (all optional):
#   DS_SUFFIX=dc=example,dc=com   suffix of the userRoot backend
#   DS_ROOTDN="cn=Directory Manager"
#   DS_DBLIB=bdb|mdb              database implementation (default bdb, the 2.3 default;
#                                 mdb = LMDB, ~0.5 MB on disk instead of ~100 MB)
#   DS_CREATE_SUFFIX=1            add the suffix entry after start (0 = leave DB empty;
#                                 note the add becomes changenumber 1 in cn=changelog)
#   DS_READ_ACI=1                 put an ACI on the suffix entry letting any *bound* user
#                                 read everything except userPassword, and one on cn=changelog
#   DS_TIMEOUT=60                 seconds to wait for the server to accept connections
#   DS_PREPARE_ONLY=0             1 = only write the instance files, do not start
#                                 (then run yourself, in the foreground:
#                                  NOTIFY_SOCKET=<unix dgram socket> ns-slapd -D DIR/config -i DIR/run/slapd.pid
#                                  and wait for the "READY=1" datagram)
set -euo pipefail

die() { echo "start-389ds: $*" >&2; exit 1; }

[ $# -ge 2 ] || die "usage: $0 DIR PORT [ROOT_PASSWORD]"
DIR=$1
PORT=$2
PW=${3:-${DS_ROOTPW:-Secret123}}
SUFFIX=${DS_SUFFIX:-dc=example,dc=com}
ROOTDN=${DS_ROOTDN:-cn=Directory Manager}
DBLIB=${DS_DBLIB:-bdb}
CREATE_SUFFIX=${DS_CREATE_SUFFIX:-1}
READ_ACI=${DS_READ_ACI:-1}
TIMEOUT=${DS_TIMEOUT:-60}
PREPARE_ONLY=${DS_PREPARE_ONLY:-0}

NS_SLAPD=${NS_SLAPD:-/usr/sbin/ns-slapd}
TEMPLATE=/usr/share/dirsrv/data/template-dse.ldif
for f in "$NS_SLAPD" "$TEMPLATE"; do
    [ -e "$f" ] || die "$f not found (apt-get install --no-install-recommends 389-ds-base ldap-utils)"
done
for c in pwdhash ldapsearch ldapadd ldapmodify; do
    command -v "$c" >/dev/null || die "$c not found (packages 389-ds-base / ldap-utils)"
done
case "$PORT" in ''|*[!0-9]*) die "PORT must be a number" ;; esac
case "$DBLIB" in bdb|mdb) ;; *) die "DS_DBLIB must be bdb or mdb" ;; esac
[ ${#PW} -ge 8 ] || echo "start-389ds: warning: root password shorter than 8 chars" >&2

mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd -P)          # absolute, symlink-free
case "$DIR" in *'|'*|*'&'*|*' '*|*'\'*) die "DIR must not contain '|', '&', '\\' or spaces" ;; esac
CONF=$DIR/config
PIDFILE=$DIR/run/slapd.pid
LDAPURI=ldap://127.0.0.1:$PORT

# Refuse if something already listens on the port (bash /dev/tcp probe).
if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
    die "port $PORT on 127.0.0.1 is already in use"
fi

# Refuse to touch an instance that is already running from this DIR.
if [ -s "$PIDFILE" ]; then
    OLDPID=$(cat "$PIDFILE")
    if tr '\0' ' ' < "/proc/$OLDPID/cmdline" 2>/dev/null | grep -q -- "ns-slapd -D $CONF"; then
        die "instance in $DIR is already running as pid $OLDPID"
    fi
fi

if [ -f "$CONF/dse.ldif" ]; then
    # Existing instance: (re)start it, on the requested port.
    sed -i "s|^nsslapd-port: .*|nsslapd-port: $PORT|" "$CONF/dse.ldif"
else
    mkdir -p "$CONF/schema" "$DIR"/{db,ldif,bak,log,run,lock,tmp}
    # /etc/dirsrv is mode 0750 dirsrv:dirsrv, so a non-root user usually cannot
    # read it. Fall back to equivalent minimal files (the collation plugin then
    # logs one ERR and only language-tagged ordering rules are unavailable).
    # Fix for CI if you want them: sudo chmod -R o+rX /etc/dirsrv
    cp /etc/dirsrv/schema/99user.ldif "$CONF/schema/" 2>/dev/null \
        || printf 'dn: cn=schema\n' > "$CONF/schema/99user.ldif"
    cp /etc/dirsrv/config/certmap.conf "$CONF/" 2>/dev/null \
        || printf 'certmap default\tdefault\n' > "$CONF/certmap.conf"
    cp /etc/dirsrv/config/slapd-collations.conf "$CONF/" 2>/dev/null \
        || echo "start-389ds: note: /etc/dirsrv/config/slapd-collations.conf not readable, skipping it" >&2
    HASH=$(pwdhash -s SSHA512 "$PW")
    RUNUSER=$(id -un)
    # NB: the schema dir MUST be $CONF/schema (ns-slapd bootstraps from there),
    # db_home_dir = db_dir (no /dev/shm), LDAPI off (no socket path limits).
    {
        sed -e "s|%schema_dir%|$CONF/schema|; s|%lock_dir%|$DIR/lock|; s|%tmp_dir%|$DIR/tmp|" \
            -e "s|%cert_dir%|$CONF|; s|%ldif_dir%|$DIR/ldif|; s|%bak_dir%|$DIR/bak|" \
            -e "s|%run_dir%|$DIR/run|; s|%inst_dir%|$DIR|; s|%log_dir%|$DIR/log|" \
            -e "s|%fqdn%|localhost|; s|%ds_port%|$PORT|; s|%ds_user%|$RUNUSER|" \
            -e "s|%rootdn%|$ROOTDN|; s|%ds_passwd%|$HASH|; s|%ds_suffix%|$SUFFIX|" \
            -e "s|%config_dir%|$CONF|; s|%db_dir%|$DIR/db|; s|%db_home_dir%|$DIR/db|; s|%db_lib%|$DBLIB|" \
            -e "s|%ldapi_enabled%|off|; s|%ldapi%|$DIR/run/ldapi|; s|%ldapi_autobind%|off|" \
            -e "s|^nsslapd-port: .*|&\nnsslapd-listenhost: 127.0.0.1\nnsslapd-defaultnamingcontext: $SUFFIX|" \
            -e "/^dn: cn=config,cn=ldbm database,cn=plugins,cn=config\$/,/^\$/ s|^nsslapd-backend-implement: .*|&\nnsslapd-cache-autosize: 0\nnsslapd-dbcachesize: 16777216|" \
            -e "/^dn: cn=Retro Changelog Plugin,cn=plugins,cn=config\$/,/^\$/ s|^nsslapd-pluginenabled: off|nsslapd-pluginenabled: on\nnsslapd-attribute: nsuniqueid:targetUniqueId\nnsslapd-changelogmaxage: 2d|" \
            -e "/^dn: cn=Content Synchronization,cn=plugins,cn=config\$/,/^\$/ s|^nsslapd-pluginenabled: off|nsslapd-pluginenabled: on|" \
            "$TEMPLATE"
        # The template ends with an empty line; do NOT emit a second one
        # (a double blank line makes ns-slapd reject dse.ldif: "Entry has no dn").
        cat <<LDIF
dn: cn=entryuuid,cn=plugins,cn=config
objectclass: top
objectclass: nsSlapdPlugin
cn: entryuuid
nsslapd-pluginpath: libentryuuid-plugin
nsslapd-plugininitfunc: entryuuid_plugin_init
nsslapd-plugintype: betxnpreoperation
nsslapd-pluginenabled: on
nsslapd-pluginId: entryuuid
nsslapd-pluginVersion: none
nsslapd-pluginVendor: 389 Project
nsslapd-pluginDescription: entryuuid

dn: cn=entryUUID,cn=default indexes,cn=config,cn=ldbm database,cn=plugins,cn=config
objectclass: top
objectclass: nsIndex
cn: entryUUID
nssystemindex: false
nsindextype: eq
nsindextype: pres

dn: cn=userRoot,cn=ldbm database,cn=plugins,cn=config
objectclass: top
objectclass: extensibleObject
objectclass: nsBackendInstance
cn: userRoot
nsslapd-suffix: $SUFFIX
nsslapd-directory: $DIR/db/userRoot
nsslapd-cachememsize: 10485760
nsslapd-dncachememsize: 10485760

dn: cn="$SUFFIX",cn=mapping tree,cn=config
objectclass: top
objectclass: extensibleObject
objectclass: nsMappingTree
cn: $SUFFIX
cn: "$SUFFIX"
nsslapd-state: backend
nsslapd-backend: userRoot

LDIF
    } > "$CONF/dse.ldif"
    if grep -n '%[a-z_]*%' "$CONF/dse.ldif" >&2; then die "unsubstituted template token in dse.ldif"; fi
    echo "start-389ds: created instance files in $DIR (db=$DBLIB)" >&2
fi

if [ "$PREPARE_ONLY" = 1 ]; then
    echo "start-389ds: prepared; start with: NOTIFY_SOCKET=$DIR/run/notify.sock $NS_SLAPD -D $CONF -i $PIDFILE" >&2
    exit 0
fi

# A stale pid file survives a SIGTERM/SIGKILL stop; never trust it.
rm -f "$PIDFILE"

# With NOTIFY_SOCKET set (as systemd's Type=notify does) ns-slapd does NOT
# fork/daemonize, so $! is the server PID right away; we background it
# ourselves. The socket path need not exist (sd_notify just fails silently).
# Do NOT use "-d 0" for this: it sets the error-log level to 0 and the
# errors log stays empty.
NOTIFY_SOCKET="$DIR/run/notify.sock" nohup "$NS_SLAPD" -D "$CONF" -i "$PIDFILE" \
    >>"$DIR/log/ns-slapd.out" 2>&1 </dev/null &
PID=$!

deadline=$(( $(date +%s) + TIMEOUT ))
until ldapsearch -x -H "$LDAPURI" -o nettimeout=2 -b "" -s base vendorName >/dev/null 2>&1; do
    if ! kill -0 "$PID" 2>/dev/null; then
        echo "start-389ds: ns-slapd exited during startup; tail of $DIR/log/errors:" >&2
        tail -n 25 "$DIR/log/errors" >&2 2>/dev/null || true
        exit 1
    fi
    if [ "$(date +%s)" -ge "$deadline" ]; then
        echo "start-389ds: not ready after ${TIMEOUT}s, killing $PID" >&2
        kill -TERM "$PID" 2>/dev/null || true
        tail -n 25 "$DIR/log/errors" >&2 2>/dev/null || true
        exit 1
    fi
    sleep 0.1
done
# -i writes the pid file itself once started; make sure it's there for stop-389ds.sh.
[ -s "$PIDFILE" ] || echo "$PID" > "$PIDFILE"

if [ "$CREATE_SUFFIX" = 1 ] && [ ! -e "$DIR/.suffix-created" ]; then
    rdn=${SUFFIX%%,*}; rdnattr=${rdn%%=*}; rdnval=${rdn#*=}
    case "${rdnattr,,}" in
        dc) oc="objectClass: domain" ;;
        o)  oc="objectClass: organization" ;;
        ou) oc="objectClass: organizationalUnit" ;;
        cn) oc="objectClass: nsContainer" ;;
        *)  die "unsupported suffix RDN attribute '$rdnattr' (use dc/o/ou/cn or DS_CREATE_SUFFIX=0)" ;;
    esac
    aci=""
    if [ "$READ_ACI" = 1 ]; then
        aci='aci: (targetattr!="userPassword")(version 3.0; acl "test: bound users read all"; allow (read,search,compare) userdn="ldap:///all";)'
    fi
    ldapadd -x -H "$LDAPURI" -D "$ROOTDN" -w "$PW" >/dev/null <<LDIF
dn: $SUFFIX
objectClass: top
$oc
$rdnattr: $rdnval
$aci
LDIF
    if [ "$READ_ACI" = 1 ]; then
        ldapmodify -x -H "$LDAPURI" -D "$ROOTDN" -w "$PW" >/dev/null <<'LDIF'
dn: cn=changelog
changetype: modify
add: aci
aci: (targetattr="*")(version 3.0; acl "test: bound users read changelog"; allow (read,search,compare) userdn="ldap:///all";)
LDIF
    fi
    touch "$DIR/.suffix-created"
fi

echo "start-389ds: ready on $LDAPURI (rootdn '$ROOTDN', suffix $SUFFIX, dir $DIR)" >&2
echo "$PID"
