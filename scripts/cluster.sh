#!/usr/bin/env bash
# Runs collab as N replicas over one PostgreSQL database behind Debian's haproxy, on one machine.
#
#   scripts/cluster.sh start N --model M --db postgres://... [--port 8080] [--token T] [--data D] [-- serve flags]
#   scripts/cluster.sh reload    # SIGHUP every replica: each loads the model file again (collab train --out M first)
#   scripts/cluster.sh status    # replicas and balancer, with /api/health through the balancer
#   scripts/cluster.sh stop      # replicas drain (health 503, in-flight requests finish), then the balancer stops
#
# The balancer listens on --port (default 8080) and the replicas on the next N ports. Its configuration,
# pid files and logs live in $COLLAB_CLUSTER_DIR (default: a folder under ${TMPDIR:-/tmp}); haproxy checks
# /api/health every half second and stops sending to a replica that fails it twice (a draining one answers 503).
# Every response names the replica that served it in X-Collab-Replica.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
state="${COLLAB_CLUSTER_DIR:-${TMPDIR:-/tmp}/collab-cluster-$(id -u)}"

die() { echo "cluster.sh: $*" >&2; exit 2; }

# Waits until GET $1/api/health answers 200, or fails after 60 s naming the log to read.
wait_healthy() {
  local url=$1 log=$2
  for _ in $(seq 1 240); do
    if node -e 'fetch(process.argv[1]).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))' "$url/api/health"; then return 0; fi
    sleep 0.25
  done
  echo "cluster.sh: $url did not become healthy in 60 s; see $log" >&2
  tail -5 "$log" >&2 || true
  return 1
}

start() {
  local n=${1:-}
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || die "start needs the number of replicas first, e.g. start 2 --model model.json --db postgres://..."
  shift
  local model="" db="" port=8080 token="" data="" extra=()
  while [ $# -gt 0 ]; do
    case "$1" in
      --model) model=$2; shift 2 ;;
      --db) db=$2; shift 2 ;;
      --port) port=$2; shift 2 ;;
      --token) token=$2; shift 2 ;;
      --data) data=$2; shift 2 ;;
      --) shift; extra=("$@"); break ;;
      *) die "unknown option $1" ;;
    esac
  done
  [ -n "$model" ] || die "--model is required (collab train --out)"
  [[ "$db" == postgres://* || "$db" == postgresql://* ]] || die "--db must be a postgres:// URL: replicas share one PostgreSQL database"
  command -v haproxy >/dev/null || die "haproxy is not installed (apt-get install haproxy)"
  [ -f "$root/dist/cli/main.js" ] || die "collab is not built; run npm run build"
  if [ -f "$state/haproxy.pid" ] && kill -0 "$(cat "$state/haproxy.pid")" 2>/dev/null; then die "a cluster is already running from $state; stop it first"; fi
  mkdir -p "$state"
  rm -f "$state"/replica-*.pid "$state"/replica-*.port
  local servers=""
  for i in $(seq 1 "$n"); do
    local p=$((port + i)) log="$state/replica-$i.log"
    local args=(serve --model "$model" --db "$db" --port "$p" --host 127.0.0.1 --log json --drain 2)
    # only the first replica imports the training ratings, and alone: the others find them there
    if [ -n "$data" ] && [ "$i" = 1 ]; then args+=(--data "$data"); fi
    # the token goes by the environment, not the command line, where every user of the machine sees it in ps
    if [ -n "$token" ]; then
      COLLAB_TOKEN="$token" node "$root/dist/cli/main.js" "${args[@]}" "${extra[@]}" >"$log" 2>&1 &
    else
      node "$root/dist/cli/main.js" "${args[@]}" "${extra[@]}" >"$log" 2>&1 &
    fi
    echo $! >"$state/replica-$i.pid"
    echo "$p" >"$state/replica-$i.port"
    if [ "$i" = 1 ]; then wait_healthy "http://127.0.0.1:$p" "$log"; fi
    servers+="    server r$i 127.0.0.1:$p check"$'\n'
  done
  for i in $(seq 2 "$n"); do wait_healthy "http://127.0.0.1:$((port + i))" "$state/replica-$i.log"; done
  cat >"$state/haproxy.cfg" <<EOF
global
    maxconn 4096

defaults
    mode http
    timeout connect 2s
    timeout client 30s
    timeout server 30s
    # a request refused by a replica that just closed (or whose idle connection it closed) goes to another one
    retries 2
    retry-on conn-failure empty-response
    option redispatch

frontend collab
    bind 127.0.0.1:$port
    default_backend replicas

backend replicas
    balance roundrobin
    option httpchk GET /api/health
    http-check expect status 200
    # a draining replica (--drain 2) answers 503 at once and is out within about a second, before it
    # stops listening; a busy one may answer slowly without being taken out
    timeout check 5s
    default-server inter 500ms fall 2 rise 1
    http-response set-header X-Collab-Replica %[srv_name]
$servers
EOF
  haproxy -c -q -f "$state/haproxy.cfg"
  haproxy -D -f "$state/haproxy.cfg" -p "$state/haproxy.pid"
  wait_healthy "http://127.0.0.1:$port" "$state/haproxy.cfg"
  echo "collab: $n replicas behind http://127.0.0.1:$port (state in $state)"
}

replica_pids() {
  for f in "$state"/replica-*.pid; do
    if [ -f "$f" ]; then cat "$f"; fi
  done
}

stop() {
  local pids
  pids=$(replica_pids)
  # replicas first: each answers health 503 while it drains, so haproxy moves traffic to the others
  for pid in $pids; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in $pids; do
    for _ in $(seq 1 120); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
  done
  if [ -f "$state/haproxy.pid" ]; then kill -TERM "$(cat "$state/haproxy.pid")" 2>/dev/null || true; rm -f "$state/haproxy.pid"; fi
  rm -f "$state"/replica-*.pid "$state"/replica-*.port
  echo "collab: cluster in $state stopped"
}

reload() {
  for pid in $(replica_pids); do kill -HUP "$pid"; done
  echo "collab: asked every replica to reload its model (their logs in $state say whether it was swapped)"
}

status() {
  for f in "$state"/replica-*.pid; do
    [ -f "$f" ] || continue
    local i=${f##*/replica-}; i=${i%.pid}
    local pid port
    pid=$(cat "$f"); port=$(cat "$state/replica-$i.port")
    if kill -0 "$pid" 2>/dev/null; then echo "replica $i: pid $pid, port $port"; else echo "replica $i: not running"; fi
  done
  if [ -f "$state/haproxy.pid" ]; then echo "haproxy: pid $(cat "$state/haproxy.pid")"; fi
}

cmd=${1:-}
[ $# -gt 0 ] && shift
case "$cmd" in
  start) start "$@" ;;
  stop) stop ;;
  reload) reload ;;
  status) status ;;
  *) die "usage: scripts/cluster.sh start N --model M --db postgres://... [--port 8080] [--token T] [--data D] | reload | status | stop" ;;
esac
