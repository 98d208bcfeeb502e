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
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
work=$(mktemp -d)
which=${1:-all}
pg_dir=/tmp/twofold-bench-pg
clients=64

cleanup() {
  if [ "$which" != sqlite ]; then "$root/provisioning/postgres/stop-throwaway.sh" "$pg_dir" >/dev/null 2>&1 || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

pgbench_tps=""
if [ "$which" != sqlite ]; then
  url=$(TWOFOLD_PG_DIR=$pg_dir TWOFOLD_PG_DURABLE=1 "$root/provisioning/postgres/start-throwaway.sh" 54400 | tail -n 1)
  for db in bench1000 bench1000000; do
    su postgres -s /bin/sh -c "psql -h $pg_dir/socket -p 54400 -tAc \"SELECT 1 FROM pg_database WHERE datname = '$db'\"" | grep -q 1 \
      || su postgres -s /bin/sh -c "createdb -h $pg_dir/socket -p 54400 -O twofold $db"
  done
  export TWOFOLD_BENCH_POSTGRES_URL=$url
  psql "$url" -q -c "CREATE TABLE IF NOT EXISTS pgbench_single (id int PRIMARY KEY, v bigint NOT NULL);
                     INSERT INTO pgbench_single SELECT g, 0 FROM generate_series(1, 100000) g ON CONFLICT DO NOTHING;"
  printf '\\set id random(1, 100000)\nUPDATE pgbench_single SET v = v + 1 WHERE id = :id;\n' > "$work/update.sql"
  pgbench_tps=$(/usr/lib/postgresql/15/bin/pgbench -n -c $clients -j 2 -T 20 -f "$work/update.sql" "$url" 2>/dev/null \
    | sed -nE 's/^tps = ([0-9.]+).*/\1/p' | head -n 1)
fi

swift package --package-path "$here" benchmark --target StoreBenchmarks --no-progress | tee "$work/swift.txt"

# p50 throughput row (K verifications or updates per second).
p50k() {
  awk -v name="$1" '
    $0 == name { inside = 1; next }
    inside && /Throughput/ { split($0, cell, "│"); gsub(/ /, "", cell[5]); print cell[5]; exit }
  ' "$work/swift.txt"
}

echo
printf '%-72s %12s  %s\n' "measurement (median)" "per second" "ratio"
for sync in full normal; do
  ref=$(p50k "SQLite reference: single-row UPDATE transactions, WAL, synchronous=$sync")
  for users in 1000 1000000; do
    got=$(p50k "SQLite verifications, $users users, synchronous=$sync")
    printf '%-72s %12s  %s\n' "SQLite verifications, $users users, synchronous=$sync" "${got}K" \
      "$(awk -v a="$got" -v b="$ref" 'BEGIN { if (b > 0) printf "%.2fx the bare UPDATE rate (target >= 0.5x)", a / b }')"
  done
  printf '%-72s %12s\n' "SQLite bare single-row UPDATE transactions, synchronous=$sync" "${ref}K"
done
if [ -n "$pgbench_tps" ]; then
  for users in 1000 1000000; do
    got=$(p50k "PostgreSQL verifications, $users users, $clients clients")
    printf '%-72s %12s  %s\n' "PostgreSQL verifications, $users users, $clients clients" "${got}K" \
      "$(awk -v a="$got" -v b="$pgbench_tps" 'BEGIN { printf "%.2fx pgbench (target >= 0.5x)", a * 1000 / b }')"
  done
  printf '%-72s %12s\n' "pgbench single-row UPDATE, $clients clients" "$pgbench_tps"
fi
