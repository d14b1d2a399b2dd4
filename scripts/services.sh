#!/usr/bin/env bash
# Services the Floyo DR test suite needs, all private to this checkout:
#   - PostgreSQL 15 cluster "primary"   on 127.0.0.1:${FLOYO_PG_PORT:-55432}
#   - PostgreSQL 15 cluster "alternate" on 127.0.0.1:${FLOYO_PG2_PORT:-55433}
#     (plays a brand-new empty restore target; same superuser and password)
#   - Azurite (blob/queue/table) on 127.0.0.1:${FLOYO_BLOB_PORT:-10000}/${FLOYO_QUEUE_PORT:-10001}/${FLOYO_TABLE_PORT:-10002}
#
# Usage:
#   scripts/services.sh start           start everything (idempotent: reuses what already runs)
#   scripts/services.sh stop            stop both clusters and Azurite (data is kept)
#   scripts/services.sh status          show what is running
#   scripts/services.sh env             print `export ...` lines:  eval "$(scripts/services.sh env)"
#   scripts/services.sh azurite-stop    stop Azurite only (tests use this to simulate a storage outage)
#   scripts/services.sh azurite-start   start Azurite only (blobs written before the stop are still there)
#   scripts/services.sh pg2-reset       wipe and re-create the "alternate" cluster (brand-new empty server)
#   source scripts/services.sh [start]  export the FLOYO_TEST_* variables into the current shell
#
# Layout (all ignored by git via /.tmp/ and /.tools/):
#   .tmp/pg/password            superuser password (mode 600), generated once; also the password of
#                               floyo_ns_admin, the non-superuser admin created on both clusters
#   .tmp/pg/{primary,alternate} data directories (owned by postgres when run as root)
#   .tmp/pg/run                 unix sockets (mode 700; local socket auth is trust, TCP is scram)
#   .tmp/pg/log/<name>.log      server logs
#   .tmp/azurite/               Azurite data (persisted, so a stop/start keeps blobs)
#   .tmp/azurite.pid/.log       Azurite process id and log
#   .tools/azurite/             npm-installed azurite (no global install)
# If the postgres user cannot reach .tmp/pg (e.g. checkout under a 0700 home directory) or the
# unix socket path would exceed the kernel's ~107 byte limit, the PostgreSQL part moves to
# /tmp/floyo-pg-<hash of repo path> instead (the password file stays in .tmp/pg).
# FLOYO_PG_BASE overrides that directory explicitly.

# ---- sourced: never touch the caller's shell options; run in a child bash and import its env.
if [[ "${BASH_SOURCE[0]}" != "$0" ]]; then
  __floyo_svc="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")"
  if [[ "${1:-}" == start ]]; then
    bash "$__floyo_svc" start >&2 || { unset __floyo_svc; return 1; }
  fi
  __floyo_env="$(bash "$__floyo_svc" env)" || { unset __floyo_svc __floyo_env; return 1; }
  eval "$__floyo_env"
  unset __floyo_svc __floyo_env
  return 0
fi

set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
SELF="$REPO/scripts/services.sh"
TMP="$REPO/.tmp"

PG_PORT="${FLOYO_PG_PORT:-55432}"
PG2_PORT="${FLOYO_PG2_PORT:-55433}"
PG_USER=floyo_admin
# A NOSUPERUSER admin like the one managed services hand out (Azure Database for PostgreSQL flexible
# server: LOGIN NOSUPERUSER INHERIT CREATEDB CREATEROLE REPLICATION, member of azure_pg_admin, which
# holds pg_monitor and pg_signal_backend). NS_GROUP plays azure_pg_admin. Same password as PG_USER.
NS_USER=floyo_ns_admin
NS_GROUP=floyo_managed_admin
PG_MAJOR=15
PG_BIN="${FLOYO_PG_BIN:-/usr/lib/postgresql/$PG_MAJOR/bin}"
PW_FILE="$TMP/pg/password"

BLOB_PORT="${FLOYO_BLOB_PORT:-10000}"
QUEUE_PORT="${FLOYO_QUEUE_PORT:-10001}"
TABLE_PORT="${FLOYO_TABLE_PORT:-10002}"
AZURITE_VERSION=3.37.0
AZ_TOOL="$REPO/.tools/azurite"
AZ_JS="$AZ_TOOL/node_modules/azurite/dist/src/azurite.js"
AZ_DATA="$TMP/azurite"
AZ_PIDFILE="$TMP/azurite.pid"
AZ_LOG="$TMP/azurite.log"
# Well-known Azurite development account (public, documented by Microsoft; not a secret).
AZ_ACCOUNT=devstoreaccount1
AZ_KEY='Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='

log() { printf 'services: %s\n' "$*" >&2; }
die() { printf 'services: ERROR: %s\n' "$*" >&2; exit 1; }

is_root() { [[ $EUID -eq 0 ]]; }

# $1 is a live (not zombie/dead) process named $2. Zombies matter: in containers whose pid 1
# does not reap, a killed postmaster stays <defunct> and would otherwise look alive.
proc_is() {
  [[ "$(cat "/proc/$1/comm" 2>/dev/null)" == "$2" ]] || return 1
  grep -q '^State:[[:space:]]*[^ZX[:space:]]' "/proc/$1/status" 2>/dev/null
}

# Port answers a TCP connect on 127.0.0.1 (pure bash, no curl/nc needed).
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Serialise concurrent invocations (e.g. test.sh and a developer both running `start`).
# Every long-lived child is launched with `9>&-` so it does not inherit (and hold) the lock.
take_lock() {
  mkdir -p "$TMP"
  exec 9>"$TMP/.services.lock"
  flock -w 120 9 || die "timed out waiting for $TMP/.services.lock"
}

apt_install() {
  is_root || die "need to install: $* — run as root or install them yourself (apt-get install -y $*)"
  command -v apt-get >/dev/null || die "need to install: $* — no apt-get on this machine"
  log "INSTALLING with apt-get: $*"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq "$@" >&2
}

# ---------------------------------------------------------------- PostgreSQL

ensure_pg_binaries() {
  [[ -x "$PG_BIN/postgres" && -x "$PG_BIN/initdb" && -x "$PG_BIN/pg_ctl" ]] && return 0
  # Fresh machine: the Debian package brings server + client binaries under /usr/lib/postgresql/15/bin.
  apt_install "postgresql-$PG_MAJOR" "postgresql-client-$PG_MAJOR"
  [[ -x "$PG_BIN/postgres" ]] || die "PostgreSQL $PG_MAJOR server binaries still missing in $PG_BIN"
}

# The server refuses to run as root, so when we are root everything server-side runs as `postgres`.
# `cd /` avoids "could not change directory" noise when our cwd is unreadable for postgres.
as_pg() {
  if is_root; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

own_pg() { if is_root; then chown postgres:postgres "$@"; fi; }

password() {
  if [[ ! -s "$PW_FILE" ]]; then
    mkdir -p "$(dirname "$PW_FILE")"
    # Local throw-away test password; hex so it is safe inside a URL and a conninfo string.
    (umask 077 && od -An -N16 -tx1 /dev/urandom | tr -d ' \n' >"$PW_FILE")
  fi
  chmod 600 "$PW_FILE"
  cat "$PW_FILE"
}

# Where the PostgreSQL data/sockets/logs live (see header comment).
pg_base() {
  if [[ -n "${FLOYO_PG_BASE:-}" ]]; then printf '%s\n' "$FLOYO_PG_BASE"; return; fi
  local base="$TMP/pg" sock
  sock="$base/run/.s.PGSQL.$(( PG_PORT > PG2_PORT ? PG_PORT : PG2_PORT )).lock"
  mkdir -p "$base"
  if is_root; then chmod 755 "$TMP" "$base"; fi
  if (( ${#sock} > 100 )) || { is_root && ! runuser -u postgres -- test -x "$base" 2>/dev/null; }; then
    base="/tmp/floyo-pg-$(printf '%s' "$REPO" | sha256sum | cut -c1-12)"
  fi
  printf '%s\n' "$base"
}

# pid of the postmaster serving data dir $1, if it is really running (survives reboots:
# a stale postmaster.pid whose pid now belongs to another process is not trusted).
pg_pid() {
  local dd=$1 pid
  [[ -r "$dd/postmaster.pid" ]] || return 1
  pid="$(head -n1 "$dd/postmaster.pid" 2>/dev/null)"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  proc_is "$pid" postgres || return 1
  # The postmaster chdirs into its data directory.
  [[ "$(readlink "/proc/$pid/cwd" 2>/dev/null)" == "$(readlink -f "$dd")" ]] || return 1
  printf '%s\n' "$pid"
}

pg_running_port() { sed -n 4p "$1/postmaster.pid" 2>/dev/null; }

pg_init() {
  local name=$1 base=$2 dd="$2/$1" pw
  [[ -s "$dd/PG_VERSION" ]] && return 0
  if [[ -d "$dd" ]] && [[ -n "$(ls -A "$dd")" ]]; then
    log "$name: removing half-initialised data directory $dd"
    rm -rf "$dd"
  fi
  log "$name: initdb $dd (superuser $PG_USER)"
  mkdir -p "$dd"; chmod 700 "$dd"; own_pg "$dd"
  pw="$(password)"
  # initdb runs as postgres and must read the password: hand it over in a postgres-owned 600 file.
  local pwtmp="$base/run/.initdb-pw.$$"
  (umask 077 && printf '%s\n' "$pw" >"$pwtmp"); own_pg "$pwtmp"
  if ! as_pg "$PG_BIN/initdb" -D "$dd" -U "$PG_USER" --pwfile="$pwtmp" \
        --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 \
        --no-instructions >"$base/log/$name.initdb.log" 2>&1; then
    rm -f "$pwtmp"; cat "$base/log/$name.initdb.log" >&2; die "$name: initdb failed"
  fi
  rm -f "$pwtmp"
  printf "\n# Floyo test settings (regenerated by scripts/services.sh on every start)\ninclude_if_exists = 'floyo.conf'\n" \
    >>"$dd/postgresql.conf"
}

pg_write_conf() {
  local name=$1 base=$2 port=$3 dd="$2/$1"
  # Test-only tuning: durability off (fsync/full_page_writes/synchronous_commit) is fine for
  # throw-away clusters and makes restores much faster. TCP only on loopback, scram passwords.
  cat >"$dd/floyo.conf" <<EOF
cluster_name = 'floyo-$name'
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$base/run'
unix_socket_permissions = 0700
password_encryption = 'scram-sha-256'
max_connections = 100
shared_buffers = 128MB
fsync = off
synchronous_commit = off
full_page_writes = off
logging_collector = off
EOF
  own_pg "$dd/floyo.conf"
}

# Remove lock files a crash/reboot left behind (only when no live postmaster owns them).
pg_clean_stale() {
  local dd=$1 base=$2 port=$3 lock pid
  if [[ -e "$dd/postmaster.pid" ]]; then
    log "$(basename "$dd"): removing stale postmaster.pid"
    rm -f "$dd/postmaster.pid"
  fi
  lock="$base/run/.s.PGSQL.$port.lock"
  if [[ -e "$lock" ]]; then
    pid="$(head -n1 "$lock" 2>/dev/null || true)"
    if ! [[ "$pid" =~ ^[0-9]+$ ]] || ! proc_is "$pid" postgres; then
      rm -f "$lock" "$base/run/.s.PGSQL.$port"
    fi
  fi
}

pg_psql_local() { # name base port sql — via the unix socket (trust), bypasses the password
  "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$2/run" -p "$3" -U "$PG_USER" -d postgres -c "$4"
}

pg_start_one() {
  local name=$1 port=$2 base dd pid pw
  base="$(pg_base)"; dd="$base/$name"
  mkdir -p "$base/run" "$base/log"
  chmod 700 "$base/run"; own_pg "$base/run" "$base/log"
  pg_init "$name" "$base"

  if pid="$(pg_pid "$dd")"; then
    if [[ "$(pg_running_port "$dd")" == "$port" ]]; then
      log "$name: already running (pid $pid, port $port) - reusing"
    else
      log "$name: running on port $(pg_running_port "$dd"), wanted $port - restarting"
      as_pg "$PG_BIN/pg_ctl" -D "$dd" -m fast -w -t 60 -s stop
      pid=""
    fi
  fi
  if [[ -z "${pid:-}" ]] || ! pg_pid "$dd" >/dev/null; then
    pg_clean_stale "$dd" "$base" "$port"
    port_open "$port" && die "$name: port $port is already used by another process (set FLOYO_PG$([[ $name == alternate ]] && echo 2)_PORT)"
    pg_write_conf "$name" "$base" "$port"
    log "$name: starting on 127.0.0.1:$port (log $base/log/$name.log)"
    if ! as_pg "$PG_BIN/pg_ctl" -D "$dd" -l "$base/log/$name.log" -w -t 60 -s start 9>&-; then
      tail -n 30 "$base/log/$name.log" >&2 || true
      die "$name: pg_ctl start failed"
    fi
  fi

  # Make sure the password in .tmp/pg/password works over TCP (it may have been deleted/regenerated).
  pw="$(password)"
  if ! PGPASSWORD="$pw" PGCONNECT_TIMEOUT=5 "$PG_BIN/psql" -X -q -t -A \
        "host=127.0.0.1 port=$port user=$PG_USER dbname=postgres" -c 'select 1' >/dev/null 2>&1; then
    log "$name: resetting $PG_USER password to the one in $PW_FILE"
    pg_psql_local "$name" "$base" "$port" "ALTER ROLE $PG_USER PASSWORD '$pw'"
  fi
  pg_ensure_ns_admin "$name" "$base" "$port"
}

# The managed-service admin (idempotent): created by the superuser with what the provider grants, then
# it grants itself pg_read_all_data (a PostgreSQL 15 CREATEROLE role may grant any non-superuser role),
# as an operator would on a managed server so that pg_dump can read every table.
pg_ensure_ns_admin() {
  local name=$1 base=$2 port=$3 pw
  pw="$(password)"
  pg_psql_local "$name" "$base" "$port" "SET client_min_messages = warning;
    DO \$\$ BEGIN
      IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$NS_GROUP') THEN CREATE ROLE $NS_GROUP NOLOGIN; END IF;
      IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$NS_USER') THEN CREATE ROLE $NS_USER LOGIN; END IF;
    END \$\$;
    ALTER ROLE $NS_USER LOGIN NOSUPERUSER INHERIT CREATEDB CREATEROLE REPLICATION NOBYPASSRLS PASSWORD '$pw';
    GRANT pg_monitor, pg_signal_backend TO $NS_GROUP;
    GRANT $NS_GROUP TO $NS_USER;" >/dev/null
  PGPASSWORD="$pw" PGCONNECT_TIMEOUT=5 "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 \
    "host=127.0.0.1 port=$port user=$NS_USER dbname=postgres" \
    -c "SET client_min_messages = warning; GRANT pg_read_all_data TO $NS_USER" >/dev/null \
    || die "$name: $NS_USER could not grant itself pg_read_all_data"
}

pg_stop_one() {
  local name=$1 base dd pid
  base="$(pg_base)"; dd="$base/$name"
  if pid="$(pg_pid "$dd")"; then
    log "$name: stopping (pid $pid)"
    as_pg "$PG_BIN/pg_ctl" -D "$dd" -m fast -w -t 60 -s stop
  else
    log "$name: not running"
  fi
}

pg2_reset() {
  local base
  base="$(pg_base)"
  pg_stop_one alternate
  log "alternate: wiping $base/alternate"
  rm -rf "$base/alternate"
  pg_start_one alternate "$PG2_PORT"
}

# ---------------------------------------------------------------- Azurite

ensure_node() {
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    # Debian 12's nodejs is v18; azurite 3.37 declares node>=22 but is known to run on node 20.
    apt_install nodejs npm
  fi
}

ensure_azurite() {
  ensure_node
  if [[ -f "$AZ_JS" ]] && grep -q "\"version\": \"$AZURITE_VERSION\"" "$AZ_TOOL/node_modules/azurite/package.json" 2>/dev/null; then
    return 0
  fi
  log "installing azurite@$AZURITE_VERSION into $AZ_TOOL (npm, local prefix)"
  mkdir -p "$AZ_TOOL"
  # --loglevel=error hides the EBADENGINE warnings (azurite declares node>=22; it runs fine on 20).
  npm install --prefix "$AZ_TOOL" --no-audit --no-fund --loglevel=error "azurite@$AZURITE_VERSION" >&2 \
    || die "npm install azurite@$AZURITE_VERSION failed"
  [[ -f "$AZ_JS" ]] || die "azurite entry point missing after install: $AZ_JS"
}

# pid of our Azurite, if it really runs (a stale pid file after a reboot is ignored).
az_pid() {
  local pid
  [[ -r "$AZ_PIDFILE" ]] || return 1
  pid="$(cat "$AZ_PIDFILE" 2>/dev/null)"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  proc_is "$pid" node || return 1
  tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -q "azurite" || return 1
  printf '%s\n' "$pid"
}

az_all_ports_open() { port_open "$BLOB_PORT" && port_open "$QUEUE_PORT" && port_open "$TABLE_PORT"; }

azurite_start() {
  local pid i
  if pid="$(az_pid)"; then
    for ((i = 0; i < 300; i++)); do az_all_ports_open && break; sleep 0.2; done
    az_all_ports_open || die "azurite (pid $pid) runs but ports $BLOB_PORT/$QUEUE_PORT/$TABLE_PORT do not answer; see $AZ_LOG"
    log "azurite: already running (pid $pid) - reusing"
    return 0
  fi
  rm -f "$AZ_PIDFILE"
  for p in "$BLOB_PORT" "$QUEUE_PORT" "$TABLE_PORT"; do
    port_open "$p" && die "azurite: port $p is already used by another process (not ours: no live pid in $AZ_PIDFILE)"
  done
  ensure_azurite
  mkdir -p "$AZ_DATA"
  log "azurite: starting blob:$BLOB_PORT queue:$QUEUE_PORT table:$TABLE_PORT (log $AZ_LOG)"
  # setsid: own session, so a Ctrl-C in the terminal running the tests does not kill it.
  # The inner bash records its own pid and then execs node, so the pid file is node's pid.
  # --skipApiVersionCheck: newer Azure SDKs send API versions Azurite does not know yet.
  # --disableTelemetry: no outbound calls and no /tmp/Microsoft-AzureMonitor-* spool dirs.
  # shellcheck disable=SC2016 # $$ and $@ are meant for the inner bash
  setsid bash -c 'echo $$ >"$0"; exec "$@"' "$AZ_PIDFILE" \
    node "$AZ_JS" --silent --skipApiVersionCheck --disableTelemetry --location "$AZ_DATA" \
    --blobHost 127.0.0.1 --blobPort "$BLOB_PORT" \
    --queueHost 127.0.0.1 --queuePort "$QUEUE_PORT" \
    --tableHost 127.0.0.1 --tablePort "$TABLE_PORT" \
    </dev/null >>"$AZ_LOG" 2>&1 9>&- &
  for ((i = 0; i < 300; i++)); do
    if pid="$(az_pid)" && az_all_ports_open; then
      log "azurite: up (pid $pid)"
      return 0
    fi
    if (( i > 10 )) && ! az_pid >/dev/null; then break; fi
    sleep 0.2
  done
  tail -n 30 "$AZ_LOG" >&2 || true
  die "azurite did not come up"
}

azurite_stop() {
  local pid i
  if ! pid="$(az_pid)"; then
    rm -f "$AZ_PIDFILE"
    log "azurite: not running"
    return 0
  fi
  log "azurite: stopping (pid $pid)"
  # SIGTERM lets Azurite flush its metadata DB, so blobs survive a restart; SIGKILL after 15 s.
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 150; i++)); do [[ -d "/proc/$pid" ]] || break; sleep 0.1; done
  if [[ -d "/proc/$pid" ]]; then
    log "azurite: did not exit after SIGTERM, sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do [[ -d "/proc/$pid" ]] || break; sleep 0.1; done
  fi
  rm -f "$AZ_PIDFILE"
  for ((i = 0; i < 50; i++)); do
    port_open "$BLOB_PORT" || port_open "$QUEUE_PORT" || port_open "$TABLE_PORT" || return 0
    sleep 0.1
  done
  die "azurite stopped but a port still answers"
}

# ---------------------------------------------------------------- env / status

print_env() {
  local pw azpid
  pw="$(password)"
  azpid="$(az_pid || true)"
  local blob="http://127.0.0.1:$BLOB_PORT/$AZ_ACCOUNT"
  local queue="http://127.0.0.1:$QUEUE_PORT/$AZ_ACCOUNT"
  local table="http://127.0.0.1:$TABLE_PORT/$AZ_ACCOUNT"
  cat <<EOF
export FLOYO_TEST_PG_URL='postgresql://$PG_USER:$pw@127.0.0.1:$PG_PORT/postgres'
export FLOYO_TEST_PG2_URL='postgresql://$PG_USER:$pw@127.0.0.1:$PG2_PORT/postgres'
export FLOYO_TEST_PG_NS_URL='postgresql://$NS_USER:$pw@127.0.0.1:$PG_PORT/postgres'
export FLOYO_TEST_PG2_NS_URL='postgresql://$NS_USER:$pw@127.0.0.1:$PG2_PORT/postgres'
export FLOYO_TEST_BLOB_CONNECTION='DefaultEndpointsProtocol=http;AccountName=$AZ_ACCOUNT;AccountKey=$AZ_KEY;BlobEndpoint=$blob;QueueEndpoint=$queue;TableEndpoint=$table;'
export FLOYO_AZURITE_PID='$azpid'
export FLOYO_SERVICES_SCRIPT='$SELF'
export FLOYO_PG_BIN='$PG_BIN'
EOF
}

status() {
  local base name dd pid
  base="$(pg_base)"
  for name in primary alternate; do
    dd="$base/$name"
    if pid="$(pg_pid "$dd")"; then
      echo "$name: running pid $pid port $(pg_running_port "$dd") data $dd"
    else
      echo "$name: stopped (data $dd)"
    fi
  done
  if pid="$(az_pid)"; then
    echo "azurite: running pid $pid ports $BLOB_PORT/$QUEUE_PORT/$TABLE_PORT data $AZ_DATA"
  else
    echo "azurite: stopped"
  fi
}

usage() {
  sed -n '2,/^$/p' "$SELF" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

main() {
  local cmd="${1:-}"
  case "$cmd" in
    start)
      take_lock
      ensure_pg_binaries
      pg_start_one primary "$PG_PORT"
      pg_start_one alternate "$PG2_PORT"
      azurite_start
      ;;
    stop)
      take_lock
      azurite_stop
      if [[ -x "$PG_BIN/pg_ctl" ]]; then pg_stop_one primary; pg_stop_one alternate; fi
      ;;
    status) status ;;
    env) print_env ;;
    azurite-start) take_lock; azurite_start ;;
    azurite-stop) take_lock; azurite_stop ;;
    pg2-reset) take_lock; ensure_pg_binaries; pg2_reset ;;
    -h | --help | help) usage ;;
    *) usage ;;
  esac
}

main "$@"
