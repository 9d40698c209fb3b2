#!/usr/bin/env bash
# The list-page benchmark in the issue's own conditions: wrk -t2 -c16 (a
# load generator in C, lighter on the shared cores than BenchmarkPages' Go
# client) against each binary given, one after the other, on the database
# BenchmarkPages seeded and keeps (switchboard_bench_pages; run that first).
#
#   bench/wrk-pages.sh /tmp/switchboard-before /tmp/switchboard-after
#
# Needs wrk, psql, curl, jq and python3; env: PGURL (the server BenchmarkPages used),
# DURATION (10s), CONNECTIONS (16), ROUNDS (1: each binary once per round).
set -euo pipefail
pg=${PGURL:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}
db=switchboard_bench_pages
duration=${DURATION:-10s}
conns=${CONNECTIONS:-16}
[ $# -gt 0 ] || { echo "usage: $0 BINARY..." >&2; exit 2; }
marker=$(psql "$pg" -Atc "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = '$db'")
[[ $marker == switchboard-bench-pages* ]] || { echo "no $db database: run BenchmarkPages first" >&2; exit 1; }
admin=$(sed -E 's/.* admin=([^ ]+).*/\1/' <<<"$marker")
key=$(sed -E 's/.* key=([^ ]+).*/\1/' <<<"$marker")
work=$(mktemp -d)
server=""
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
url="http://127.0.0.1:$port/query"
fields='edges { node { id number subject status priority updatedAt requester { id name email } assignee { name } group { name } messages(last: 3) { edges { node { body createdAt } } } } }'
post() { curl -sf "$url" -H 'Content-Type: application/json' ${2:+-H "Authorization: Bearer $2"} --data "$1"; }
script() { # name body token
  printf 'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nwrk.headers["Authorization"] = "Bearer %s"\nwrk.body = [==[%s]==]\n' "$3" "$2" >"$work/$1.lua"
}
printf '%-10s %-8s %10s %8s %8s %10s\n' binary query 'req/s' 'p50' 'p99' 'CPU/req'
for round in $(seq "${ROUNDS:-1}"); do
  for bin in "$@"; do
    (cd "$work" && DATABASE_URL="${pg%/*}/$db?sslmode=disable" SWITCHBOARD_ENCRYPTION_KEY="$key" SWITCHBOARD_ADDR="127.0.0.1:$port" \
      SWITCHBOARD_LOG_FORMAT=json SWITCHBOARD_RATE_LIMIT_USER=0 SWITCHBOARD_RATE_LIMIT_IP=0 exec "$bin" serve) >"$work/server.log" 2>&1 &
    server=$!
    for _ in $(seq 150); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.2; done
    token=$(post "$(jq -nc --arg e "$admin" '{query: "mutation($e: String!) { login(email: $e, password: \"switchboard-seed-2026\") { token } }", variables: {e: $e}}')" | jq -r .data.login.token)
    [ "$token" != null ] || { echo "login failed:" >&2; tail -5 "$work/server.log" >&2; exit 1; }
    user=$(post "{\"query\": \"{ tickets(first: 1, orderBy: {field: UPDATED_AT, direction: DESC}) { $fields } }\"}" "$token" | jq -r '.data.tickets.edges[0].node.requester.id')
    script page "{\"query\": \"{ tickets(first: 50, orderBy: {field: UPDATED_AT, direction: DESC}) { $fields } }\"}" "$token"
    script count "{\"query\": \"{ tickets(first: 50, orderBy: {field: UPDATED_AT, direction: DESC}) { totalCount $fields } }\"}" "$token"
    script node "{\"query\": \"query(\$id: ID!) { node(id: \$id) { id ... on User { name email } } }\", \"variables\": {\"id\": \"$user\"}}" "$token"
    for q in page count node; do
      body=$(sed -n 's/^wrk.body = \[==\[\(.*\)\]==\]$/\1/p' "$work/$q.lua")
      post "$body" "$token" | jq -e '.errors == null' >/dev/null || { echo "$q failed: $(post "$body" "$token")" >&2; exit 1; }
      wrk -t2 -c"$conns" -d2s -s "$work/$q.lua" "$url" >/dev/null
      cpu0=$(awk '{print $14+$15}' "/proc/$server/stat")
      out=$(wrk -t2 -c"$conns" -d"$duration" --latency -s "$work/$q.lua" "$url")
      cpu1=$(awk '{print $14+$15}' "/proc/$server/stat")
      rate=$(awk '/Requests\/sec/{print $2}' <<<"$out")
      errors=$(awk '/Non-2xx|Socket errors/' <<<"$out")
      [ -z "$errors" ] || echo "$q: $errors" >&2
      ticks=$(getconf CLK_TCK)
      printf '%-10s %-8s %10.0f %8s %8s %8.3f ms\n' "$(basename "$bin")" "$q" "$rate" \
        "$(awk '$1=="50%"{print $2}' <<<"$out")" "$(awk '$1=="99%"{print $2}' <<<"$out")" \
        "$(awk -v c=$((cpu1 - cpu0)) -v r="$rate" -v d="${duration%s}" -v t="$ticks" 'BEGIN{print c/t*1000/(r*d)}')"
    done
    kill "$server"; wait "$server" 2>/dev/null || true; server=""
  done
done
