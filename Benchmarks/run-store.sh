#!/usr/bin/env bash
# The store benchmark, side by side in one run: verifications per second in-process against each
# database's own limit.
#   SQLite:     Twofold verifications vs. bare single-row UPDATE transactions (same WAL and
#               synchronous setting), both from StoreBenchmarks (ordo-one/benchmark).
#   PostgreSQL: Twofold verifications at 64 clients vs. pgbench's single-row UPDATE at 64 clients,
#               on one throwaway server started here (provisioning/postgres/start-throwaway.sh, with
#               TWOFOLD_PG_DURABLE=1 so that both pay for durable commits).
# The first run enrolls 1,000 and 1,000,000 users per store (minutes); fixtures are kept under
# $TMPDIR/twofold-bench and reused.
#
#   Benchmarks/run-store.sh            # SQLite and PostgreSQL
#   Benchmarks/run-store.sh sqlite     # SQLite only
#   Benchmarks/run-store.sh postgres   # PostgreSQL only
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
work=$(mktemp -d)
which=${1:-all}
pg_dir=/tmp/twofold-bench-pg
clients=64

fixtures=${TMPDIR:-/tmp}/twofold-bench
pg_port=54400
pg_stop() {
  [ -s "$pg_dir/data/PG_VERSION" ] || return 0
  su postgres -s /bin/sh -c "/usr/lib/postgresql/15/bin/pg_ctl -D $pg_dir/data -m fast -w -t 60 stop" > /dev/null 2>&1 || true
}
# The PostgreSQL cluster is kept between runs (stopped, not deleted), with the fixtures it holds.
cleanup() {
  if [ "$which" != sqlite ]; then pg_stop; fi
  rm -rf "$work"
}
trap cleanup EXIT

pgbench_tps=""
if [ "$which" != sqlite ]; then
  # Fixture files describe the users enrolled in the cluster's databases: without the cluster
  # they are stale.
  [ -s "$pg_dir/data/PG_VERSION" ] || rm -rf "$fixtures"/postgres-*
  pg_start() { TWOFOLD_PG_DIR=$pg_dir TWOFOLD_PG_DURABLE=$1 "$root/provisioning/postgres/start-throwaway.sh" $pg_port | tail -n 1; }
  pg_stop
  url=$(pg_start 0)
  for db in bench1000 bench1000000; do
    su postgres -s /bin/sh -c "psql -h $pg_dir/socket -p $pg_port -tAc \"SELECT 1 FROM pg_database WHERE datname = '$db'\"" | grep -q 1 \
      || su postgres -s /bin/sh -c "createdb -h $pg_dir/socket -p $pg_port -O twofold $db"
  done
  export TWOFOLD_BENCH_POSTGRES_URL=$url
  if [ ! -s "$fixtures/postgres-1000/secrets.bin" ] || [ ! -s "$fixtures/postgres-1000000/secrets.bin" ]; then
    # Enrolling a million users through the engine takes long enough with fsync; without it,
    # about a quarter of an hour. This first pass only seeds (its figures are thrown away).
    echo "run-store: seeding the PostgreSQL fixtures without fsync (once)" >&2
    swift package --package-path "$here" benchmark --target StoreBenchmarks --filter 'PostgreSQL.*' --no-progress > "$work/seed.txt" 2>&1 \
      || { tail -n 20 "$work/seed.txt" >&2; exit 1; }
  fi
  pg_stop
  # Measured as a deployment of a million users would run: PostgreSQL's cache holds the database
  # (1.7 GB with a million users), read into it before the run (pg_prewarm), as pgbench's table is.
  url=$(TWOFOLD_PG_SHARED_BUFFERS=3GB pg_start 1)
  export TWOFOLD_BENCH_POSTGRES_URL=$url
  for db in bench1000 bench1000000; do
    su postgres -s /bin/sh -c "psql -h $pg_dir/socket -p $pg_port -d $db -qtA" > /dev/null <<'SQL'
CREATE EXTENSION IF NOT EXISTS pg_prewarm;
SELECT pg_prewarm(c.oid) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind IN ('r', 'i');
SQL
  done
  [ "$(psql "$url" -tAc 'SHOW fsync')" = on ] || { echo "run-store: PostgreSQL does not run with fsync on" >&2; exit 1; }
  psql "$url" -q -c "CREATE TABLE IF NOT EXISTS pgbench_single (id int PRIMARY KEY, v bigint NOT NULL);
                     INSERT INTO pgbench_single SELECT g, 0 FROM generate_series(1, 100000) g ON CONFLICT DO NOTHING;"
  printf '\\set id random(1, 100000)\nUPDATE pgbench_single SET v = v + 1 WHERE id = :id;\n' > "$work/update.sql"
  pgbench_tps=$(/usr/lib/postgresql/15/bin/pgbench -n -c $clients -j 2 -T 20 -f "$work/update.sql" "$url" 2>/dev/null \
    | sed -nE 's/^tps = ([0-9.]+).*/\1/p' | head -n 1)
fi

filter=()
case $which in
  sqlite) filter=(--filter 'SQLite.*') ;;
  postgres) filter=(--filter 'PostgreSQL.*') ;;
esac
swift package --package-path "$here" benchmark --target StoreBenchmarks "${filter[@]}" --no-progress | tee "$work/swift.txt"

# Per second, from the p50 of the wall-clock row (microseconds per verification or update; the
# throughput row is rounded to whole thousands).
rate() {
  awk -v name="$1" '
    $0 == name { inside = 1; next }
    inside && /Time \(wall clock\)/ { split($0, cell, "│"); gsub(/ /, "", cell[5]); if (cell[5] > 0) printf "%.0f", 1e6 / cell[5]; exit }
  ' "$work/swift.txt"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a > 0 && b > 0) printf "%.2f", a / b; else printf "?" }'; }

echo
printf '%-62s %10s  %s\n' "measurement (median)" "per second" "ratio"
for sync in full normal; do
  [ "$which" = postgres ] && break
  ref=$(rate "SQLite reference: single-row UPDATE transactions, WAL, synchronous=$sync")
  small=$(rate "SQLite verifications, 1000 users, synchronous=$sync")
  large=$(rate "SQLite verifications, 1000000 users, synchronous=$sync")
  printf '%-62s %10s\n' "SQLite bare single-row UPDATE transactions, synchronous=$sync" "$ref"
  printf '%-62s %10s  %sx the bare UPDATE rate (target >= 0.5)\n' "SQLite verifications, 1000 users, $sync" "$small" "$(ratio "$small" "$ref")"
  printf '%-62s %10s  %sx the bare UPDATE rate; 1,000 users / 1,000,000 users = %s (target <= 1.3)\n' \
    "SQLite verifications, 1000000 users, $sync" "$large" "$(ratio "$large" "$ref")" "$(ratio "$small" "$large")"
done
if [ -n "$pgbench_tps" ]; then
  small=$(rate "PostgreSQL verifications, 1000 users, $clients clients")
  large=$(rate "PostgreSQL verifications, 1000000 users, $clients clients")
  printf '%-62s %10.0f\n' "pgbench single-row UPDATE, $clients clients, fsync on" "$pgbench_tps"
  printf '%-62s %10s  %sx pgbench (target >= 0.5)\n' "PostgreSQL verifications, 1000 users, $clients clients" "$small" "$(ratio "$small" "$pgbench_tps")"
  printf '%-62s %10s  %sx pgbench; 1,000 users / 1,000,000 users = %s (target <= 1.3)\n' \
    "PostgreSQL verifications, 1000000 users, $clients clients" "$large" "$(ratio "$large" "$pgbench_tps")" "$(ratio "$small" "$large")"
fi
