#!/usr/bin/env bash
# Starts a throwaway PostgreSQL 15 server on loopback for tests and CI, and prints its URL.
#
#   provisioning/postgres/start-throwaway.sh [PORT]
#
# The URL, postgres://twofold:PASSWORD@127.0.0.1:PORT/twofold, is the LAST line on stdout;
# everything else goes to stderr, so `url=$(provisioning/postgres/start-throwaway.sh | tail -n 1)`
# works. Stop it with `provisioning/postgres/stop-throwaway.sh DIR`.
#
# Environment:
#   TWOFOLD_PG_DIR       folder holding the cluster (data/, socket/, server.log, url, password,
#                        port); created if missing. Default: a new folder from mktemp under /tmp.
#   TWOFOLD_PG_PORT      TCP port on 127.0.0.1 (the PORT argument wins). Default: the port this
#                        folder's cluster used last, if free, else the first free one from 54329
#                        to 54428. A port given explicitly must be free.
#   TWOFOLD_PG_PASSWORD  password of the role `twofold` (A-Z a-z 0-9 . _ ~ -). Default: random,
#                        kept in DIR/password for the next run.
#   TWOFOLD_PG_DURABLE   set to 1 to keep fsync on. Default: off, as a throwaway needs no durability.
#                        Applies to each start: a stopped cluster can be started again with the
#                        other setting (the store benchmark seeds without fsync, measures with it).
#                        and tests run faster without it.
#   TWOFOLD_PG_SHARED_BUFFERS  PostgreSQL's own cache (`shared_buffers`, e.g. 2GB) for this start.
#                        Default: PostgreSQL's 128MB. The store benchmark sizes it to hold its
#                        million-user database, as a deployment of that size would.
#
# What it sets up: a cluster listening on 127.0.0.1 only, a Unix socket in DIR/socket (mode 0700,
# where the superuser `postgres` connects without a password), TCP logins by SCRAM-SHA-256 only,
# and a role `twofold` owning a database `twofold`. The role may also CREATEDB and CREATEROLE, so
# that tests can make a fresh database each, and the roles of create-roles.sh; production uses
# create-database.sh or create-roles.sh, which grant no such thing.
#
# Idempotent: run again with the same TWOFOLD_PG_DIR, it starts the cluster if it is stopped and
# prints the same URL. As root (initdb refuses root) the server runs as the `postgres` user, and
# postgresql-15 is installed with apt-get when missing; as another user it runs as that user.
set -euo pipefail

PG_BIN=/usr/lib/postgresql/15/bin
PORT=${1:-${TWOFOLD_PG_PORT:-}}
DIR=${TWOFOLD_PG_DIR:-}
MARKER=.twofold-throwaway

log() { printf 'start-throwaway: %s\n' "$*" >&2; }
fail() { log "error: $*"; exit 1; }

if [ -n "$PORT" ]; then
  [[ $PORT =~ ^[0-9]+$ ]] && (( PORT > 0 && PORT < 65536 )) || fail "port \"$PORT\" is not a TCP port number"
fi
# Whether anything accepts TCP connections on 127.0.0.1:$1.
port_taken() { (exec 3<> "/dev/tcp/127.0.0.1/$1") 2> /dev/null; }

if [ ! -x "$PG_BIN/initdb" ]; then
  if [ "$(id -u)" -eq 0 ]; then
    log "installing postgresql-15"
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql-15 >&2
  else
    fail "PostgreSQL 15 is not installed at $PG_BIN: run 'apt-get install postgresql-15' as root"
  fi
fi

# The user the server runs as: `postgres` when we are root, else ourselves.
if [ "$(id -u)" -eq 0 ]; then
  OWNER=postgres
  id "$OWNER" > /dev/null 2>&1 || fail "user postgres is missing (the postgresql-15 package creates it)"
  as_owner() { su "$OWNER" -s /bin/sh -c 'exec "$0" "$@"' -- "$@"; }
else
  OWNER=$(id -un)
  as_owner() { "$@"; }
fi

if [ -z "$DIR" ]; then
  DIR=$(mktemp -d /tmp/twofold-pg.XXXXXX)
fi
mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)
if [ -n "$(ls -A "$DIR")" ] && [ ! -e "$DIR/$MARKER" ]; then
  fail "$DIR is not empty and was not made by this script; choose another TWOFOLD_PG_DIR"
fi
touch "$DIR/$MARKER"
mkdir -p "$DIR/socket"
chmod 0700 "$DIR" "$DIR/socket"
if [ "$(id -u)" -eq 0 ]; then chown -R "$OWNER:" "$DIR"; fi
as_owner test -w "$DIR" || fail "user $OWNER cannot write to $DIR (is a parent folder private?)"

DATA=$DIR/data
SOCKET=$DIR/socket
psql_admin() { as_owner "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$SOCKET" -p "$PORT" -U postgres -d postgres "$@"; }

if [ -n "$PORT" ] && [ ! -e "$DATA/postmaster.pid" ] && port_taken "$PORT"; then
  fail "something already listens on 127.0.0.1:$PORT; pass another port"
fi

if [ ! -s "$DATA/PG_VERSION" ]; then
  log "initialising a cluster in $DATA"
  as_owner "$PG_BIN/initdb" -D "$DATA" -U postgres -E UTF8 --locale=C.UTF-8 \
    --auth-local=trust --auth-host=scram-sha-256 > "$DIR/initdb.log" 2>&1 \
    || { cat "$DIR/initdb.log" >&2; fail "initdb failed"; }
  fsync=off
  if [ "${TWOFOLD_PG_DURABLE:-0}" = 1 ]; then fsync=on; fi
  cat >> "$DATA/postgresql.conf" <<EOF

# Written by provisioning/postgres/start-throwaway.sh: loopback only, for tests.
listen_addresses = '127.0.0.1'
unix_socket_directories = '$SOCKET'
unix_socket_permissions = 0700
password_encryption = 'scram-sha-256'
max_connections = 500
fsync = $fsync
synchronous_commit = $fsync
full_page_writes = $fsync
EOF
  # Only loopback TCP logins, with a password; local socket logins are the owner's (mode 0700).
  cat > "$DATA/pg_hba.conf" <<EOF
local all all               trust
host  all all 127.0.0.1/32 scram-sha-256
EOF
  if [ "$(id -u)" -eq 0 ]; then chown "$OWNER:" "$DATA/postgresql.conf" "$DATA/pg_hba.conf"; fi
fi

# The port is passed on the command line, so it may differ from one run to the next.
if as_owner "$PG_BIN/pg_ctl" -D "$DATA" status > /dev/null 2>&1; then
  running_port=$(sed -n '4p' "$DATA/postmaster.pid")
  log "already running on port $running_port ($DATA)"
  [ -z "$PORT" ] || [ "$running_port" = "$PORT" ] || fail "the cluster in $DIR already runs on port $running_port, not $PORT"
  PORT=$running_port
else
  if [ -n "$PORT" ]; then
    ! port_taken "$PORT" || fail "something already listens on 127.0.0.1:$PORT; pass another port"
  else
    last=$(cat "$DIR/port" 2> /dev/null || true)
    if [ -n "$last" ] && ! port_taken "$last"; then
      PORT=$last
    else
      for candidate in $(seq 54329 54428); do
        if ! port_taken "$candidate"; then PORT=$candidate; break; fi
      done
      [ -n "$PORT" ] || fail "no free port from 54329 to 54428; pass one"
    fi
  fi
  log "starting on 127.0.0.1:$PORT"
  # Durability as asked for this start (the file's setting is that of the first start).
  durable=off
  if [ "${TWOFOLD_PG_DURABLE:-0}" = 1 ]; then durable=on; fi
  buffers=""
  if [ -n "${TWOFOLD_PG_SHARED_BUFFERS:-}" ]; then
    [[ "$TWOFOLD_PG_SHARED_BUFFERS" =~ ^[0-9]+(kB|MB|GB)$ ]] \
      || fail "TWOFOLD_PG_SHARED_BUFFERS must be a size such as 512MB or 2GB, not '$TWOFOLD_PG_SHARED_BUFFERS'"
    buffers="-c shared_buffers=$TWOFOLD_PG_SHARED_BUFFERS"
  fi
  as_owner "$PG_BIN/pg_ctl" -D "$DATA" -l "$DIR/server.log" \
    -o "-p $PORT -c fsync=$durable -c synchronous_commit=$durable -c full_page_writes=$durable $buffers" -w -t 60 start > /dev/null \
    || { tail -n 20 "$DIR/server.log" >&2; fail "the server did not start"; }
fi
printf '%s\n' "$PORT" > "$DIR/port"

for _ in $(seq 1 60); do
  "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT" && break
  sleep 0.5
done
"$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT" || fail "the server does not accept connections on 127.0.0.1:$PORT"

# The password stays the same across runs: it is kept in DIR/password (mode 0600).
if [ -n "${TWOFOLD_PG_PASSWORD:-}" ]; then
  password=$TWOFOLD_PG_PASSWORD
elif [ -s "$DIR/password" ]; then
  password=$(cat "$DIR/password")
else
  password=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
fi
[[ $password =~ ^[A-Za-z0-9._~-]+$ ]] || fail "TWOFOLD_PG_PASSWORD may hold only A-Z a-z 0-9 . _ ~ - (it goes into a URL unescaped)"
( umask 077; printf '%s\n' "$password" > "$DIR/password" )

# The password reaches psql on standard input, never as an argument (`-v password=…`), which
# every user of the machine can read in the process list; its characters need no quoting.
{ printf "\\\\set password '%s'\\n" "$password"; cat <<'SQL'
SET log_statement = 'none';
SELECT format('CREATE ROLE twofold LOGIN CREATEDB CREATEROLE PASSWORD %L', :'password')
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'twofold') \gexec
SELECT format('ALTER ROLE twofold LOGIN CREATEDB CREATEROLE PASSWORD %L', :'password') \gexec
SELECT 'CREATE DATABASE twofold OWNER twofold'
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'twofold') \gexec
SQL
} | psql_admin

url="postgres://twofold:$password@127.0.0.1:$PORT/twofold"
( umask 077; printf '%s\n' "$url" > "$DIR/url" )
if [ "$(id -u)" -eq 0 ]; then chown "$OWNER:" "$DIR/password" "$DIR/url" "$DIR/port"; fi
log "ready; folder $DIR (stop with provisioning/postgres/stop-throwaway.sh $DIR)"
printf '%s\n' "$url"
