#!/usr/bin/env bash
# Creates Twofold's database with two roles: an owner that migrates the schema, and a runtime
# role for the nodes that may read and write rows but change no schema and no stored audit event.
#
#   PGHOST=db.internal PGUSER=postgres provisioning/postgres/create-roles.sh [DATABASE [OWNER [RUNTIME]]]
#   TWOFOLD_STORE=postgres://twofold_owner:…@db.internal:5432/twofold twofold migrate
#   PGHOST=db.internal PGUSER=postgres provisioning/postgres/create-roles.sh [DATABASE [OWNER [RUNTIME]]]
#
# Run it, migrate as the owner, then run it again: its grants on tables are given once the schema
# exists (see "The two runs" below). Running it again at any time changes nothing but passwords
# that are given, and puts back any grant that was widened or narrowed by hand.
#
# Arguments: the database (default twofold), the owner role (default twofold_owner) and the
# runtime role (default twofold_app); lower-case names. For a database made by
# create-database.sh, pass its role as the owner (`create-roles.sh twofold twofold`): it owns the
# tables already.
#
# Connects with psql as an administrator (a superuser, or a role with CREATEROLE and CREATEDB,
# which becomes a member of the owner role: it must be one to create a database for it), configured
# the usual libpq way: PGHOST, PGPORT, PGUSER, PGPASSWORD or ~/.pgpass, PGSSLMODE, PGDATABASE (the
# database it connects to first; default postgres).
# Prints two lines on stdout, everything else going to stderr; they contain passwords, so treat
# the output as a secret:
#   TWOFOLD_STORE=postgres://OWNER:PASSWORD@HOST:PORT/DATABASE     for `twofold migrate` only
#   TWOFOLD_STORE=postgres://RUNTIME:PASSWORD@HOST:PORT/DATABASE   (the last line) for every node
# Across a network, add `?sslmode=verify-full&sslrootcert=FILE` to both (see provisioning/README.md).
#
# Environment:
#   TWOFOLD_OWNER_PASSWORD  the owner's password. Default: 32 random hex digits, generated here.
#   TWOFOLD_APP_PASSWORD    the runtime role's password. Default: likewise.
#                           When a role already exists and no password is given, its password is
#                           kept and its URL shows PASSWORD in its place.
#   TWOFOLD_DB_HOST         host and port to put in the URLs. Default: PGHOST:PGPORT (localhost:5432).
#
# What each role gets. Both: LOGIN and nothing else (no SUPERUSER, CREATEDB, CREATEROLE,
# REPLICATION or BYPASSRLS), passwords stored as SCRAM-SHA-256 verifiers (run by a superuser,
# this session turns statement logging off so that they do not reach the server log), and only
# they (and administrators) may connect to the database: CONNECT and TEMPORARY are revoked from
# PUBLIC.
# - OWNER owns the database and its schema `public`, hence every table and function the
#   migrations create (run them as this role, never as a superuser: migration 6's SECURITY
#   DEFINER functions run with their owner's rights).
# - RUNTIME owns nothing and may create nothing (no CREATE or TEMPORARY on the database, no
#   CREATE on the schema). It gets CONNECT, USAGE on the schema, and, on the schema's objects:
#     every table              SELECT, INSERT, UPDATE, DELETE (no TRUNCATE, REFERENCES, TRIGGER)
#     audit_events             SELECT, INSERT only: an event is changed or deleted only by
#                              twofold_erase_audit_user and twofold_purge_audit_shard
#     audit_shards             SELECT, INSERT, UPDATE (a head is created and moved, never deleted;
#                              SELECT … FOR UPDATE needs UPDATE)
#     schema_migrations        SELECT (a node checks that the schema is up to date when it starts;
#                              if a migration is pending it stops, saying to migrate as the owner)
#     every sequence           USAGE (audit_events.id)
#     every function           EXECUTE (the attempt batches and the two audit functions)
#   Advisory locks (users' locks, the migration lock) need no grant.
# - Default privileges: tables, sequences and functions that OWNER creates later in `public` (the
#   migrations of a later version) get the same grants, and functions are no longer executable
#   by PUBLIC. A later migration that adds an audit table needs its grant reviewed here: it would
#   get UPDATE and DELETE like any table; narrow it below, with audit_events.
#
# The two runs: the first one, on a schema without tables, creates the roles, the database and
# the schema's owner, and gives the runtime role no table at all; after `twofold migrate` as the
# owner, the second one grants on what the migrations created, narrows the audit tables and sets
# the default privileges. A node started in between stops with a message naming the grant it
# lacks, rather than run with grants wider than these.
set -euo pipefail

NAME=${1:-twofold}
OWNER=${2:-twofold_owner}
APP=${3:-twofold_app}
OWNER_PASSWORD=${TWOFOLD_OWNER_PASSWORD:-}
APP_PASSWORD=${TWOFOLD_APP_PASSWORD:-}
HOSTPORT=${TWOFOLD_DB_HOST:-}

log() { printf 'create-roles: %s\n' "$*" >&2; }
fail() { log "error: $*"; exit 1; }

[ $# -le 3 ] || fail "usage: $0 [DATABASE [OWNER [RUNTIME]]]"
command -v psql > /dev/null || fail "psql is not installed (apt-get install postgresql-client)"
identifier='^[a-z_][a-z0-9_]{0,62}$'
[[ $NAME =~ $identifier ]] || fail "database name \"$NAME\" must match $identifier"
[[ $OWNER =~ $identifier ]] || fail "owner role \"$OWNER\" must match $identifier"
[[ $APP =~ $identifier ]] || fail "runtime role \"$APP\" must match $identifier"
[ "$OWNER" != "$APP" ] || fail "the owner and the runtime role must be two roles, not both $OWNER"

psql_admin() { psql -X -q -v ON_ERROR_STOP=1 -d "${PGDATABASE:-postgres}" "$@"; }
psql_database() { psql -X -q -v ON_ERROR_STOP=1 -d "$NAME" "$@"; }

if ! facts=$(psql_admin -At -F ' ' -v owner="$OWNER" -v app="$APP" 2>&1 <<'SQL'
SELECT current_user,
       (SELECT count(*) FROM pg_roles WHERE rolname = :'owner'),
       (SELECT count(*) FROM pg_roles WHERE rolname = :'app');
SQL
); then
  fail "cannot query the server: $facts"
fi
read -r admin owner_exists app_exists <<< "$facts"
[ "$admin" != "$OWNER" ] && [ "$admin" != "$APP" ] || fail "connect as an administrator, not as $admin, one of the roles this script sets up"

generated=()
if [ -z "$OWNER_PASSWORD" ] && [ "$owner_exists" = 0 ]; then
  OWNER_PASSWORD=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
  generated+=("$OWNER")
fi
if [ -z "$APP_PASSWORD" ] && [ "$app_exists" = 0 ]; then
  APP_PASSWORD=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
  generated+=("$APP")
fi
[[ $OWNER_PASSWORD != *[$'\n\r']* ]] || fail "TWOFOLD_OWNER_PASSWORD must be one line"
[[ $APP_PASSWORD != *[$'\n\r']* ]] || fail "TWOFOLD_APP_PASSWORD must be one line"
# Passwords reach psql on standard input, never as arguments (`-v password=…`), which every user
# of the machine can read in the process list: psql strings, quotes doubled and backslashes escaped.
quote() { local q=${1//\\/\\\\}; printf '%s' "${q//\'/\'\'}"; }

log "creating roles $OWNER and $APP and database $NAME (existing ones are kept)"
{ printf "\\\\set owner_password '%s'\\n\\\\set app_password '%s'\\n" "$(quote "$OWNER_PASSWORD")" "$(quote "$APP_PASSWORD")"
  cat <<'SQL'
-- Only a superuser may turn statement logging off for the session.
SELECT 'SET log_statement = ''none''' WHERE current_setting('is_superuser') = 'on' \gexec
SET password_encryption = 'scram-sha-256';
-- The owner INHERITs the rights of pg_database_owner (which owns `public` until it does), as the
-- database's owner; it is a member of no other role.
SELECT format('CREATE ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS %s', r, i)
FROM (VALUES (:'owner', 'INHERIT'), (:'app', 'NOINHERIT')) AS x (r, i) WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = r) \gexec
SELECT format('ALTER ROLE %I LOGIN NOCREATEDB NOCREATEROLE %s', r, i) FROM (VALUES (:'owner', 'INHERIT'), (:'app', 'NOINHERIT')) AS x (r, i) \gexec
-- Only a superuser may change these three (even to turn them off): asked only when one is on.
SELECT format('ALTER ROLE %I NOSUPERUSER NOREPLICATION NOBYPASSRLS', rolname) FROM pg_roles
WHERE rolname IN (:'owner', :'app') AND (rolsuper OR rolreplication OR rolbypassrls) \gexec
SELECT format('ALTER ROLE %I PASSWORD %L', :'owner', :'owner_password') WHERE :'owner_password' <> '' \gexec
SELECT format('ALTER ROLE %I PASSWORD %L', :'app', :'app_password') WHERE :'app_password' <> '' \gexec
-- The runtime role is a member of no role (it would get that role's rights).
SELECT format('REVOKE %I FROM %I', r.rolname, :'app') FROM pg_auth_members AS m
JOIN pg_roles AS r ON r.oid = m.roleid WHERE m.member = (SELECT oid FROM pg_roles WHERE rolname = :'app') \gexec
-- An administrator that is no superuser acts for the owner as one of its members.
SELECT format('GRANT %I TO %I', :'owner', current_user)
WHERE NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AND NOT pg_has_role(current_user, :'owner', 'MEMBER') \gexec
SELECT format('CREATE DATABASE %I OWNER %I ENCODING %L TEMPLATE template0', :'db', :'owner', 'UTF8')
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'db') \gexec
SELECT format('ALTER DATABASE %I OWNER TO %I', :'db', :'owner') \gexec
SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC, %I', :'db', :'app') \gexec
SELECT format('GRANT CONNECT ON DATABASE %I TO %I', :'db', :'app') \gexec
SQL
} | psql_admin -v owner="$OWNER" -v app="$APP" -v db="$NAME"

# Inside the database. Tables someone else owns would keep the owner from granting on them.
strangers=$(psql_database -At -v owner="$OWNER" <<'SQL'
SELECT string_agg(format('%s (owned by %s)', c.relname, pg_get_userbyid(c.relowner)), ', ' ORDER BY c.relname)
FROM pg_class AS c WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
  AND pg_get_userbyid(c.relowner) <> :'owner';
SQL
)
[ -z "$strangers" ] || fail "in $NAME, $strangers: the owner role must own every table; pass that role as the owner, or give them to $OWNER (REASSIGN OWNED)"

migrated=$(psql_database -At <<'SQL'
SELECT to_regclass('public.schema_migrations') IS NOT NULL;
SQL
)

psql_database -v owner="$OWNER" -v app="$APP" -v migrated="$migrated" <<'SQL'
-- The owner role owns the schema: given by a superuser, or else by the owner itself, which as
-- the database's owner owns `public` from PostgreSQL 15 on (pg_database_owner does).
SELECT format('ALTER SCHEMA public OWNER TO %I', :'owner') WHERE current_setting('is_superuser') = 'on' \gexec
SELECT format('SET ROLE %I', :'owner') \gexec
SELECT format('ALTER SCHEMA public OWNER TO %I', :'owner')
WHERE (SELECT nspowner FROM pg_namespace WHERE nspname = 'public') <> (SELECT oid FROM pg_roles WHERE rolname = :'owner') \gexec
-- Nobody else may create objects in the schema (the default from PostgreSQL 15 on; older
-- servers let every role do so).
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
SELECT format('REVOKE CREATE ON SCHEMA public FROM %I', :'app') \gexec
SELECT format('GRANT USAGE ON SCHEMA public TO %I', :'app') \gexec
-- Every grant on existing objects is given anew, so that one widened by hand goes.
SELECT format('REVOKE ALL ON ALL TABLES IN SCHEMA public FROM %I', :'app') \gexec
SELECT format('REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM %I', :'app') \gexec
SELECT format('REVOKE ALL ON ALL FUNCTIONS IN SCHEMA public FROM %I', :'app') \gexec
SELECT format('ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA public REVOKE ALL ON TABLES FROM %I', :'owner', :'app') \gexec
SELECT format('ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA public REVOKE ALL ON SEQUENCES FROM %I', :'owner', :'app') \gexec
SELECT format('ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA public REVOKE ALL ON FUNCTIONS FROM %I', :'owner', :'app') \gexec
SELECT format('ALTER DEFAULT PRIVILEGES FOR ROLE %I REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC', :'owner') \gexec

-- Once migrated (else the default privileges would give the first migration's audit tables in full).
\if :migrated
SELECT format('GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO %I', :'app') \gexec
-- The audit tables. An audit table added by a later migration belongs here too.
SELECT format('REVOKE UPDATE, DELETE ON public.audit_events FROM %I', :'app') WHERE to_regclass('public.audit_events') IS NOT NULL \gexec
SELECT format('REVOKE DELETE ON public.audit_shards FROM %I', :'app') WHERE to_regclass('public.audit_shards') IS NOT NULL \gexec
SELECT format('REVOKE INSERT, UPDATE, DELETE ON public.schema_migrations FROM %I', :'app') \gexec
SELECT format('GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO %I', :'app') \gexec
SELECT format('GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO %I', :'app') \gexec
SELECT format('ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO %I', :'owner', :'app') \gexec
SELECT format('ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA public GRANT USAGE ON SEQUENCES TO %I', :'owner', :'app') \gexec
SELECT format('ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA public GRANT EXECUTE ON FUNCTIONS TO %I', :'owner', :'app') \gexec
\endif
RESET ROLE;
SQL

if [ "$migrated" != t ]; then
  log "the schema has no tables yet, so $APP may use none: run \`twofold migrate\` with the first TWOFOLD_STORE line (the owner's), then run this script again to grant $APP its rights"
fi

if [ -z "$HOSTPORT" ]; then
  host=${PGHOST:-localhost}
  # A socket folder is no host for a URL.
  [[ $host == /* ]] && host=localhost
  HOSTPORT="$host:${PGPORT:-5432}"
fi
# Percent-encodes a password for a URL (RFC 3986 unreserved characters pass as they are).
encode() {
  local text=$1 encoded="" c hex i
  for (( i = 0; i < ${#text}; i++ )); do
    c=${text:i:1}
    case $c in
      [A-Za-z0-9._~-]) encoded+=$c ;;
      *) printf -v hex '%%%02X' "'$c"; encoded+=$hex ;;
    esac
  done
  printf '%s' "$encoded"
}
LC_ALL=C
shown() {
  if [ -n "$2" ]; then encode "$2"; else
    log "role $1 existed and no password was given for it: its password is unchanged"
    printf PASSWORD
  fi
}
owner_shown=$(shown "$OWNER" "$OWNER_PASSWORD")
app_shown=$(shown "$APP" "$APP_PASSWORD")
for role in "${generated[@]}"; do
  log "generated a password for $role; it is in its TWOFOLD_STORE line, and shown only once"
done
log "first line: the owner's, for \`twofold migrate\` only (keep it off the nodes); last line: for every node's configuration file (mode 0600); across a network, append ?sslmode=verify-full&sslrootcert=FILE to both"
printf 'TWOFOLD_STORE=postgres://%s:%s@%s/%s\n' "$OWNER" "$owner_shown" "$HOSTPORT" "$NAME"
printf 'TWOFOLD_STORE=postgres://%s:%s@%s/%s\n' "$APP" "$app_shown" "$HOSTPORT" "$NAME"
