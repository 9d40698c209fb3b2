#!/usr/bin/env bash
# Three Switchboard instances on PostgreSQL and Redis behind nginx, on
# loopback ports: http://127.0.0.1:8080 (nginx) → :8081, :8082, :8083.
#
#   deploy/local-cluster.sh up      build, start PostgreSQL/Redis if needed, start all
#   deploy/local-cluster.sh down    stop the instances and nginx
#   deploy/local-cluster.sh status  what runs
#
# State (binary, logs, pids, the encryption key) lives in ./cluster-run.
set -euo pipefail
cd "$(dirname "$0")/.."
RUN="$PWD/cluster-run"
DB_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/switchboard_cluster?sslmode=disable}"
REDIS="${REDIS_URL:-redis://127.0.0.1:6379/0}"
PORTS=(8081 8082 8083)

log() { printf '== %s\n' "$*"; }

services() {
  if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
    log "starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -n 1)" main start
    for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
  fi
  if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
    log "starting Redis"
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
    for _ in $(seq 1 30); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 1; done
  fi
  local db
  db=$(sed -E 's|.*/([^/?]+)(\?.*)?$|\1|' <<<"$DB_URL")
  psql -h 127.0.0.1 -U postgres -tAc "select 1 from pg_database where datname='$db'" | grep -q 1 ||
    psql -h 127.0.0.1 -U postgres -c "create database $db" >/dev/null
}

up() {
  command -v nginx >/dev/null || { echo "nginx is not installed (apt-get install nginx-light)" >&2; exit 1; }
  mkdir -p "$RUN"/tmp/{body,proxy,fastcgi,uwsgi,scgi}
  services
  log "building"
  go build -o "$RUN/switchboard" .
  if [ ! -f "$RUN/encryption.key" ]; then
    "$RUN/switchboard" keys generate >"$RUN/encryption.key"
    chmod 600 "$RUN/encryption.key"
  fi
  local key
  key=$(cat "$RUN/encryption.key")
  log "migrating the database"
  DATABASE_URL="$DB_URL" SWITCHBOARD_ENCRYPTION_KEY="$key" "$RUN/switchboard" migrate up
  for port in "${PORTS[@]}"; do
    log "instance on :$port"
    DATABASE_URL="$DB_URL" REDIS_URL="$REDIS" SWITCHBOARD_ENCRYPTION_KEY="$key" \
      SWITCHBOARD_ADDR="127.0.0.1:$port" SWITCHBOARD_TRUSTED_PROXIES=127.0.0.1 \
      nohup "$RUN/switchboard" serve >"$RUN/instance-$port.log" 2>&1 &
    echo $! >"$RUN/instance-$port.pid"
  done
  for port in "${PORTS[@]}"; do
    for _ in $(seq 1 60); do
      curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
      sleep 0.5
    done
    curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null || { echo "instance :$port is not ready; see $RUN/instance-$port.log" >&2; exit 1; }
  done
  log "nginx on :8080"
  nginx -p "$RUN" -c "$PWD/deploy/nginx.conf"
  log "up: http://127.0.0.1:8080 (playground), ws://127.0.0.1:8080/query; create an admin with:"
  echo "  DATABASE_URL='$DB_URL' SWITCHBOARD_ENCRYPTION_KEY=\$(cat $RUN/encryption.key) $RUN/switchboard user create --role admin --email you@example.com --name You"
}

down() {
  if [ -f "$RUN/nginx.pid" ]; then
    nginx -p "$RUN" -c "$PWD/deploy/nginx.conf" -s quit 2>/dev/null || true
  fi
  for port in "${PORTS[@]}"; do
    if [ -f "$RUN/instance-$port.pid" ]; then
      kill -TERM "$(cat "$RUN/instance-$port.pid")" 2>/dev/null || true
      rm -f "$RUN/instance-$port.pid"
    fi
  done
  log "stopped (PostgreSQL and Redis keep running)"
}

status() {
  for port in "${PORTS[@]}"; do
    printf ':%s ' "$port"
    curl -fsS "http://127.0.0.1:$port/readyz" 2>/dev/null || echo "down"
  done
  printf 'nginx :8080 '
  curl -fsS "http://127.0.0.1:8080/readyz" 2>/dev/null || echo "down"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) status ;;
  *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
