#!/usr/bin/env bash
# Floyo DR continuous-archiving benchmark: floyo-dr against pgBackRest (Debian's package) on the same
# cluster, data and machine, in one run (issue 13's targets).
#
# Usage: scripts/bench-wal.sh            (as root: the cluster runs as the postgres OS user)
#
# Environment knobs:
#   BENCH_EVENTS / BENCH_USERS   rows of the data set (default 3000000 / 100000, ~770 MB, as scripts/bench.sh)
#   BENCH_PGBENCH_SECONDS        length of each pgbench window (default 60)
#   BENCH_PGBENCH_CLIENTS        pgbench clients (default 8, with 2 threads)
#   BENCH_BACKLOG                segments piled up before the asynchronous catch-up (default 16)
#   BENCH_FLOYO_BIN              a published floyo-dr to use instead of publishing one
#   BENCH_ROOT                   where the cluster and repositories live (default /tmp/floyo-bench-wal; removed first)
#   BENCH_BASE_DIRECT            1 (default): floyo-dr's base backup reads the data directory (BASE_BACKUP_DATA_DIR);
#                                0: pg_basebackup with server-side compression
#
# What runs, on one private cluster (archive_mode = on, archive_timeout = 60):
#   1. archiving: a pgbench window archived by pgBackRest alone (archive-push, synchronous), then one by
#      floyo-dr alone (wal push): milliseconds per segment, and the worst archive lag (segments closed
#      but not yet archived, sampled every second);
#   1b. a backlog: BENCH_BACKLOG segments pile up while archive_command fails (the store was down), then
#      each archiver catches up asynchronously: pgBackRest with archive-async (process-max 2) and floyo-dr's
#      floyo-wal-push wrapper (wal push --batch, WAL_PUSH_PARALLELISM 2): wall time per segment;
#   2. base backups (both archivers on): `floyo-dr backup --base` vs `pgbackrest backup --type=full`
#      (zstd level 3, process-max 2): wall time, size and CPU seconds (each tool's user+sys plus the server
#      processes it caused, from the postmaster's reaped-children time). floyo-dr reads the data directory
#      itself (BASE_BACKUP_DATA_DIR), as pgBackRest does through pg1-path: like for like;
#      BENCH_BASE_DIRECT=0 takes it with pg_basebackup (server-side zstd) instead;
#   3. point-in-time recovery to a moment inside a third pgbench window: `floyo-dr restore --pitr
#      --start` vs `pgbackrest restore --type=time` + start + wait for promotion: wall time, and both
#      copies must hold the row written just before the target and not the one written after it.
# Output: a table on stdout and .tmp/bench-wal/result.json. Exit 0 when every number was measured
# (targets missed are reported, not failed), 1 when something could not be measured, 2 for setup errors.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
OUT="$REPO/.tmp/bench-wal"
CLI_DIR="$OUT/cli"
# The cluster, both repositories and the recovered copies live where the postgres user owns them.
ROOT="${BENCH_ROOT:-/tmp/floyo-bench-wal}"
PG_BIN=/usr/lib/postgresql/15/bin
EVENTS="${BENCH_EVENTS:-3000000}"
USERS="${BENCH_USERS:-100000}"
WINDOW="${BENCH_PGBENCH_SECONDS:-60}"
CLIENTS="${BENCH_PGBENCH_CLIENTS:-8}"
BACKLOG="${BENCH_BACKLOG:-16}"
BASE_DIRECT="${BENCH_BASE_DIRECT:-1}"

# Targets (ratios are floyo / pgBackRest).
T_BASE_RATIO=0.5
T_BASE_SIZE=1.0
T_PUSH_RATIO=1.0
T_LAG_SEGMENTS=1
T_PITR_RATIO=1.0

log() { printf '[bench-wal %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { local code=$1; shift; log "ERROR: $*"; exit "$code"; }
[[ $(id -u) == 0 ]] || die 2 "run as root (the cluster and both archivers run as the postgres OS user)"
while read -r v; do unset "$v"; done < <(compgen -e | grep -E '^(BACKUP_|PG)' || true)

for pkg in pgbackrest time; do
  if ! command -v "$pkg" >/dev/null 2>&1 && [[ ! -x /usr/bin/$pkg ]]; then
    log "installing Debian package $pkg"
    { apt-get install -y -q "$pkg" >/dev/null 2>&1 ||
      { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q "$pkg" >/dev/null 2>&1; }; } ||
      die 2 "cannot install $pkg (apt-get install $pkg)"
  fi
done
[[ -x $PG_BIN/initdb ]] || die 2 "PostgreSQL 15 server binaries not found in $PG_BIN (scripts/services.sh installs them)"

as_pg() { runuser -u postgres -- "$@"; }
now_s() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now_s)" 'BEGIN { printf "%.2f", b - a }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "null" }'; }
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

stop_all() {
  for d in "$ROOT"/data "$ROOT"/pitr-*; do
    [[ -f $d/postmaster.pid ]] && as_pg "$PG_BIN/pg_ctl" -D "$d" -m immediate -w stop >/dev/null 2>&1 || true
  done
}
trap stop_all EXIT
stop_all
rm -rf "$ROOT" "$OUT/run"
mkdir -p "$OUT/run" "$ROOT"/{data,store,pgbr-repo,pgbr-log,pgbr-lock,pgbr-spool,run}
chown -R postgres:postgres "$ROOT"
chmod 700 "$ROOT"/data "$ROOT"/store

# --------------------------------------------------------------- floyo-dr ----
if [[ -n "${BENCH_FLOYO_BIN:-}" ]]; then
  FLOYO_BIN="$BENCH_FLOYO_BIN"
else
  log "publishing floyo-dr (Release, ReadyToRun, as shipped)"
  dotnet publish src/Floyo.Cli -c Release -r linux-x64 --self-contained false -o "$CLI_DIR" -nologo >"$OUT/run/publish.log" 2>&1 ||
    { tail -n 30 "$OUT/run/publish.log" >&2; die 1 "dotnet publish src/Floyo.Cli failed"; }
  FLOYO_BIN="$CLI_DIR/floyo-dr"
fi
[[ -x $FLOYO_BIN ]] || die 1 "$FLOYO_BIN is not executable"

PORT=$(free_port)
URL="postgresql://postgres@127.0.0.1:$PORT/postgres"
cat >"$ROOT/floyo-dr.sh" <<EOF
#!/bin/sh
BACKUP_STORE=filesystem BACKUP_DIR='$ROOT/store' DATABASE_URL='$URL' FLOYO_DR_COMMAND='$ROOT/floyo-dr.sh' DOTNET_NOLOGO=1 exec '$FLOYO_BIN' "\$@"
EOF
cat >"$ROOT/pgbackrest.conf" <<EOF
[global]
repo1-path=$ROOT/pgbr-repo
repo1-retention-full=10
compress-type=zst
compress-level=3
process-max=2
start-fast=y
archive-async=n
log-level-console=warn
log-level-file=off
log-path=$ROOT/pgbr-log
lock-path=$ROOT/pgbr-lock
spool-path=$ROOT/pgbr-spool

[bench]
pg1-path=$ROOT/data
pg1-port=$PORT
pg1-socket-path=$ROOT/run
EOF
# One archive_command for the whole run; the mode file says who archives (pgBackRest insists that
# archive_command names it, hence the file name). Each push's milliseconds go to push-times.log.
cat >"$ROOT/archive-floyo-pgbackrest.sh" <<EOF
#!/bin/bash
p="\$1"; f="\${p##*/}"; mode=\$(cat '$ROOT/mode')
ms() { echo \$(( (\$(date +%s%N) - \$1) / 1000000 )); }
if [[ \$mode == floyo || \$mode == both ]]; then
  t=\$(date +%s%N); '$ROOT/floyo-dr.sh' wal push "\$p" || exit 1; echo "floyo \$f \$(ms \$t)" >>'$ROOT/push-times.log'
fi
if [[ \$mode == fail ]]; then exit 1; fi
if [[ \$mode == floyo-batch ]]; then
  FLOYO_DR_COMMAND='$ROOT/floyo-dr.sh' exec '$(dirname "$FLOYO_BIN")/floyo-wal-push' "\$p"
fi
if [[ \$mode == pgbackrest-async ]]; then
  exec pgbackrest --config='$ROOT/pgbackrest.conf' --stanza=bench --archive-async archive-push "\$p"
fi
if [[ \$mode == pgbackrest || \$mode == both ]]; then
  t=\$(date +%s%N); pgbackrest --config='$ROOT/pgbackrest.conf' --stanza=bench archive-push "\$p" || exit 1
  echo "pgbackrest \$f \$(ms \$t)" >>'$ROOT/push-times.log'
fi
EOF
chmod 755 "$ROOT/floyo-dr.sh" "$ROOT/archive-floyo-pgbackrest.sh"
echo none >"$ROOT/mode"
chown postgres:postgres "$ROOT"/*.sh "$ROOT/pgbackrest.conf" "$ROOT/mode"

# ---------------------------------------------------------------- cluster ----
log "creating a private PostgreSQL 15 cluster on port $PORT"
as_pg "$PG_BIN/initdb" -D "$ROOT/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 --no-instructions >"$OUT/run/initdb.log" 2>&1 ||
  die 2 "initdb failed (see $OUT/run/initdb.log)"
cat >>"$ROOT/data/postgresql.auto.conf" <<EOF
port = $PORT
listen_addresses = '127.0.0.1'
unix_socket_directories = '$ROOT/run'
wal_level = replica
max_wal_senders = 4
archive_mode = on
archive_command = '$ROOT/archive-floyo-pgbackrest.sh %p'
archive_timeout = 60
max_wal_size = 4GB
shared_buffers = 512MB
EOF
as_pg "$PG_BIN/pg_ctl" -D "$ROOT/data" -l "$ROOT/run/server.log" -w start >/dev/null || die 2 "the cluster did not start"
psql_q() { psql -X -Atq -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "${2:-$PORT}" -U postgres -d "${3:-floyo_bench}" -c "$1"; }
as_pg pgbackrest --config="$ROOT/pgbackrest.conf" --stanza=bench stanza-create >"$OUT/run/stanza.log" 2>&1 ||
  { cat "$OUT/run/stanza.log" >&2; die 2 "pgbackrest stanza-create failed"; }

log "generating floyo_bench ($EVENTS events, $USERS users) and pgbench (scale 20)"
psql_q "CREATE DATABASE floyo_bench" "$PORT" postgres
psql -X -q -v ON_ERROR_STOP=1 -v events="$EVENTS" -v users="$USERS" -h 127.0.0.1 -p "$PORT" -U postgres -d floyo_bench \
  -f scripts/bench-data.sql >"$OUT/run/generate.log" 2>&1 || { tail -n 20 "$OUT/run/generate.log" >&2; die 2 "data generation failed"; }
psql_q "CREATE DATABASE pgb" "$PORT" postgres
pgbench -i -q -s 20 -h 127.0.0.1 -p "$PORT" -U postgres pgb >"$OUT/run/pgbench-init.log" 2>&1 || die 2 "pgbench -i failed"
psql_q "CREATE TABLE marks (name text PRIMARY KEY, at timestamptz NOT NULL DEFAULT clock_timestamp())"
DB_MB=$(psql_q "select (sum(pg_database_size(datname)) / 1048576)::bigint from pg_database")

segno() { local n=$1; echo $(( 16#${n:8:8} * 256 + 16#${n:16:8} )); }
wait_archived() { # switch to a new segment and wait until the closed one is archived
  local closed; closed=$(psql_q "select pg_walfile_name(pg_switch_wal())")
  for _ in $(seq 1 600); do
    [[ "$(psql_q "select coalesce(last_archived_wal, '') >= '$closed' from pg_stat_archiver")" == t ]] && return 0
    sleep 0.2
  done
  die 1 "segment $closed was not archived within 120 s (see $ROOT/run/server.log)"
}

# A pgbench window while the lag is sampled; sets MAX_LAG (segments closed, not archived) and TPS.
pgbench_window() {
  local seconds=$1 name=$2
  pgbench -c "$CLIENTS" -j 2 -T "$seconds" -h 127.0.0.1 -p "$PORT" -U postgres pgb >"$OUT/run/pgbench-$name.log" 2>&1 &
  local pid=$! max=0 line cur arc lag
  while kill -0 "$pid" 2>/dev/null; do
    line=$(psql_q "select pg_walfile_name(pg_current_wal_lsn()) || ' ' || coalesce(last_archived_wal, '') from pg_stat_archiver" 2>/dev/null || true)
    read -r cur arc <<<"$line"
    if [[ ${#cur} == 24 && ${#arc} == 24 ]]; then
      lag=$(( $(segno "$cur") - $(segno "$arc") - 1 ))
      (( lag > max )) && max=$lag
    fi
    sleep 1
  done
  wait "$pid" || die 1 "pgbench ($name) failed (see $OUT/run/pgbench-$name.log)"
  MAX_LAG=$max
  TPS=$(grep -oP 'tps = \K[0-9.]+' "$OUT/run/pgbench-$name.log" | head -1)
}
mean_push_ms() { awk -v who="$1" '$1 == who { s += $3; n++ } END { if (n) printf "%.0f %d\n", s / n, n; else print "null 0" }' "$ROOT/push-times.log"; }

# ------------------------------------------------------------- archiving ----
install -o postgres -g postgres -m 644 /dev/null "$ROOT/push-times.log"
echo pgbackrest >"$ROOT/mode"; wait_archived
log "archiving: pgbench ${WINDOW}s, pgBackRest archive-push alone"
pgbench_window "$WINDOW" pgbackrest; wait_archived
PGBR_LAG=$MAX_LAG; PGBR_TPS=$TPS
read -r PGBR_PUSH_MS PGBR_SEGMENTS < <(mean_push_ms pgbackrest)
echo floyo >"$ROOT/mode"; wait_archived
log "archiving: pgbench ${WINDOW}s, floyo-dr wal push alone"
pgbench_window "$WINDOW" floyo; wait_archived
FLOYO_LAG=$MAX_LAG; FLOYO_TPS=$TPS
read -r FLOYO_PUSH_MS FLOYO_SEGMENTS < <(mean_push_ms floyo)

# ------------------------------------------------------ archiving backlog ----
psql_q "CREATE TABLE filler (id int, pad text)"
# Piles up BACKLOG full segments while archive_command fails, then lets $1 archive them; sets BACKLOG_S
# (wall time from the switch until the newest of them is archived) and BACKLOG_SEGMENTS.
backlog_catch_up() {
  local mode=$1 first closed
  echo fail >"$ROOT/mode"
  first=$(psql_q "select pg_walfile_name(pg_current_wal_lsn())")
  for _ in $(seq 1 "$BACKLOG"); do
    psql_q "INSERT INTO filler SELECT g, md5(g::text) FROM generate_series(1, 150000) g" >/dev/null
    psql_q "TRUNCATE filler" >/dev/null
    closed=$(psql_q "select pg_walfile_name(pg_switch_wal())")
  done
  echo "$mode" >"$ROOT/mode"
  # A switch right after the last one closes nothing and wakes nobody; an archiver that had given up on the failing
  # file would then sleep until its 60 s timeout. One row makes the switch close a segment and wake it.
  psql_q "INSERT INTO filler VALUES (0, 'wake')" >/dev/null
  t0=$(now_s)
  closed=$(psql_q "select pg_walfile_name(pg_switch_wal())")   # also wakes the archiver up
  for _ in $(seq 1 1800); do
    [[ "$(psql_q "select coalesce(last_archived_wal, '') >= '$closed' from pg_stat_archiver")" == t ]] && break
    sleep 0.1
  done
  [[ "$(psql_q "select coalesce(last_archived_wal, '') >= '$closed' from pg_stat_archiver")" == t ]] ||
    die 1 "$mode did not catch up with the backlog within 180 s (see $ROOT/run/server.log)"
  BACKLOG_S=$(elapsed "$t0")
  BACKLOG_SEGMENTS=$(( $(segno "$closed") - $(segno "$first") + 1 ))
}
log "archiving backlog: $BACKLOG segments, pgBackRest archive-push --archive-async"
backlog_catch_up pgbackrest-async
PGBR_BACKLOG_MS=$(awk -v s="$BACKLOG_S" -v n="$BACKLOG_SEGMENTS" 'BEGIN { printf "%.0f", s * 1000 / n }')
log "archiving backlog: $BACKLOG segments, floyo-wal-push (wal push --batch)"
backlog_catch_up floyo-batch
FLOYO_BACKLOG_MS=$(awk -v s="$BACKLOG_S" -v n="$BACKLOG_SEGMENTS" 'BEGIN { printf "%.0f", s * 1000 / n }')
BACKLOG_N=$BACKLOG_SEGMENTS
psql_q "DROP TABLE filler"

# ---------------------------------------------------------- base backups ----
echo both >"$ROOT/mode"; wait_archived
psql_q "CHECKPOINT"
# CPU seconds of a base backup: the tool's own (user+sys, children included, from /usr/bin/time) plus the server
# processes it caused (backend, walsender), which the postmaster has reaped by the time it is over.
POSTMASTER=$(head -1 "$ROOT/data/postmaster.pid")
reaped_s() { awk -v t="$(getconf CLK_TCK)" '{ printf "%.2f", ($16 + $17) / t }' "/proc/$POSTMASTER/stat"; }
cpu_s() { awk -v f="$1" -v a="$2" -v b="$3" 'BEGIN { getline l < f; split(l, x, " "); printf "%.2f", x[1] + x[2] + b - a }'; }
if [[ $BASE_DIRECT == 1 ]]; then FLOYO_BASE_ENV=(env BASE_BACKUP_DATA_DIR="$ROOT/data"); FLOYO_BASE_MODE=direct; else FLOYO_BASE_ENV=(env); FLOYO_BASE_MODE=pg_basebackup; fi
log "base backup: floyo-dr backup --base ($FLOYO_BASE_MODE)"
r0=$(reaped_s); t0=$(now_s)
/usr/bin/time -o "$OUT/run/floyo-base.time" -f "%U %S" runuser -u postgres -- "${FLOYO_BASE_ENV[@]}" "$ROOT/floyo-dr.sh" backup --base >"$OUT/run/floyo-base.log" 2>&1 ||
  { tail -n 20 "$OUT/run/floyo-base.log" >&2; die 1 "floyo-dr backup --base failed"; }
FLOYO_BASE_S=$(elapsed "$t0")
sleep 1; FLOYO_BASE_CPU=$(cpu_s "$OUT/run/floyo-base.time" "$r0" "$(reaped_s)")
FLOYO_BASE_MB=$(du -sbm "$ROOT/store/base" | cut -f1)
psql_q "CHECKPOINT"
log "base backup: pgbackrest backup --type=full"
r0=$(reaped_s); t0=$(now_s)
/usr/bin/time -o "$OUT/run/pgbr-base.time" -f "%U %S" runuser -u postgres -- pgbackrest --config="$ROOT/pgbackrest.conf" --stanza=bench --type=full backup >"$OUT/run/pgbr-base.log" 2>&1 ||
  { tail -n 20 "$OUT/run/pgbr-base.log" >&2; die 1 "pgbackrest backup failed"; }
PGBR_BASE_S=$(elapsed "$t0")
sleep 1; PGBR_BASE_CPU=$(cpu_s "$OUT/run/pgbr-base.time" "$r0" "$(reaped_s)")
PGBR_BASE_MB=$(du -sbm "$ROOT/pgbr-repo/backup/bench" | cut -f1)

# ----------------------------------------------------------------- PITR ----
log "PITR: a pgbench window with the target inside it"
pgbench -c "$CLIENTS" -j 2 -T "$WINDOW" -h 127.0.0.1 -p "$PORT" -U postgres pgb >"$OUT/run/pgbench-pitr.log" 2>&1 &
PGB=$!
sleep $(( WINDOW / 2 ))
psql_q "INSERT INTO marks (name) VALUES ('before')"
sleep 0.5   # the target, cut to milliseconds for pgBackRest, stays after the commit
TARGET=$(psql_q "select to_char(clock_timestamp() at time zone 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')")
PGBR_TARGET="$(date -u -d "$TARGET" '+%Y-%m-%d %H:%M:%S.%3N')+00"   # pgBackRest's own format
sleep 1
psql_q "INSERT INTO marks (name) VALUES ('after')"
wait "$PGB" || die 1 "pgbench (pitr) failed"
wait_archived
echo none >"$ROOT/mode"   # nothing below may add to either archive

marks_on() { psql_q "select string_agg(name, ',' order by name) from marks" "$1"; }
promoted() { [[ "$(psql_q "select pg_is_in_recovery()" "$1" postgres 2>/dev/null)" == f ]]; }

F_PORT=$(free_port)
install -d -o postgres -g postgres -m 700 "$ROOT/pitr-floyo"
log "PITR: floyo-dr restore --pitr --target-time $TARGET --start"
t0=$(now_s)
as_pg "$ROOT/floyo-dr.sh" restore --pitr --target-time "$TARGET" --data-dir "$ROOT/pitr-floyo" --port "$F_PORT" --start >"$OUT/run/floyo-pitr.log" 2>&1 ||
  { tail -n 20 "$OUT/run/floyo-pitr.log" >&2; die 1 "floyo-dr restore --pitr failed"; }
until promoted "$F_PORT"; do sleep 0.1; done
FLOYO_PITR_S=$(elapsed "$t0")
FLOYO_MARKS=$(marks_on "$F_PORT")
as_pg "$PG_BIN/pg_ctl" -D "$ROOT/pitr-floyo" -m fast -w stop >/dev/null

P_PORT=$(free_port)
install -d -o postgres -g postgres -m 700 "$ROOT/pitr-pgbr"
log "PITR: pgbackrest restore --type=time, start, wait for promotion"
t0=$(now_s)
as_pg pgbackrest --config="$ROOT/pgbackrest.conf" --stanza=bench --pg1-path="$ROOT/pitr-pgbr" --type=time \
  "--target=$PGBR_TARGET" --target-action=promote restore >"$OUT/run/pgbr-pitr.log" 2>&1 ||
  { tail -n 20 "$OUT/run/pgbr-pitr.log" >&2; die 1 "pgbackrest restore failed"; }
printf 'port = %s\narchive_mode = off\n' "$P_PORT" >>"$ROOT/pitr-pgbr/postgresql.auto.conf"
as_pg "$PG_BIN/pg_ctl" -D "$ROOT/pitr-pgbr" -l "$ROOT/run/pitr-pgbr.log" start >/dev/null
until promoted "$P_PORT"; do sleep 0.1; done
PGBR_PITR_S=$(elapsed "$t0")
PGBR_MARKS=$(marks_on "$P_PORT")
as_pg "$PG_BIN/pg_ctl" -D "$ROOT/pitr-pgbr" -m fast -w stop >/dev/null

STATUS=0
for who in FLOYO PGBR; do
  marks_var="${who}_MARKS"
  if [[ "${!marks_var}" != before ]]; then
    log "ERROR: $who's recovered copy holds marks '${!marks_var}', expected exactly 'before'"; STATUS=1
  fi
done

# ---------------------------------------------------------------- report ----
BASE_RATIO=$(ratio "$FLOYO_BASE_S" "$PGBR_BASE_S")
SIZE_RATIO=$(ratio "$FLOYO_BASE_MB" "$PGBR_BASE_MB")
BASE_CPU_RATIO=$(ratio "$FLOYO_BASE_CPU" "$PGBR_BASE_CPU")
PUSH_RATIO=$(ratio "$FLOYO_PUSH_MS" "$PGBR_PUSH_MS")
PITR_RATIO=$(ratio "$FLOYO_PITR_S" "$PGBR_PITR_S")
BACKLOG_RATIO=$(ratio "$FLOYO_BACKLOG_MS" "$PGBR_BACKLOG_MS")
verdict() { awk -v v="$1" -v t="$2" 'BEGIN { print (v != "null" && v <= t) ? "ok" : "MISSED" }'; }
printf '\nfloyo-dr vs pgBackRest %s, %s MB of databases, pgbench %s clients x %s s\n\n' \
  "$(pgbackrest version | cut -d' ' -f2)" "$DB_MB" "$CLIENTS" "$WINDOW"
printf '%-34s %14s %14s %8s %8s %s\n' measure floyo-dr pgBackRest ratio target ""
printf '%-34s %13ss %13ss %8s %8s %s\n' "base backup wall time" "$FLOYO_BASE_S" "$PGBR_BASE_S" "$BASE_RATIO" "<=$T_BASE_RATIO" "$(verdict "$BASE_RATIO" $T_BASE_RATIO)"
printf '%-34s %13ss %13ss %8s\n' "base backup CPU ($FLOYO_BASE_MODE)" "$FLOYO_BASE_CPU" "$PGBR_BASE_CPU" "$BASE_CPU_RATIO"
printf '%-34s %12sMB %12sMB %8s %8s %s\n' "base backup size" "$FLOYO_BASE_MB" "$PGBR_BASE_MB" "$SIZE_RATIO" "<=$T_BASE_SIZE" "$(verdict "$SIZE_RATIO" $T_BASE_SIZE)"
printf '%-34s %12sms %12sms %8s %8s %s\n' "WAL push per segment (sync)" "$FLOYO_PUSH_MS" "$PGBR_PUSH_MS" "$PUSH_RATIO" "<=$T_PUSH_RATIO" "$(verdict "$PUSH_RATIO" $T_PUSH_RATIO)"
printf '%-34s %12sms %12sms %8s %8s %s\n' "WAL backlog per segment (async)" "$FLOYO_BACKLOG_MS" "$PGBR_BACKLOG_MS" "$BACKLOG_RATIO" "<=$T_PUSH_RATIO" "$(verdict "$BACKLOG_RATIO" $T_PUSH_RATIO)"
printf '%-34s %14s %14s %8s %8s %s\n' "worst archive lag (segments)" "$FLOYO_LAG" "$PGBR_LAG" "" "<=$T_LAG_SEGMENTS" "$(verdict "$FLOYO_LAG" $T_LAG_SEGMENTS)"
printf '%-34s %14s %14s\n' "segments archived / pgbench tps" "$FLOYO_SEGMENTS / $FLOYO_TPS" "$PGBR_SEGMENTS / $PGBR_TPS"
printf '%-34s %13ss %13ss %8s %8s %s\n' "PITR: files + recovery to promotion" "$FLOYO_PITR_S" "$PGBR_PITR_S" "$PITR_RATIO" "<=$T_PITR_RATIO" "$(verdict "$PITR_RATIO" $T_PITR_RATIO)"
printf '%-34s %14s %14s\n\n' "rows recovered (marks)" "$FLOYO_MARKS" "$PGBR_MARKS"

cat >"$OUT/result.json" <<EOF
{"pgbackrest": "$(pgbackrest version | cut -d' ' -f2)", "databases_mb": $DB_MB, "pgbench_clients": $CLIENTS, "pgbench_seconds": $WINDOW,
 "base": {"floyo_s": $FLOYO_BASE_S, "pgbackrest_s": $PGBR_BASE_S, "ratio": $BASE_RATIO, "floyo_mb": $FLOYO_BASE_MB, "pgbackrest_mb": $PGBR_BASE_MB, "size_ratio": $SIZE_RATIO,
          "floyo_mode": "$FLOYO_BASE_MODE", "floyo_cpu_s": $FLOYO_BASE_CPU, "pgbackrest_cpu_s": $PGBR_BASE_CPU, "cpu_ratio": $BASE_CPU_RATIO},
 "backlog": {"segments": $BACKLOG_N, "floyo_ms_per_segment": $FLOYO_BACKLOG_MS, "pgbackrest_ms_per_segment": $PGBR_BACKLOG_MS, "ratio": $BACKLOG_RATIO},
 "push": {"floyo_ms": $FLOYO_PUSH_MS, "pgbackrest_ms": $PGBR_PUSH_MS, "ratio": $PUSH_RATIO, "floyo_segments": $FLOYO_SEGMENTS, "pgbackrest_segments": $PGBR_SEGMENTS,
          "floyo_max_lag_segments": $FLOYO_LAG, "pgbackrest_max_lag_segments": $PGBR_LAG, "floyo_tps": ${FLOYO_TPS:-null}, "pgbackrest_tps": ${PGBR_TPS:-null}},
 "pitr": {"target": "$TARGET", "floyo_s": $FLOYO_PITR_S, "pgbackrest_s": $PGBR_PITR_S, "ratio": $PITR_RATIO, "floyo_marks": "$FLOYO_MARKS", "pgbackrest_marks": "$PGBR_MARKS"}}
EOF
log "result: $OUT/result.json"
exit $STATUS
