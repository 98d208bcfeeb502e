#!/usr/bin/env bash
# Creates Twofold's role and database on an existing PostgreSQL server, with least privilege.
#
#   PGHOST=db.internal PGUSER=postgres provisioning/postgres/create-database.sh
#
# Connects with psql as an administrator (a superuser, or a role with CREATEROLE and CREATEDB),
# configured the usual libpq way: PGHOST, PGPORT, PGUSER, PGPASSWORD or ~/.pgpass, PGSSLMODE.
# Prints the line to put in Twofold's configuration (/etc/twofold/twofold.env) as the LAST line
# on stdout, `TWOFOLD_STORE=postgres://ROLE:PASSWORD@HOST:PORT/DATABASE` (everything else goes to
# stderr); it contains the password, so treat the output as a secret. Across a network, add
# `?sslmode=verify-full&sslrootcert=FILE` to the URL (see provisioning/README.md).
#
# Environment:
#   TWOFOLD_DB_NAME      database to create. Default: twofold.
#   TWOFOLD_DB_USER      role to create. Default: twofold.
#   TWOFOLD_DB_PASSWORD  the role's password. Default: 32 random hex digits, generated here. When
#                        the role already exists and no password is given, its password is kept
#                        and the URL shows PASSWORD in its place.
#   TWOFOLD_DB_HOST      host and port to put in the URL. Default: PGHOST:PGPORT (localhost:5432).
#
# What the role gets: LOGIN and nothing else (no SUPERUSER, CREATEDB, CREATEROLE, REPLICATION or
# BYPASSRLS); it owns its database, so Twofold's migrations can create tables in it, and only it
# (and administrators) may connect to that database: CONNECT is revoked from PUBLIC. The password
# is stored as a SCRAM-SHA-256 verifier, and this session turns statement logging off so that it
# does not reach the server log. Running it again changes nothing but the password, if one is given.
set -euo pipefail

NAME=${TWOFOLD_DB_NAME:-twofold}
ROLE=${TWOFOLD_DB_USER:-twofold}
PASSWORD=${TWOFOLD_DB_PASSWORD:-}
HOSTPORT=${TWOFOLD_DB_HOST:-}

log() { printf 'create-database: %s\n' "$*" >&2; }
fail() { log "error: $*"; exit 1; }

command -v psql > /dev/null || fail "psql is not installed (apt-get install postgresql-client)"
identifier='^[a-z_][a-z0-9_]{0,62}$'
[[ $NAME =~ $identifier ]] || fail "database name \"$NAME\" must match $identifier"
[[ $ROLE =~ $identifier ]] || fail "role name \"$ROLE\" must match $identifier"

psql_admin() { psql -X -q -v ON_ERROR_STOP=1 -d "${PGDATABASE:-postgres}" "$@"; }

if ! role_exists=$(psql_admin -At -v role="$ROLE" 2>&1 <<'SQL'
SELECT count(*) FROM pg_roles WHERE rolname = :'role';
SQL
); then
  fail "cannot query the server: $role_exists"
fi

generated=0
if [ -z "$PASSWORD" ] && [ "$role_exists" = 0 ]; then
  PASSWORD=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
  generated=1
fi

[[ $PASSWORD != *[$'\n\r']* ]] || fail "TWOFOLD_DB_PASSWORD must be one line"
# The password reaches psql on standard input, never as an argument (`-v password=…`), which
# every user of the machine can read in the process list: a psql string, quotes doubled and
# backslashes escaped.
quoted=${PASSWORD//\\/\\\\}
quoted=${quoted//\'/\'\'}

log "creating role $ROLE and database $NAME (existing ones are kept)"
{ printf "\\\\set password '%s'\\n" "$quoted"; cat <<'SQL'
SET log_statement = 'none';
SET password_encryption = 'scram-sha-256';
SELECT format('CREATE ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS NOINHERIT', :'role')
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'role') \gexec
SELECT format('ALTER ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS NOINHERIT', :'role') \gexec
SELECT format('ALTER ROLE %I PASSWORD %L', :'role', :'password') WHERE :'password' <> '' \gexec
SELECT format('CREATE DATABASE %I OWNER %I ENCODING %L TEMPLATE template0', :'db', :'role', 'UTF8')
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'db') \gexec
SELECT format('ALTER DATABASE %I OWNER TO %I', :'db', :'role') \gexec
SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', :'db') \gexec
SELECT format('GRANT CONNECT, TEMPORARY ON DATABASE %I TO %I', :'db', :'role') \gexec
SQL
} | psql_admin -v role="$ROLE" -v db="$NAME"

# Inside the database: nobody else may create objects in its public schema (the default from
# PostgreSQL 15 on; older servers let every role do so), and the role owns that schema.
psql -X -q -v ON_ERROR_STOP=1 -d "$NAME" -v role="$ROLE" <<'SQL'
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
SELECT format('ALTER SCHEMA public OWNER TO %I', :'role') \gexec
SQL

if [ -z "$HOSTPORT" ]; then
  host=${PGHOST:-localhost}
  # A socket folder is no host for a URL.
  [[ $host == /* ]] && host=localhost
  HOSTPORT="$host:${PGPORT:-5432}"
fi
shown_password=$PASSWORD
if [ -z "$shown_password" ]; then
  shown_password=PASSWORD
  log "role $ROLE existed and no TWOFOLD_DB_PASSWORD was given: its password is unchanged"
elif [ "$generated" = 1 ]; then
  log "generated a password for $ROLE; it is in the TWOFOLD_STORE line, and shown only once"
fi
# Percent-encode the password for the URL (RFC 3986 unreserved characters pass as they are).
encoded=""
LC_ALL=C
for (( i = 0; i < ${#shown_password}; i++ )); do
  c=${shown_password:i:1}
  case $c in
    [A-Za-z0-9._~-]) encoded+=$c ;;
    *) printf -v hex '%%%02X' "'$c"; encoded+=$hex ;;
  esac
done
log "put the TWOFOLD_STORE line printed last in every node's configuration file (mode 0600); across a network, append ?sslmode=verify-full&sslrootcert=FILE to the URL"
printf 'TWOFOLD_STORE=postgres://%s:%s@%s/%s\n' "$ROLE" "$encoded" "$HOSTPORT" "$NAME"
