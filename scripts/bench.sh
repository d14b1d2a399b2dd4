#!/usr/bin/env bash
# Floyo DR benchmark: floyo-dr vs pg_dump/pg_restore on the same data, same run.
#
# Usage: scripts/bench.sh            (from anywhere; paths are repo-relative)
#
# Environment knobs:
#   BENCH_PG_URL          superuser URL to use instead of scripts/services.sh
#   BENCH_REBUILD=1       drop and regenerate the floyo_bench data set
#   BENCH_EVENTS          rows in events (default 3000000, ~730 MB database)
#   BENCH_USERS           rows in users  (default 100000)
#   BENCH_BASELINE_ONLY=1 only measure pg_dump/pg_restore (no floyo-dr build)
#   BENCH_FLOYO_BIN       use this floyo-dr executable instead of publishing one
#   BENCH_BLOB=0          skip the backup to Azure Blob (a private, in-memory
#                         Azurite this script starts and stops; skipped with a
#                         message when Azurite is not installed or fails)
#
# Output: a table on stdout, .tmp/bench/result.json, logs in .tmp/bench/run/.
# Exit status: 0 when every mandatory number was measured (even if a target
# is missed: this is a report), 1 when something could not be measured,
# 2 for setup errors (no server, no data).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"

BENCH_DIR="$REPO/.tmp/bench"
RUN_DIR="$BENCH_DIR/run"           # wiped at each start: outputs are ~250 MB each
CLI_DIR="$BENCH_DIR/cli"
RESULT_JSON="$BENCH_DIR/result.json"
DB=floyo_bench
DATA_VERSION=1                     # bump together with bench-data.sql changes
EVENTS="${BENCH_EVENTS:-3000000}"
USERS="${BENCH_USERS:-100000}"
MIN_DB_MB=500
RESTORE_PG_DB=floyo_bench_restore_pg
RESTORE_FLOYO_DB=floyo_bench_restore_floyo

# Targets (ratios are floyo / baseline).
T_BACKUP_RATIO=0.35
T_SIZE_RATIO=1.0
T_RESTORE_RATIO=1.05
T_RSS_MB=200
T_BLOB_RATIO=1.2

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { local code=$1; shift; log "ERROR: $*"; exit "$code"; }

# Inherited BACKUP_* settings (e.g. BACKUP_STORE=blob from a dev shell) would
# silently change what is measured; every floyo-dr run below sets its own.
while read -r v; do unset "$v"; done < <(compgen -e | grep '^BACKUP_' || true)

# GNU time gives wall time and peak RSS (%M, KB) in one go; bash's `time`
# keyword cannot report memory.
if [[ ! -x /usr/bin/time ]]; then
  log "/usr/bin/time missing; installing Debian package 'time'"
  { apt-get install -y -q time >/dev/null 2>&1 ||
    { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q time >/dev/null 2>&1; }; } ||
    die 2 "cannot install GNU time (apt-get install time)"
fi
for tool in psql pg_dump pg_restore; do
  command -v "$tool" >/dev/null || die 2 "$tool not on PATH"
done

# ---------------------------------------------------------------- server ----
if [[ -n "${BENCH_PG_URL:-}" ]]; then
  ADMIN_URL="$BENCH_PG_URL"
else
  [[ -f scripts/services.sh ]] ||
    die 2 "scripts/services.sh not found; set BENCH_PG_URL to a superuser URL"
  log "starting services (scripts/services.sh start)"
  bash scripts/services.sh start >&2 || die 2 "scripts/services.sh start failed"
  # Capture first: `eval "$(cmd)"` would hide a failing cmd behind eval's 0.
  svc_env=$(bash scripts/services.sh env) || die 2 "scripts/services.sh env failed"
  eval "$svc_env"
  [[ -n "${FLOYO_TEST_PG_URL:-}" ]] || die 2 "scripts/services.sh env did not set FLOYO_TEST_PG_URL"
  ADMIN_URL="$FLOYO_TEST_PG_URL"
fi

# Swap the database name in a postgresql:// URL, keeping credentials/query.
db_url() {
  local url=$1 db=$2 base query=""
  if [[ "$url" == *\?* ]]; then query="?${url#*\?}"; url="${url%%\?*}"; fi
  base="${url#*://}"              # user:pw@host:port[/db]
  base="${base%%/*}"
  printf '%s://%s/%s%s' "${url%%://*}" "$base" "$db" "$query"
}
BENCH_URL="$(db_url "$ADMIN_URL" "$DB")"

psql_admin() { psql -X -q -v ON_ERROR_STOP=1 -d "$ADMIN_URL" "$@"; }
psql_admin -Atc 'select 1' >/dev/null || die 2 "cannot connect to PostgreSQL at the admin URL"

drop_db() { psql_admin -c "DROP DATABASE IF EXISTS \"$1\" WITH (FORCE)" 2>/dev/null || true; }
# shellcheck disable=SC2317  # invoked by the EXIT trap
cleanup() { drop_db "$RESTORE_PG_DB"; drop_db "$RESTORE_FLOYO_DB"; [[ -z "${AZ_PID:-}" ]] || kill "$AZ_PID" 2>/dev/null || true; }
trap cleanup EXIT

rm -rf "$RUN_DIR"
mkdir -p "$RUN_DIR"

# ------------------------------------------------------------- floyo-dr ----
# Built before the data so a broken build fails fast, not after minutes of work.
FLOYO=()
if [[ "${BENCH_BASELINE_ONLY:-0}" == 1 ]]; then
  log "BENCH_BASELINE_ONLY=1: floyo-dr is not measured"
elif [[ -n "${BENCH_FLOYO_BIN:-}" ]]; then
  [[ -x "$BENCH_FLOYO_BIN" ]] || die 1 "BENCH_FLOYO_BIN=$BENCH_FLOYO_BIN is not executable"
  FLOYO=("$BENCH_FLOYO_BIN")
else
  [[ -f src/Floyo.Cli/Floyo.Cli.csproj ]] ||
    die 1 "src/Floyo.Cli/Floyo.Cli.csproj missing; cannot build floyo-dr (BENCH_BASELINE_ONLY=1 measures pg_dump only)"
  log "building floyo-dr (dotnet publish -c Release -r linux-x64: ReadyToRun, as shipped)"
  if ! dotnet publish src/Floyo.Cli -c Release -r linux-x64 --self-contained false -o "$CLI_DIR" -nologo >"$RUN_DIR/publish.log" 2>&1; then
    tail -n 30 "$RUN_DIR/publish.log" >&2
    die 1 "dotnet publish src/Floyo.Cli failed (full log: $RUN_DIR/publish.log)"
  fi
  if [[ -x "$CLI_DIR/floyo-dr" ]]; then FLOYO=("$CLI_DIR/floyo-dr")
  elif [[ -f "$CLI_DIR/floyo-dr.dll" ]]; then FLOYO=(dotnet "$CLI_DIR/floyo-dr.dll")
  else die 1 "publish produced neither $CLI_DIR/floyo-dr nor floyo-dr.dll"
  fi
fi

# ------------------------------------------------------------------ data ----
db_exists() { [[ "$(psql_admin -Atc "select 1 from pg_database where datname = '$DB'")" == 1 ]]; }
data_matches() {
  # The marker row says which generator version/row counts produced the data.
  [[ "$(psql -X -Atq -d "$BENCH_URL" -c \
    "select version = $DATA_VERSION and events = $EVENTS and users = $USERS from bench_meta" \
    2>/dev/null)" == t ]]
}
db_mb() { psql -X -Atq -d "$BENCH_URL" -c "select pg_database_size(current_database()) / 1048576"; }

GEN_SECONDS=null
if [[ "${BENCH_REBUILD:-0}" != 1 ]] && db_exists && data_matches; then
  log "reusing existing $DB ($(db_mb) MB; BENCH_REBUILD=1 regenerates)"
else
  log "generating $DB: $EVENTS events, $USERS users (takes ~1 min)"
  drop_db "$DB"
  psql_admin -c "CREATE DATABASE \"$DB\""
  t0=$(date +%s.%N)
  psql -X -q -v ON_ERROR_STOP=1 -v events="$EVENTS" -v users="$USERS" \
       -f scripts/bench-data.sql -d "$BENCH_URL" >"$RUN_DIR/generate.log" 2>&1 ||
    { tail -n 20 "$RUN_DIR/generate.log" >&2; die 2 "data generation failed"; }
  GEN_SECONDS=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}')
  log "generated in ${GEN_SECONDS}s"
fi
DB_MB=$(db_mb)
if (( DB_MB < MIN_DB_MB )); then
  log "WARNING: $DB is only $DB_MB MB (< $MIN_DB_MB MB); ratios are not representative"
fi

# Pull every relation into the OS page cache so neither contender pays for
# cold reads the other one did not (the data is far smaller than RAM).
psql -X -Atq -d "$BENCH_URL" -c "select count(*) from events; select count(*) from users" >/dev/null

# -------------------------------------------------------------- measuring ----
# run_timed NAME CMD...: runs CMD under GNU time with output in $RUN_DIR/NAME.log.
# Sets T_WALL (s), T_RSS_KB (peak RSS of the biggest single process, GNU time
# %M) and T_TREE_KB (peak of the summed RSS of the whole process tree, sampled
# every 0.2 s, which also counts child processes such as pg_dump).
# Returns CMD's exit status.
tree_rss_kb() {
  ps -e -o pid=,ppid=,rss= | awk -v root="$1" '
    { ppid[$1] = $2; rss[$1] = $3 }
    END { for (p in ppid) { q = p; while (q in ppid && q != root && q > 1) q = ppid[q]
                            if (q == root && p != root) s += rss[p] }
          print s + 0 }'
}
run_timed() {
  local name=$1; shift
  local tfile="$RUN_DIR/$name.time" pid rc=0 peak=0 cur
  # Every contender starts from the same state: the server has nothing left to write out from the step
  # before (a restore leaves ~1 GB of dirty pages and WAL behind for the next one to pay for otherwise).
  psql_admin -c CHECKPOINT >/dev/null && sync
  /usr/bin/time -f '%e %M' -o "$tfile" "$@" >"$RUN_DIR/$name.log" 2>&1 &
  pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    cur=$(tree_rss_kb "$pid")
    (( cur > peak )) && peak=$cur
    sleep 0.2
  done
  wait "$pid" || rc=$?
  # On failure GNU time prepends a "Command exited..." line; the numbers are last.
  read -r T_WALL T_RSS_KB < <(tail -n 1 "$tfile")
  T_TREE_KB=$peak
  return "$rc"
}
fail_tail() { tail -n 20 "$RUN_DIR/$1.log" >&2 || true; }

MISSING=()                      # names of mandatory numbers we could not get
declare -A R                    # results, printed and written as JSON

# (a) pg_dump -Fc, default compression: the baseline everyone knows.
PG_DUMP_FILE="$RUN_DIR/$DB.pgdump"
log "(a) pg_dump -Fc"
if run_timed pg_dump pg_dump -Fc -f "$PG_DUMP_FILE" -d "$BENCH_URL"; then
  R[pg_dump_s]=$T_WALL
  R[pg_dump_bytes]=$(stat -c %s "$PG_DUMP_FILE")
  R[pg_dump_rss_mb]=$(( T_RSS_KB / 1024 ))
else
  fail_tail pg_dump; MISSING+=(pg_dump)
fi

# (b) floyo-dr backup --full into a fresh filesystem store.
FLOYO_BACKUP_DIR="$RUN_DIR/floyo-backups"
if (( ${#FLOYO[@]} )); then
  mkdir -p "$FLOYO_BACKUP_DIR"
  log "(b) floyo-dr backup --full"
  if run_timed floyo_backup env DATABASE_URL="$BENCH_URL" BACKUP_DIR="$FLOYO_BACKUP_DIR" \
       "${FLOYO[@]}" backup --full; then
    # The backup is the one non-.meta.json file (<db>_full_<date>_<time>.dump.zst).
    FLOYO_FILE=$(find "$FLOYO_BACKUP_DIR" -maxdepth 1 -type f -name '*.dump*' ! -name '*.meta.json' | head -n 1)
    if [[ -n "$FLOYO_FILE" ]]; then
      R[floyo_backup_s]=$T_WALL
      R[floyo_backup_bytes]=$(stat -c %s "$FLOYO_FILE")
      R[floyo_backup_rss_mb]=$(( T_RSS_KB / 1024 ))
      R[floyo_backup_tree_rss_mb]=$(( T_TREE_KB / 1024 ))
    else
      log "floyo-dr backup succeeded but left no backup file in $FLOYO_BACKUP_DIR"
      MISSING+=(floyo_backup)
    fi
  else
    fail_tail floyo_backup; MISSING+=(floyo_backup)
  fi
fi

# (c) pg_restore -j2 into a new database (2 jobs = the 2 cores here).
if [[ -f "$PG_DUMP_FILE" ]]; then
  log "(c) pg_restore -j2"
  drop_db "$RESTORE_PG_DB"
  psql_admin -c "CREATE DATABASE \"$RESTORE_PG_DB\""
  if run_timed pg_restore pg_restore -j2 -d "$(db_url "$ADMIN_URL" "$RESTORE_PG_DB")" "$PG_DUMP_FILE"; then
    R[pg_restore_s]=$T_WALL
  else
    fail_tail pg_restore; MISSING+=(pg_restore)
  fi
  drop_db "$RESTORE_PG_DB"
else
  MISSING+=(pg_restore)
fi

# (d) floyo-dr restore of the backup from (b), addressed by the name that
# `floyo-dr list --json` reports (what an operator would do).
json_backup_name() {
  # list --json may be an array or an object wrapping one; take the entry
  # matching the file we made, else the first "name" found.
  local want=$1 file=$2
  if command -v jq >/dev/null; then
    jq -r --arg w "$want" '[.. | objects | select(has("name")) | .name | strings]
      | (map(select(. == $w)) + .)[0] // empty' "$file"
  elif command -v python3 >/dev/null; then
    python3 - "$want" "$file" <<'PY'
import json, sys
want, path = sys.argv[1], sys.argv[2]
names = []
def walk(x):
    if isinstance(x, dict):
        if isinstance(x.get("name"), str): names.append(x["name"])
        for v in x.values(): walk(v)
    elif isinstance(x, list):
        for v in x: walk(v)
walk(json.load(open(path)))
print(want if want in names else (names[0] if names else ""))
PY
  else
    grep -o '"name" *: *"[^"]*"' "$file" | head -n 1 | sed 's/.*: *"\(.*\)"/\1/'
  fi
}
if [[ -n "${R[floyo_backup_s]:-}" ]]; then
  log "(d) floyo-dr restore"
  BACKUP_NAME=""
  if env DATABASE_URL="$BENCH_URL" BACKUP_DIR="$FLOYO_BACKUP_DIR" "${FLOYO[@]}" list --json \
       >"$RUN_DIR/floyo_list.json" 2>"$RUN_DIR/floyo_list.err"; then
    BACKUP_NAME=$(json_backup_name "$(basename "$FLOYO_FILE")" "$RUN_DIR/floyo_list.json" || true)
  else
    cat "$RUN_DIR/floyo_list.err" >&2
  fi
  if [[ -z "$BACKUP_NAME" ]]; then
    log "floyo-dr list --json gave no backup name (see $RUN_DIR/floyo_list.json)"
    MISSING+=(floyo_restore)
  else
    drop_db "$RESTORE_FLOYO_DB"
    if run_timed floyo_restore env DATABASE_URL="$BENCH_URL" BACKUP_DIR="$FLOYO_BACKUP_DIR" \
         "${FLOYO[@]}" restore --file "$BACKUP_NAME" --target-database "$RESTORE_FLOYO_DB"; then
      R[floyo_restore_s]=$T_WALL
      R[floyo_restore_rss_mb]=$(( T_RSS_KB / 1024 ))
    else
      fail_tail floyo_restore; MISSING+=(floyo_restore)
    fi
    drop_db "$RESTORE_FLOYO_DB"
  fi
elif (( ${#FLOYO[@]} )); then
  MISSING+=(floyo_restore)
fi

# (e) the same backup to Azure Blob vs the filesystem, against a private Azurite started for this run
# with in-memory persistence (the emulator's own disk writes and re-reads are not the product's cost, and
# nothing is left behind). Azurite still runs on these same cores; its CPU time is reported beside.
AZ_JS="$REPO/.tools/azurite/node_modules/azurite/dist/src/azurite.js"
AZ_PID=""
free_port() {
  local p
  for _ in $(seq 1 50); do
    p=$(( 20000 + RANDOM % 20000 ))
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return 0; }
  done
  return 1
}
start_private_azurite() {
  local blob queue table dir
  command -v node >/dev/null && [[ -f "$AZ_JS" ]] || { log "(e) skipped: Azurite is not installed (scripts/services.sh start installs it)"; return 1; }
  blob=$(free_port) && queue=$(free_port) && table=$(free_port) || return 1
  dir=$(mktemp -d)
  (cd "$dir" && exec node "$AZ_JS" --silent --skipApiVersionCheck --disableTelemetry --inMemoryPersistence \
     --blobHost 127.0.0.1 --blobPort "$blob" --queueHost 127.0.0.1 --queuePort "$queue" \
     --tableHost 127.0.0.1 --tablePort "$table") >"$RUN_DIR/azurite.log" 2>&1 &
  AZ_PID=$!
  for _ in $(seq 1 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$blob") 2>/dev/null && break
    sleep 0.1
  done
  # The well-known Azurite development account (public, documented by Microsoft; not a secret).
  AZ_CONNECTION="DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;BlobEndpoint=http://127.0.0.1:$blob/devstoreaccount1;"
}
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
if (( ${#FLOYO[@]} )) && [[ -n "${R[floyo_backup_s]:-}" && "${BENCH_BLOB:-1}" != 0 ]] && start_private_azurite; then
  log "(e) floyo-dr backup --full to blob storage (private in-memory Azurite, pid $AZ_PID)"
  az_before=$(cpu_ticks "$AZ_PID")
  if run_timed floyo_blob env DATABASE_URL="$BENCH_URL" BACKUP_STORE=blob \
       BACKUP_BLOB_CONNECTION_STRING="$AZ_CONNECTION" BACKUP_IMMUTABILITY_MODE=off BACKUP_BLOB_CONTAINER=bench \
       "${FLOYO[@]}" backup --full; then
    R[floyo_blob_backup_s]=$T_WALL
    R[azurite_cpu_s]=$(awk -v t=$(( $(cpu_ticks "$AZ_PID") - az_before )) -v hz="$(getconf CLK_TCK)" 'BEGIN{printf "%.1f", t/hz}')
  else
    fail_tail floyo_blob
    log "(e) skipped: blob backup failed (log: $RUN_DIR/floyo_blob.log)"
  fi
  kill "$AZ_PID" 2>/dev/null || true
fi

# ----------------------------------------------------------------- report ----
ratio() { [[ -n "${1:-}" && -n "${2:-}" ]] && awk -v a="$1" -v b="$2" 'BEGIN{ if (b > 0) printf "%.3f", a/b }'; }
verdict() { [[ -n "${1:-}" ]] && awk -v v="$1" -v t="$2" 'BEGIN{ print (v <= t) ? "PASS" : "FAIL" }'; }
mb() { [[ -n "${1:-}" ]] && awk -v b="$1" 'BEGIN{printf "%.1f", b/1048576}'; }

R_BACKUP=$(ratio "${R[floyo_backup_s]:-}" "${R[pg_dump_s]:-}" || true)
R_SIZE=$(ratio "${R[floyo_backup_bytes]:-}" "${R[pg_dump_bytes]:-}" || true)
R_RESTORE=$(ratio "${R[floyo_restore_s]:-}" "${R[pg_restore_s]:-}" || true)
R_BLOB=$(ratio "${R[floyo_blob_backup_s]:-}" "${R[floyo_backup_s]:-}" || true)
RSS_MB=${R[floyo_backup_rss_mb]:-}

V_BACKUP=$(verdict "$R_BACKUP" $T_BACKUP_RATIO || true)
V_SIZE=$(verdict "$R_SIZE" $T_SIZE_RATIO || true)
V_RESTORE=$(verdict "$R_RESTORE" $T_RESTORE_RATIO || true)
V_RSS=$(verdict "$RSS_MB" $T_RSS_MB || true)
V_BLOB=$(verdict "$R_BLOB" $T_BLOB_RATIO || true)

na() { printf '%s' "${1:-n/a}"; }
echo
echo "Floyo DR benchmark — $DB: $DB_MB MB on disk, $EVENTS events, $USERS users"
[[ "$GEN_SECONDS" != null ]] && echo "(data generated in ${GEN_SECONDS}s)"
echo
printf '%-34s %12s %12s\n' "operation" "seconds" "size MB"
printf '%-34s %12s %12s\n' "(a) pg_dump -Fc" "$(na "${R[pg_dump_s]:-}")" "$(na "$(mb "${R[pg_dump_bytes]:-}" || true)")"
printf '%-34s %12s %12s\n' "(b) floyo-dr backup --full (fs)" "$(na "${R[floyo_backup_s]:-}")" "$(na "$(mb "${R[floyo_backup_bytes]:-}" || true)")"
printf '%-34s %12s %12s\n' "(c) pg_restore -j2" "$(na "${R[pg_restore_s]:-}")" ""
printf '%-34s %12s %12s\n' "(d) floyo-dr restore" "$(na "${R[floyo_restore_s]:-}")" ""
[[ -n "${R[floyo_blob_backup_s]:-}" ]] &&
  printf '%-34s %12s %12s\n' "(e) floyo-dr backup --full (blob)" "${R[floyo_blob_backup_s]}" "" &&
  echo "    (Azurite itself used ${R[azurite_cpu_s]} s of CPU on these cores meanwhile)"
echo
printf '%-40s %10s %8s %6s\n' "metric" "value" "target" "result"
printf '%-40s %10s %8s %6s\n' "backup time floyo / pg_dump" "$(na "$R_BACKUP")" "<= $T_BACKUP_RATIO" "$(na "$V_BACKUP")"
printf '%-40s %10s %8s %6s\n' "backup size floyo / pg_dump" "$(na "$R_SIZE")" "<= $T_SIZE_RATIO" "$(na "$V_SIZE")"
printf '%-40s %10s %8s %6s\n' "restore time floyo / pg_restore -j2" "$(na "$R_RESTORE")" "<= $T_RESTORE_RATIO" "$(na "$V_RESTORE")"
printf '%-40s %10s %8s %6s\n' "floyo-dr peak RSS during backup (MB)" "$(na "$RSS_MB")" "<= $T_RSS_MB" "$(na "$V_RSS")"
if [[ -n "$R_BLOB" ]]; then
  printf '%-40s %10s %8s %6s\n' "backup time blob / fs" "$R_BLOB" "<= $T_BLOB_RATIO" "$V_BLOB"
else
  printf '%-40s %10s %8s %6s\n' "backup time blob / fs" "skipped" "<= $T_BLOB_RATIO" "-"
fi
[[ -n "${R[floyo_backup_tree_rss_mb]:-}" ]] &&
  echo "(info: summed RSS of floyo-dr and its child processes peaked at ${R[floyo_backup_tree_rss_mb]} MB)"

# JSON by hand: no dependency beyond bash/awk; absent numbers become null.
jnum() { printf '%s' "${1:-null}"; }
jstr() { if [[ -n "${1:-}" ]]; then printf '"%s"' "$1"; else printf 'null'; fi; }
missing_json=$(printf '"%s",' "${MISSING[@]+"${MISSING[@]}"}"); missing_json="[${missing_json%,}]"
[[ "$missing_json" == '[""]' ]] && missing_json='[]'
cat >"$RESULT_JSON" <<EOF
{
  "timestamp": "$(date -u +%Y-%m-%dT%H:%M:%SZ)",
  "database": { "name": "$DB", "size_mb": $DB_MB, "events": $EVENTS, "users": $USERS, "generation_s": $GEN_SECONDS },
  "pg_dump": { "seconds": $(jnum "${R[pg_dump_s]:-}"), "bytes": $(jnum "${R[pg_dump_bytes]:-}"), "peak_rss_mb": $(jnum "${R[pg_dump_rss_mb]:-}") },
  "floyo_backup": { "seconds": $(jnum "${R[floyo_backup_s]:-}"), "bytes": $(jnum "${R[floyo_backup_bytes]:-}"), "peak_rss_mb": $(jnum "${R[floyo_backup_rss_mb]:-}"), "process_tree_peak_rss_mb": $(jnum "${R[floyo_backup_tree_rss_mb]:-}") },
  "pg_restore_j2": { "seconds": $(jnum "${R[pg_restore_s]:-}") },
  "floyo_restore": { "seconds": $(jnum "${R[floyo_restore_s]:-}"), "peak_rss_mb": $(jnum "${R[floyo_restore_rss_mb]:-}") },
  "floyo_blob_backup": { "seconds": $(jnum "${R[floyo_blob_backup_s]:-}"), "azurite_cpu_s": $(jnum "${R[azurite_cpu_s]:-}") },
  "ratios": {
    "backup_time": { "value": $(jnum "$R_BACKUP"), "target": $T_BACKUP_RATIO, "result": $(jstr "$V_BACKUP") },
    "backup_size": { "value": $(jnum "$R_SIZE"), "target": $T_SIZE_RATIO, "result": $(jstr "$V_SIZE") },
    "restore_time": { "value": $(jnum "$R_RESTORE"), "target": $T_RESTORE_RATIO, "result": $(jstr "$V_RESTORE") },
    "backup_peak_rss_mb": { "value": $(jnum "$RSS_MB"), "target": $T_RSS_MB, "result": $(jstr "$V_RSS") },
    "blob_vs_fs_time": { "value": $(jnum "$R_BLOB"), "target": $T_BLOB_RATIO, "result": $(jstr "$V_BLOB") }
  },
  "not_measured": $missing_json
}
EOF
echo
echo "results: ${RESULT_JSON#"$REPO"/}   logs: ${RUN_DIR#"$REPO"/}/"

if (( ${#MISSING[@]} )); then
  log "could not measure: ${MISSING[*]}"
  exit 1
fi
exit 0
