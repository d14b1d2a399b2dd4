#!/usr/bin/env bash
# The README's first command: floyo-dr's main job on local defaults, end to end.
# Starts a throwaway local PostgreSQL (scripts/services.sh), creates a small Floyo-like database
# with a users table, takes a full backup into ./backups, verifies it by restoring it into a
# scratch database, restores it into a new database, and prints a summary.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "$REPO"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

say() { printf '\n== %s\n' "$*"; }

say "starting a local PostgreSQL (scripts/services.sh)"
scripts/services.sh start >/dev/null
eval "$(scripts/services.sh env)"
admin_url="$FLOYO_TEST_PG_URL"
server_url="${admin_url%/*}"

say "building floyo-dr"
dotnet build src/Floyo.Cli -c Release -o .tmp/demo/bin -v quiet -nologo >/dev/null
floyo() { dotnet .tmp/demo/bin/floyo-dr.dll "$@"; }

say "creating the sample database floyo_demo (users: 10000 rows)"
psql "$admin_url" -Xq -v ON_ERROR_STOP=1 <<'SQL'
DROP DATABASE IF EXISTS floyo_demo WITH (FORCE);
DROP DATABASE IF EXISTS floyo_demo_restored WITH (FORCE);
CREATE DATABASE floyo_demo;
SQL
psql "$server_url/floyo_demo" -Xq -v ON_ERROR_STOP=1 <<'SQL'
CREATE TABLE users (
  id bigserial PRIMARY KEY,
  email text NOT NULL UNIQUE,
  display_name text NOT NULL,
  settings jsonb NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO users (email, display_name, settings)
SELECT 'user' || g || '@floyo.example', 'User ' || g, jsonb_build_object('theme', CASE WHEN g % 2 = 0 THEN 'dark' ELSE 'light' END)
FROM generate_series(1, 10000) g;
-- The application's login, so the drill can prove it connects and reads after a restore.
DO $$ BEGIN CREATE ROLE floyo_demo_app LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
GRANT SELECT ON users TO floyo_demo_app;
SQL

# Local defaults: ./backups as the store, the database of DATABASE_URL as the source.
export DATABASE_URL="$server_url/floyo_demo"
export BACKUP_DIR="${BACKUP_DIR:-./backups}"

say "floyo-dr backup --full"
floyo backup --full

say "floyo-dr verify --latest"
floyo verify --latest

say "floyo-dr list"
floyo list

latest="$(floyo list --json | sed -n 's/^ *"name": "\(.*\)",$/\1/p' | head -1)"
say "floyo-dr restore --file $latest --target-database floyo_demo_restored"
floyo restore --file "$latest" --target-database floyo_demo_restored

# Staging lives on the second local cluster: a different server, as drills require.
export STAGING_DATABASE_URL="${FLOYO_TEST_PG2_URL%/*}/floyo_demo_staging"
say "floyo-dr drill --scenario restore-test (staging: second local server)"
drill_json="$(floyo drill --scenario restore-test --json)" || { echo "$drill_json"; exit 1; }
floyo report --latest

source_rows="$(psql "$server_url/floyo_demo" -XAtc 'SELECT count(*) FROM users')"
restored_rows="$(psql "$server_url/floyo_demo_restored" -XAtc 'SELECT count(*) FROM users')"

say "summary"
echo "backup:        $latest in $BACKUP_DIR"
echo "verification:  $(floyo list --json | grep -m1 '"verified"' | tr -d ' ,')"
echo "users rows:    source $source_rows, restored $restored_rows"
echo "drill (restore-test on the second server), achieved against targets:"
floyo report --latest | grep -E '^\| (measure|R[TP]O)'

if [[ "$source_rows" != "$restored_rows" ]]; then
  echo "demo: restored copy differs from the source" >&2
  exit 1
fi
echo "demo: OK"
