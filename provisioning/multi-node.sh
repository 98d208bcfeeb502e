#!/usr/bin/env bash
# Several Twofold nodes on one PostgreSQL behind nginx, on loopback: for CI and for trying a
# multi-node deployment on one machine.
#
#   provisioning/multi-node.sh up      start PostgreSQL, two `twofold serve` nodes and nginx
#   provisioning/multi-node.sh test    run the end-to-end checks (alone: up, test, down)
#   provisioning/multi-node.sh down    stop everything and delete the state folder
#
# `up` starts a throwaway PostgreSQL (provisioning/postgres/start-throwaway.sh), writes a master
# key with `twofold keys generate`, runs `twofold migrate` and creates an API key with
# `twofold apikey create`, then starts two nodes with TWOFOLD_ENV=production on free loopback
# ports, sharing the PostgreSQL URL and the master key but each with its own TWOFOLD_DATA_DIR,
# and nginx as an unprivileged round-robin front on a third port. Everything listens on
# 127.0.0.1 only.
#
# `test` checks, against the state `up` left (or, when nothing is up, against a deployment it
# starts and stops itself):
#   - a TOTP factor enrolled and activated through node 1 verifies through node 2 (allow);
#   - that code replayed through node 1, node 2 and the front is denied as `replayed`;
#   - one fresh code sent to both nodes at the same moment is allowed exactly once;
#   - requests through the front reach both nodes (each node's log and /metrics show them);
#   - after `twofold factors reset USER --yes` run by the CLI against the same PostgreSQL, both
#     nodes and the front answer `no_factors` at once;
#   - `twofold audit verify` passes over what both nodes wrote;
#   - when it stops the deployment itself: both nodes exit cleanly on SIGTERM.
#
# The last line printed says how the command ended: `multi-node: PASS` or `multi-node: FAIL` for
# `test` (PASS only when every check above ran and passed), `multi-node: up` or `multi-node: down`
# for the others, and `multi-node: FAIL` when they fail; the exit status is non-zero on failure.
# A failed `up` or `test` tears down whatever it started.
#
# Environment:
#   TWOFOLD_BIN        the twofold executable. Default: .build/release/twofold, what
#                      `swift build -c release` makes; after a debug build (`swift build`, as CI
#                      does), set TWOFOLD_BIN=.build/debug/twofold.
#   TWOFOLD_MULTI_DIR  the state folder (keys, logs, nginx files, PostgreSQL cluster, pids).
#                      Default: /tmp/twofold-multi. `down` deletes it, and refuses a folder
#                      that `up` did not make.
#   TWOFOLD_MULTI_WAIT seconds to wait for each server to become ready. Default: 60.
#   TWOFOLD_MULTI_KEEP_LOGS  set to 1 to keep DIR (logs included) when something did not stop
#                      cleanly. Default: DIR is always deleted.
#
# After `up`, DIR/multi.env (mode 0600) holds NODE1_URL, NODE2_URL, FRONT_URL, API_KEY_FILE,
# MASTER_KEY_FILE and STORE_URL, for `. DIR/multi.env` in a shell.
#
# Needs: curl, python3 with pyotp (for `test`), nginx, PostgreSQL 15 (postgresql-15 and
# postgresql-client-15). As root, nginx and PostgreSQL are installed with apt-get when missing;
# nginx and PostgreSQL then run as the unprivileged users nobody and postgres.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

BIN=${TWOFOLD_BIN:-.build/release/twofold}
[[ $BIN == /* ]] || BIN=$ROOT/$BIN
DIR=${TWOFOLD_MULTI_DIR:-/tmp/twofold-multi}
WAIT=${TWOFOLD_MULTI_WAIT:-60}
MARKER=.twofold-multi
NAME=multi-node

log() { printf '%s: %s\n' "$NAME" "$*" >&2; }

# Stops the script: the EXIT trap of the command running tears down what it owns.
fail() {
  log "FAIL: $*"
  exit 1
}

# `env` arguments that drop every TWOFOLD_* setting of the caller's environment, so that only
# the settings given here reach the nodes and the CLI.
CLEAN_ENV=()
for name in $(compgen -e); do
  case $name in TWOFOLD_*) CLEAN_ENV+=(-u "$name") ;; esac
done

# The admin CLI against the shared store, as an operator would run it on any node.
cli() {
  env "${CLEAN_ENV[@]}" \
    TWOFOLD_ENV=production \
    TWOFOLD_STORE="$(cat "$DIR/store-url")" \
    TWOFOLD_MASTER_KEY_FILE="$DIR/master.key" \
    TWOFOLD_DATA_DIR="$DIR/cli" \
    timeout 120 "$BIN" "$@"
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# Whether PID is alive and is what we started, not a process that reused its number: nginx's
# command line names its configuration file; a node's environment names its data folder (its
# command line may be a wrapper's that exec'd the binary).
pid_runs() {
  local pid=$1 what=$2
  [ -n "$pid" ] && kill -0 "$pid" 2> /dev/null || return 1
  case $what in
    nginx) tr '\0' ' ' < "/proc/$pid/cmdline" 2> /dev/null | grep -qF -- "$DIR/nginx/nginx.conf" ;;
    node*) tr '\0' '\n' < "/proc/$pid/environ" 2> /dev/null | grep -qxF -- "TWOFOLD_DATA_DIR=$DIR/$what" ;;
    *) return 1 ;;
  esac
}

# Waits until URL answers 2xx, or until PID dies or WAIT seconds pass. Returns non-zero then.
wait_ready() {
  local url=$1 pid=$2 what=$3
  local deadline=$((SECONDS + WAIT))
  until curl -fsS -m 2 -o /dev/null "$url" 2> /dev/null; do
    if [ -n "$pid" ] && ! kill -0 "$pid" 2> /dev/null; then
      log "$what exited before it was ready"
      return 1
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      log "$what was not ready within ${WAIT} s"
      return 1
    fi
    sleep 0.2
  done
}

# Sends SIGTERM (or SIG) to PID if it is still WHAT (see pid_runs), and waits up to SECS for it
# to go; SIGKILL after that. Returns 1 if it had to be killed.
stop_pid() {
  local pid=$1 what=$2 secs=$3 signal=${4:-TERM}
  pid_runs "$pid" "$what" || return 0
  kill "-$signal" "$pid" 2> /dev/null || return 0
  local deadline=$((SECONDS + secs))
  while kill -0 "$pid" 2> /dev/null; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      log "pid $pid did not stop within $secs s of SIG$signal; killing it"
      kill -KILL "$pid" 2> /dev/null || true
      return 1
    fi
    sleep 0.1
  done
}

ensure_tools() {
  command -v curl > /dev/null || fail "curl is missing (apt-get install curl)"
  command -v python3 > /dev/null || fail "python3 is missing"
  [ -x "$BIN" ] || fail "no executable at $BIN: build it with 'swift build -c release', or set TWOFOLD_BIN to a twofold binary (TWOFOLD_BIN=.build/debug/twofold after 'swift build')"
  if ! command -v nginx > /dev/null && ! [ -x /usr/sbin/nginx ]; then
    [ "$(id -u)" -eq 0 ] || fail "nginx is missing: run 'apt-get install nginx' as root"
    log "installing nginx"
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nginx > /dev/null
  fi
  NGINX=$(command -v nginx || echo /usr/sbin/nginx)
}

# --- up ----------------------------------------------------------------------------------------

start_node() {
  local n=$1 attempt port pid
  [ -d "$DIR/node$n" ] || mkdir -m 0700 "$DIR/node$n"
  for attempt in 1 2 3; do
    port=$(free_port)
    # A simple command in the background: env and nohup exec, so $! is the node's own pid.
    env "${CLEAN_ENV[@]}" \
      TWOFOLD_ENV=production \
      TWOFOLD_LISTEN="127.0.0.1:$port" \
      TWOFOLD_STORE="$(cat "$DIR/store-url")" \
      TWOFOLD_MASTER_KEY_FILE="$DIR/master.key" \
      TWOFOLD_DATA_DIR="$DIR/node$n" \
      TWOFOLD_LOG_FORMAT=json \
      TWOFOLD_LOG_LEVEL=info \
      nohup "$BIN" serve > "$DIR/node$n.log" 2>&1 < /dev/null &
    pid=$!
    printf '%s\n' "$pid" > "$DIR/node$n.pid"
    printf '%s\n' "$port" > "$DIR/node$n.port"
    if wait_ready "http://127.0.0.1:$port/readyz" "$pid" "node $n (port $port)"; then
      log "node $n ready at http://127.0.0.1:$port (pid $pid)"
      return 0
    fi
    stop_pid "$pid" "node$n" 5 || true
    # A port taken between choosing and binding is worth another try; anything else is not.
    grep -qiE 'address already in use|EADDRINUSE' "$DIR/node$n.log" || break
    log "port $port was taken; trying another (attempt $attempt)"
  done
  tail -n 20 "$DIR/node$n.log" >&2
  return 1
}

write_nginx_conf() {
  local front=$1 p1 p2
  p1=$(cat "$DIR/node1.port")
  p2=$(cat "$DIR/node2.port")
  local d=$DIR/nginx
  cat > "$d/nginx.conf" <<EOF
# Written by provisioning/multi-node.sh: a round-robin front for two Twofold nodes, on loopback.
daemon on;
worker_processes 1;
pid $d/nginx.pid;
error_log $d/error.log warn;

events {
    worker_connections 256;
}

http {
    # The caller's X-Request-Id, or one made here: the node logs it with every line.
    map \$http_x_request_id \$twofold_request_id {
        "" \$request_id;
        default \$http_x_request_id;
    }
    log_format upstream '\$remote_addr [\$time_local] "\$request" \$status '
                        'upstream=\$upstream_addr request_id=\$twofold_request_id';
    access_log $d/access.log upstream;
    client_body_temp_path $d/tmp/body;
    proxy_temp_path $d/tmp/proxy;
    fastcgi_temp_path $d/tmp/fastcgi;
    uwsgi_temp_path $d/tmp/uwsgi;
    scgi_temp_path $d/tmp/scgi;

    upstream twofold {
        # Round robin (nginx's default). A node that refuses connections is skipped for 10 s.
        server 127.0.0.1:$p1 max_fails=1 fail_timeout=10s;
        server 127.0.0.1:$p2 max_fails=1 fail_timeout=10s;
        keepalive 16;
    }

    server {
        listen 127.0.0.1:$front;
        client_max_body_size 64k;

        location / {
            proxy_pass http://twofold;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host \$host;
            proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto \$scheme;
            proxy_set_header X-Request-Id \$twofold_request_id;
            # Retry another node only when the request cannot have reached the first: a verify
            # is never sent twice (nginx does not retry POST once sent, and this says so).
            proxy_next_upstream error timeout;
            proxy_connect_timeout 2s;
            proxy_read_timeout 30s;
        }
    }
}
EOF
}

# Runs nginx as the current user, or as nobody when that is root.
as_nginx_user() {
  if [ "$(id -u)" -eq 0 ]; then
    setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups --inh-caps=-all --no-new-privs -- "$@"
  else
    "$@"
  fi
}

start_front() {
  local d=$DIR/nginx attempt front
  mkdir -p "$d/tmp"
  if [ "$(id -u)" -eq 0 ]; then chown -R nobody: "$d"; fi
  for attempt in 1 2 3; do
    front=$(free_port)
    write_nginx_conf "$front"
    if [ "$(id -u)" -eq 0 ]; then chown nobody: "$d/nginx.conf"; fi
    as_nginx_user "$NGINX" -q -t -p "$d" -c "$d/nginx.conf" -e "$d/error.log" >&2 \
      || fail "nginx refuses its configuration"
    if as_nginx_user "$NGINX" -p "$d" -c "$d/nginx.conf" -e "$d/error.log" >&2; then
      printf '%s\n' "$front" > "$DIR/front.port"
      local deadline=$((SECONDS + WAIT))
      until [ -s "$d/nginx.pid" ] || [ "$SECONDS" -ge "$deadline" ]; do sleep 0.1; done
      if wait_ready "http://127.0.0.1:$front/readyz" "" "nginx (port $front)"; then
        log "front (nginx) ready at http://127.0.0.1:$front (pid $(cat "$d/nginx.pid"))"
        return 0
      fi
      tail -n 20 "$d/error.log" >&2
      return 1
    fi
    grep -qi 'address already in use' "$d/error.log" 2> /dev/null || { tail -n 20 "$d/error.log" >&2; return 1; }
    log "port $front was taken; trying another (attempt $attempt)"
  done
  return 1
}

do_up() {
  ensure_tools
  if [ -e "$DIR" ] && [ -n "$(ls -A "$DIR" 2> /dev/null)" ]; then
    if [ -e "$DIR/$MARKER" ]; then
      fail "$DIR already holds a deployment: run '$0 down' first"
    fi
    fail "$DIR is not empty and was not made by this script; set TWOFOLD_MULTI_DIR to another folder"
  fi
  mkdir -p "$DIR"
  touch "$DIR/$MARKER"
  OWNED=1
  # Traversable (not readable) by the postgres and nobody users the servers run as; every
  # secret in it is a 0600 file.
  chmod 0711 "$DIR"
  mkdir -m 0700 "$DIR/cli"

  log "starting PostgreSQL"
  local url
  url=$(TWOFOLD_PG_DIR="$DIR/pg" provisioning/postgres/start-throwaway.sh | tail -n 1) \
    || fail "start-throwaway.sh failed"
  [[ $url == postgres://* ]] || fail "start-throwaway.sh printed no URL"
  ( umask 077; printf '%s\n' "$url" > "$DIR/store-url" )

  cli keys generate "$DIR/master.key" >&2 || fail "twofold keys generate failed"
  cli migrate >&2 || fail "twofold migrate failed"
  local created key
  created=$(cli apikey create --app default --scopes verify,enroll,admin --json) \
    || fail "twofold apikey create failed"
  key=$(python3 -c 'import json, sys; print(json.load(sys.stdin)["key"])' <<< "$created")
  ( umask 077; printf '%s\n' "$key" > "$DIR/api-key" )
  log "API key $(python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])' <<< "$created") in $DIR/api-key"

  start_node 1 || fail "node 1 did not start; its log is above"
  start_node 2 || fail "node 2 did not start; its log is above"
  start_front || fail "nginx did not start"

  ( umask 077
    {
      printf 'NODE1_URL=http://127.0.0.1:%s\n' "$(cat "$DIR/node1.port")"
      printf 'NODE2_URL=http://127.0.0.1:%s\n' "$(cat "$DIR/node2.port")"
      printf 'FRONT_URL=http://127.0.0.1:%s\n' "$(cat "$DIR/front.port")"
      printf 'API_KEY_FILE=%q\n' "$DIR/api-key"
      printf 'MASTER_KEY_FILE=%q\n' "$DIR/master.key"
      printf 'STORE_URL=%q\n' "$url"
    } > "$DIR/multi.env" )
  log "up: front http://127.0.0.1:$(cat "$DIR/front.port"), nodes on ports $(cat "$DIR/node1.port") and $(cat "$DIR/node2.port"); state in $DIR"
}

# --- down --------------------------------------------------------------------------------------

# Stops whatever is recorded in DIR; returns non-zero when something did not stop cleanly.
do_down() {
  local status=0 n pid
  if [ ! -e "$DIR" ]; then
    log "$DIR does not exist; nothing to stop"
    return 0
  fi
  [ -e "$DIR/$MARKER" ] || fail "$DIR was not made by this script; refusing to touch it"

  # The front first, so no request reaches a node that is stopping; QUIT lets requests finish.
  pid=$(cat "$DIR/nginx/nginx.pid" 2> /dev/null || true)
  if pid_runs "$pid" nginx; then
    log "stopping nginx (pid $pid)"
    stop_pid "$pid" nginx 15 QUIT || status=1
  fi

  for n in 1 2; do
    pid=$(cat "$DIR/node$n.pid" 2> /dev/null || true)
    if pid_runs "$pid" "node$n"; then
      log "stopping node $n (pid $pid) with SIGTERM"
      if ! stop_pid "$pid" "node$n" 40; then
        status=1
      elif ! grep -q '"server stopped"' "$DIR/node$n.log"; then
        log "node $n did not log a graceful stop"
        status=1
      fi
    elif [ -n "$pid" ]; then
      log "node $n (pid $pid) was not running"
    fi
  done

  if [ -d "$DIR/pg" ]; then
    provisioning/postgres/stop-throwaway.sh "$DIR/pg" || status=1
  fi
  if [ "$status" -ne 0 ] && [ -n "${TWOFOLD_MULTI_KEEP_LOGS:-}" ]; then
    log "keeping $DIR for inspection (TWOFOLD_MULTI_KEEP_LOGS is set)"
    return "$status"
  fi
  rm -rf -- "$DIR"
  log "removed $DIR"
  return "$status"
}

# --- test --------------------------------------------------------------------------------------

# call URL METHOD PATH [JSON] [REQUEST_ID]: prints the HTTP status; the body goes to $BODY.
# The API key (in the 0600 file $AUTH_HEADER) and the body (which may hold a code) reach curl
# through a file and standard input, never as arguments, which every user of the machine can
# read in the process list.
call() {
  local base=$1 method=$2 path=$3 data=${4:-} rid=${5:-multi-$RANDOM$RANDOM}
  local args=(-sS -m 15 -o "$BODY" -w '%{http_code}' -X "$method"
    -H "@$AUTH_HEADER" -H "X-Request-Id: $rid")
  if [ -n "$data" ]; then args+=(-H 'Content-Type: application/json' --data-binary @-); fi
  # On a connection failure curl prints 000 as the status and exits non-zero.
  printf '%s' "$data" | curl "${args[@]}" "$base$path" || true
}

# field EXPRESSION [FILE]: a Python expression over the JSON body, bound to `b`.
field() {
  python3 -c 'import json, sys; b = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "${2:-$BODY}" "$1" 2> /dev/null \
    || echo "<unreadable body>"
}

expect_status() {
  local got=$1 want=$2 what=$3
  [ "$got" = "$want" ] || fail "$what: status $got, expected $want; body: $(head -c 500 "$BODY" 2> /dev/null)"
}

# verify_as URL USER CODE EXPECTED WHAT: EXPECTED is "allow" or "deny REASON".
verify_as() {
  local base=$1 user=$2 code=$3 want=$4 what=$5 status got
  status=$(call "$base" POST "/v1/users/$user/verify" "{\"code\": \"$code\"}")
  expect_status "$status" 200 "$what"
  got=$(field 'b["result"] + ((" " + b["reason"]) if b["result"] == "deny" else "")')
  [ "$got" = "$want" ] || fail "$what: answered \"$got\", expected \"$want\"; body: $(cat "$BODY")"
  log "ok: $what -> $want"
}

# totp_at URI OFFSET: the code at now + OFFSET seconds. The URI holds the secret: it reaches
# python on standard input, never as an argument.
totp_at() { printf '%s\n' "$1" | python3 -c 'import pyotp, sys, time; print(pyotp.parse_uri(sys.stdin.readline().rstrip("\n")).at(time.time() + float(sys.argv[1])))' "$2"; }

# enroll BASE USER: enrolls and activates a TOTP factor through BASE; sets FACTOR and URI.
enroll() {
  local base=$1 user=$2 status
  status=$(call "$base" POST "/v1/users/$user/factors" '{"type": "totp", "issuer": "Twofold multi-node"}')
  expect_status "$status" 201 "enroll $user"
  FACTOR=$(field 'b["factor"]["id"]')
  URI=$(field 'b["otpauth_uri"]')
  status=$(call "$base" POST "/v1/users/$user/factors/$FACTOR/activate" "{\"code\": \"$(totp_at "$URI" 0)\"}")
  expect_status "$status" 200 "activate $user"
  [ "$(field 'b["factor"]["status"]')" = active ] || fail "the factor of $user is not active after activation: $(cat "$BODY")"
}

# The sum of twofold_http_requests_total for ROUTE in the /metrics of URL.
requests_counted() {
  local base=$1 route=$2
  curl -fsS -m 10 "$base/metrics" | python3 -c '
import re, sys
route = sys.argv[1]
total = 0
for line in sys.stdin:
    m = re.match(r"twofold_http_requests_total\{([^}]*)\} ([0-9.e+]+)$", line.strip())
    if m and f"route=\"{route}\"" in m.group(1):
        total += float(m.group(2))
print(int(total))' "$route"
}

run_tests() {
  python3 -c 'import pyotp' 2> /dev/null \
    || fail "pyotp is missing (python3 -m pip install -r Tests/Scripts/requirements.txt)"
  [ -s "$DIR/multi.env" ] || fail "$DIR/multi.env is missing: is the deployment up?"
  # shellcheck source=/dev/null
  . "$DIR/multi.env"
  AUTH_HEADER=$DIR/cli/authorization
  ( umask 077; printf 'Authorization: Bearer %s\n' "$(tr -d '\n' < "$API_KEY_FILE")" > "$AUTH_HEADER" )
  BODY=$DIR/body.json
  local n1=$NODE1_URL n2=$NODE2_URL front=$FRONT_URL
  local tag
  tag=$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')

  for url in "$n1" "$n2" "$front"; do
    curl -fsS -m 5 -o /dev/null "$url/readyz" || fail "$url/readyz does not answer"
  done
  log "ok: node 1, node 2 and the front are ready"

  # 1. Enroll through node 1, verify through node 2.
  local alice=multi-alice-$tag
  enroll "$n1" "$alice"
  log "ok: enrolled and activated $FACTOR for $alice through node 1"
  local code
  code=$(totp_at "$URI" 30)
  verify_as "$n2" "$alice" "$code" allow "verify through node 2 (enrolled through node 1)"
  [ "$(field 'b["factor_id"]')" = "$FACTOR" ] || fail "node 2 allowed with another factor: $(cat "$BODY")"

  # 2. The same code again, anywhere: replayed. Twice through the front, to meet both nodes.
  verify_as "$n1" "$alice" "$code" "deny replayed" "replay through node 1"
  verify_as "$n2" "$alice" "$code" "deny replayed" "replay through node 2"
  verify_as "$front" "$alice" "$code" "deny replayed" "replay through the front"
  verify_as "$front" "$alice" "$code" "deny replayed" "replay through the front, again"

  # 3. One fresh code at both nodes at the same moment: exactly one allow.
  local bob=multi-bob-$tag
  enroll "$front" "$bob"
  code=$(totp_at "$URI" 30)
  local payload=$DIR/cli/race-payload.json results racers=() base
  ( umask 077; printf '{"code": "%s"}' "$code" > "$payload" )
  for base in "$n1" "$n2"; do
    curl -sS -m 15 -o "$DIR/race${#racers[@]}.json" -X POST -H "@$AUTH_HEADER" \
      -H 'Content-Type: application/json' --data-binary "@$payload" "$base/v1/users/$bob/verify" &
    racers+=($!)
  done
  # Only these two: the nodes may be children of this shell too.
  wait "${racers[@]}" || true
  results=$(for n in 0 1; do field 'b["result"] + ((" " + b["reason"]) if b["result"] == "deny" else "")' "$DIR/race$n.json"; done | sort | tr '\n' ',')
  [ "$results" = "allow,deny replayed," ] || fail "one code sent to both nodes at once answered: $results (expected one allow, one replayed)"
  log "ok: one code sent to both nodes at once: allowed once, refused once as replayed"

  # 4. The front spreads requests over both nodes.
  local before1 before2 after1 after2 i
  before1=$(requests_counted "$n1" /healthz)
  before2=$(requests_counted "$n2" /healthz)
  for i in $(seq 1 8); do
    curl -fsS -m 5 -o /dev/null -H "X-Request-Id: multi-rr-$tag-$i" "$front/healthz" || fail "GET /healthz through the front failed"
  done
  after1=$(requests_counted "$n1" /healthz)
  after2=$(requests_counted "$n2" /healthz)
  (( after1 > before1 && after2 > before2 )) \
    || fail "the front did not reach both nodes: /healthz counted node 1 $before1 -> $after1, node 2 $before2 -> $after2"
  (( after1 - before1 + after2 - before2 == 8 )) \
    || fail "8 requests through the front were counted $((after1 - before1)) + $((after2 - before2)) times"
  for n in 1 2; do
    grep -q "\"request_id\":\"multi-rr-$tag-" "$DIR/node$n.log" || fail "node $n's log shows none of the front's requests"
  done
  log "ok: 8 requests through the front: node 1 served $((after1 - before1)), node 2 served $((after2 - before2)) (metrics and logs agree)"

  # 5. A reset by the CLI, on the shared store, is seen by every node at once.
  cli factors reset "$alice" --yes >&2 || fail "twofold factors reset $alice --yes failed"
  code=$(totp_at "$URI" 0)
  verify_as "$n1" "$alice" "$code" "deny no_factors" "after the CLI reset, node 1"
  verify_as "$n2" "$alice" "$code" "deny no_factors" "after the CLI reset, node 2"
  verify_as "$front" "$alice" "$code" "deny no_factors" "after the CLI reset, the front"

  # 6. Both nodes and the CLI wrote to the audit chains: they still verify.
  cli audit verify >&2 || fail "twofold audit verify failed after two nodes wrote to the log"
  log "ok: twofold audit verify passes"

  for n in 1 2; do
    pid_runs "$(cat "$DIR/node$n.pid")" "node$n" || fail "node $n no longer runs; see $DIR/node$n.log"
  done
}

# --- main --------------------------------------------------------------------------------------

# After a failure: the last lines of every server's log, before they are deleted.
show_logs() {
  local file
  for file in "$DIR/node1.log" "$DIR/node2.log" "$DIR/nginx/error.log" "$DIR/nginx/access.log"; do
    if [ -s "$file" ]; then
      log "last lines of $file:"
      tail -n 15 "$file" >&2
    fi
  done
}

# The last line: SUCCESS (PASS for `test`, whose checks all ran; `up` or `down` for the others,
# which check nothing) or FAIL.
finish() {
  local status=$1 success=$2
  if [ "$status" -eq 0 ]; then
    printf '%s: %s\n' "$NAME" "$success"
  else
    printf '%s: FAIL\n' "$NAME"
  fi
}

# Set once this run has made the state folder: only then may a failure tear it down.
OWNED=0

command=${1:-}
case $command in
  up)
    # A failed start leaves nothing behind.
    trap 'status=$?; trap - EXIT; if [ "$status" -ne 0 ] && [ "$OWNED" = 1 ]; then show_logs; do_down || true; fi; finish "$status" up; exit "$status"' EXIT
    do_up
    ;;
  down)
    trap 'status=$?; trap - EXIT; finish "$status" down; exit "$status"' EXIT
    do_down
    ;;
  test)
    if [ -e "$DIR/$MARKER" ]; then
      # Against the deployment `up` left; it stays up either way.
      trap 'status=$?; trap - EXIT; if [ "$status" -ne 0 ]; then show_logs; fi; finish "$status" PASS; exit "$status"' EXIT
      run_tests
    else
      trap 'status=$?; trap - EXIT; if [ "$status" -ne 0 ] && [ "$OWNED" = 1 ]; then show_logs; fi; if [ "$OWNED" = 1 ]; then do_down || status=1; fi; finish "$status" PASS; exit "$status"' EXIT
      do_up
      run_tests
    fi
    ;;
  *)
    printf 'usage: %s up|down|test\n' "$0" >&2
    exit 2
    ;;
esac
