#!/usr/bin/env bash
# THE test command: starts the services (scripts/services.sh), runs the whole test suite and
# ends with exactly one summary line:  N passed, N failed, N skipped
# Extra arguments go to `dotnet test`, e.g.  scripts/test.sh --filter "FullyQualifiedName~Restore"
# --fast (first argument): only the pure tests ([Trait("Tier", "Fast")]: no PostgreSQL, no Azurite, no child
# process), without starting the services; for the edit-compile-test loop. CI runs the full suite.
# Exit code is non-zero if dotnet test failed, any test failed, or no test executed.
# Services are left running afterwards (stop them with scripts/services.sh stop).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
RESULTS_DIR="$REPO/.tmp/test-results"
cd "$REPO"

# No telemetry/banners: there is no internet here, and they only add noise to the log.
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

fast=0
if [[ "${1:-}" == "--fast" ]]; then fast=1; shift; fi

passed=0 failed=0 skipped=0
summary() { echo "$passed passed, $failed failed, $skipped skipped"; }
fail() { echo "test.sh: ERROR: $*" >&2; summary; exit 1; }

# --- .NET SDK (projects target net10.0)
command -v dotnet >/dev/null 2>&1 ||
  fail "the .NET SDK is not installed (need SDK 10.x: https://dotnet.microsoft.com/download, or 'apt-get install dotnet-sdk-10.0' from the Microsoft package feed)"
dotnet --list-sdks 2>/dev/null | grep -q '^10\.' ||
  fail "no .NET 10 SDK found; 'dotnet --list-sdks' shows: $(dotnet --list-sdks 2>/dev/null | tr '\n' ' ')"

# --- solution: Floyo.Functions.sln as agreed; accept .slnx (the .NET 10 `dotnet new sln` default)
sln="${FLOYO_SOLUTION:-}"
if [[ -z "$sln" ]]; then
  for candidate in Floyo.Functions.sln Floyo.Functions.slnx; do
    [[ -f "$candidate" ]] && { sln="$candidate"; break; }
  done
fi
if [[ -z "$sln" ]]; then
  shopt -s nullglob
  all=(*.sln *.slnx)
  shopt -u nullglob
  (( ${#all[@]} == 1 )) || fail "no Floyo.Functions.sln in $REPO (found: ${all[*]:-none}); set FLOYO_SOLUTION"
  sln="${all[0]}"
fi

# --- services + their connection strings (FLOYO_TEST_PG_URL, FLOYO_TEST_PG2_URL, FLOYO_TEST_BLOB_CONNECTION, ...)
if (( fast )); then
  # A further --filter from the caller would replace this one in dotnet test; combine them with '&' yourself.
  set -- --filter "Tier=Fast" "$@"
else
  "$REPO/scripts/services.sh" start || fail "scripts/services.sh start failed"
  eval "$("$REPO/scripts/services.sh" env)"
fi

# --- run; old results are removed so only this run's TRX files are counted
rm -rf "$RESULTS_DIR"
mkdir -p "$RESULTS_DIR"
# Microsoft.Testing.Platform mode (opted into via global.json) takes different arguments than VSTest.
if [[ -f global.json ]] && grep -q 'Microsoft.Testing.Platform' global.json; then
  cmd=(dotnet test --solution "$sln" -c Release --report-trx --results-directory "$RESULTS_DIR" "$@")
else
  cmd=(dotnet test "$sln" -c Release --logger "trx" --results-directory "$RESULTS_DIR" "$@")
fi
echo "test.sh: ${cmd[*]}" >&2
set +e
"${cmd[@]}"
test_rc=$?
set -e

# --- sum the <Counters .../> element of every TRX file (plain grep/awk: no python needed).
# failed includes error/timeout/aborted. skipped = notExecuted, but VSTest's TRX logger leaves
# notExecuted at 0 for skipped xUnit tests and only omits them from executed, so use
# max(notExecuted, total - executed).
trx_count="$(find "$RESULTS_DIR" -type f -name '*.trx' | wc -l)"
read -r passed failed skipped executed < <(
  find "$RESULTS_DIR" -type f -name '*.trx' -print0 |
    xargs -0 -r cat |
    tr '\r\n' '  ' |
    { grep -o '<Counters[[:space:]][^>]*>' || true; } |
    awk '
      {
        s = $0
        while (match(s, /[A-Za-z]+="[0-9]+"/)) {
          kv = substr(s, RSTART, RLENGTH); s = substr(s, RSTART + RLENGTH)
          eq = index(kv, "=")
          v = substr(kv, eq + 2); sub(/"$/, "", v)
          c[substr(kv, 1, eq - 1)] += v
        }
      }
      END {
        skipped = c["total"] - c["executed"]
        if (c["notExecuted"] > skipped) skipped = c["notExecuted"]
        printf "%d %d %d %d\n", c["passed"], c["failed"] + c["error"] + c["timeout"] + c["aborted"],
               skipped, c["executed"]
      }'
)

rc=0
if (( test_rc != 0 )); then echo "test.sh: dotnet test exited with $test_rc" >&2; rc=$test_rc; fi
if (( failed > 0 )); then rc=1; fi
if (( executed == 0 )); then
  echo "test.sh: no tests executed ($trx_count TRX files in $RESULTS_DIR)" >&2
  rc=1
fi
summary
exit "$rc"
