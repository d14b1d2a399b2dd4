-- Synthetic data set for scripts/bench.sh.
--
-- Run against an EMPTY database with:
--   psql -v ON_ERROR_STOP=1 -v events=3000000 -v users=100000 -f scripts/bench-data.sql <db-url>
--
-- Goals: ~700-800 MB on disk for 3M events, rows that look like application
-- data (ids, uuids, timestamps, words, jsonb) but compress only moderately
-- (random hex/uuids/numbers dominate), and fast generation: everything is
-- server-side generate_series, no client round trips.
--
-- The table is filled in the same transaction it is created in and indexes
-- are built afterwards, which is the cheapest order for a bulk load.

\set ON_ERROR_STOP 1
\if :{?events}
\else
  \set events 3000000
\endif
\if :{?users}
\else
  \set users 100000
\endif

SET synchronous_commit = off;
SET maintenance_work_mem = '256MB';
-- Same seed -> same random()-driven content and (nearly) the same size on
-- every rebuild, so runs stay comparable. gen_random_uuid() is not seeded.
SELECT setseed(0.4242) AS seeded \gset

BEGIN;

DROP TABLE IF EXISTS events;
DROP TABLE IF EXISTS users;
DROP TABLE IF EXISTS bench_meta;

-- A small vocabulary so text columns contain real words as well as noise.
CREATE TEMP TABLE words AS
SELECT w, row_number() OVER () - 1 AS i
FROM unnest(string_to_array(
  'account order invoice payment refund shipment cart checkout login logout '
  'session token password profile settings email phone address city country '
  'warehouse product variant price discount coupon tax currency report export '
  'import sync webhook retry timeout error warning notice debug trace audit '
  'alpha beta gamma delta north south east west green blue red amber silver '
  'gold basic premium enterprise trial monthly yearly created updated deleted',
  ' ')) AS w;
CREATE TEMP TABLE wordarr AS SELECT array_agg(w ORDER BY i) AS a, count(*)::int AS n FROM words;

CREATE TABLE users (
    id          bigserial PRIMARY KEY,
    external_id uuid        NOT NULL,
    email       text        NOT NULL,
    full_name   text        NOT NULL,
    plan        text        NOT NULL,
    created_at  timestamptz NOT NULL,
    attributes  jsonb       NOT NULL
);

INSERT INTO users (external_id, email, full_name, plan, created_at, attributes)
SELECT gen_random_uuid(),
       'user' || g || '.' || substr(md5(random()::text), 1, 8) || '@example.' ||
         (ARRAY['com','org','net','io'])[1 + (g % 4)],
       initcap(wa.a[1 + (random() * (wa.n - 1))::int]) || ' ' ||
         initcap(wa.a[1 + (random() * (wa.n - 1))::int]) || '-' || substr(md5(random()::text), 1, 6),
       (ARRAY['basic','premium','enterprise','trial'])[1 + (random() * 3)::int],
       now() - random() * interval '1500 days',
       jsonb_build_object(
         'locale', (ARRAY['en-US','de-DE','fr-FR','pl-PL','ja-JP'])[1 + (random() * 4)::int],
         'score',  round((random() * 1000)::numeric, 3),
         'ref',    md5(random()::text))
FROM generate_series(1, :users) AS g, wordarr AS wa;

CREATE TABLE events (
    id          bigserial PRIMARY KEY,
    event_id    uuid        NOT NULL,
    user_id     bigint      NOT NULL,
    occurred_at timestamptz NOT NULL,
    kind        text        NOT NULL,
    message     text        NOT NULL,
    payload     jsonb       NOT NULL
);

INSERT INTO events (event_id, user_id, occurred_at, kind, message, payload)
SELECT gen_random_uuid(),
       1 + (random() * (:users - 1))::bigint,
       timestamptz '2023-01-01' + g * interval '10 seconds' + random() * interval '10 seconds',
       wa.a[1 + (g % wa.n)] || '.' || wa.a[1 + ((g / 7) % wa.n)],
       wa.a[1 + (random() * (wa.n - 1))::int] || ' ' ||
       wa.a[1 + (random() * (wa.n - 1))::int] || ' ref=' ||
       substr(md5(random()::text), 1, 16),
       jsonb_build_object(
         'amount',   round((random() * 10000)::numeric, 2),
         'qty',      (random() * 50)::int,
         'sku',      upper(substr(md5(random()::text), 1, 10)),
         'tag',      wa.a[1 + (random() * (wa.n - 1))::int])
FROM generate_series(1, :events) AS g, wordarr AS wa;

CREATE INDEX users_email_idx ON users (email);
CREATE INDEX events_user_id_idx ON events (user_id);

-- Marker read by bench.sh to decide whether the data set can be reused.
CREATE TABLE bench_meta (version int NOT NULL, events bigint NOT NULL, users bigint NOT NULL,
                         built_at timestamptz NOT NULL DEFAULT now());
INSERT INTO bench_meta (version, events, users) VALUES (1, :events, :users);

COMMIT;

VACUUM ANALYZE;
