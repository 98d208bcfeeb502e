#!/usr/bin/env bash
# Stops a server started by start-throwaway.sh and deletes its folder.
#
#   provisioning/postgres/stop-throwaway.sh DIR
#
# DIR is the folder start-throwaway.sh reported (its TWOFOLD_PG_DIR). Refuses a folder that
# start-throwaway.sh did not make. Stopping a server that no longer runs is not an error.
set -euo pipefail

PG_BIN=/usr/lib/postgresql/15/bin
MARKER=.twofold-throwaway

log() { printf 'stop-throwaway: %s\n' "$*" >&2; }
fail() { log "error: $*"; exit 1; }

[ $# -eq 1 ] || fail "usage: $0 DIR"
DIR=$1
[ -d "$DIR" ] || { log "$DIR does not exist; nothing to stop"; exit 0; }
[ -e "$DIR/$MARKER" ] || fail "$DIR was not made by start-throwaway.sh; refusing to delete it"

if [ -s "$DIR/data/PG_VERSION" ]; then
  if [ "$(id -u)" -eq 0 ]; then
    as_owner() { su postgres -s /bin/sh -c 'exec "$0" "$@"' -- "$@"; }
  else
    as_owner() { "$@"; }
  fi
  if as_owner "$PG_BIN/pg_ctl" -D "$DIR/data" status > /dev/null 2>&1; then
    log "stopping the server in $DIR/data"
    as_owner "$PG_BIN/pg_ctl" -D "$DIR/data" -m fast -w -t 60 stop > /dev/null
  fi
fi
rm -rf -- "$DIR"
log "removed $DIR"
