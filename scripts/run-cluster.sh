#!/usr/bin/env bash
# Start Hilo as a cluster on one machine: HILO_REPLICAS Rasa servers (each with the channels
# core) and HILO_INTAKES webhook intakes (verify, store, acknowledge: connectors/intake.py)
# behind HAProxy on HILO_RASA_PORT, one action server and the desk, all on PostgreSQL
# (DATABASE_URL) and Redis (REDIS_URL); RABBITMQ_URL sends the conversations' events there.
# docs/deployment.md explains the topology, what each service holds and how to size it.
# Ctrl-C stops everything. Logs go to var/log/.
set -euo pipefail
cd "$(dirname "$0")/.."

replicas="${HILO_REPLICAS:-2}"
rasa_port="${HILO_RASA_PORT:-5005}"
actions_port="${HILO_ACTIONS_PORT:-5055}"
desk_port="${HILO_DESK_PORT:-8080}"
first_replica_port="${HILO_REPLICA_PORT:-$((rasa_port + 100))}"
intakes="${HILO_INTAKES:-2}"
first_intake_port="${HILO_INTAKE_PORT:-$((rasa_port + 200))}"
profile="${HILO_ENV:-development}"

fail() { echo "run-cluster: $*" >&2; exit 1; }
case "$replicas" in ''|*[!0-9]*|0) fail "HILO_REPLICAS=$replicas must be a whole number, 1 or more" ;; esac
case "$intakes" in ''|*[!0-9]*) fail "HILO_INTAKES=$intakes must be a whole number (0: the replicas take the webhooks)" ;; esac
case "${DATABASE_URL:-}" in
  postgres://*|postgresql://*|postgresql+*://*) ;;
  *) fail "replicas share one PostgreSQL database: set DATABASE_URL=postgresql://user@host/db
       (SQLite is for one process: use make run)" ;;
esac
case "${REDIS_URL:-}" in
  redis://*|rediss://*) ;;
  *) fail "replicas share Rasa's conversation locks in Redis: set REDIS_URL=redis://host:6379/0" ;;
esac
for name in CHANNELS_DATABASE_URL HANDOFF_DATABASE_URL TRACKER_DATABASE_URL; do
  value="${!name:-}"
  if [ -n "$value" ] && [[ "$value" == sqlite* ]]; then
    fail "$name=$value: every replica must see the same data; use PostgreSQL or unset it"
  fi
done
if ! command -v haproxy >/dev/null 2>&1; then
  fail "the replicas sit behind HAProxy: install it (Debian/Ubuntu: apt-get install haproxy;
       macOS: brew install haproxy)"
fi

ports=("$rasa_port" "$actions_port" "$desk_port")
for index in $(seq 0 $((replicas - 1))); do ports+=($((first_replica_port + index))); done
for index in $(seq 0 $((intakes - 1))); do ports+=($((first_intake_port + index))); done
for port in "${ports[@]}"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    fail "port $port is already in use (is Hilo already running?). Choose others:
       HILO_RASA_PORT=6005 HILO_ACTIONS_PORT=6055 HILO_DESK_PORT=6080 HILO_REPLICA_PORT=6105 HILO_INTAKE_PORT=6205"
  fi
done

export HILO_ACTIONS_PORT="$actions_port" HILO_RASA_PORT="$rasa_port" HILO_DESK_PORT="$desk_port"
# One BLAS/OpenMP thread per process: by default numpy's OpenBLAS starts a worker per core,
# and one replica then used 1.7 of 2 cores for 8% more throughput, leaving nothing for the
# second (docs/scale-benchmark.md: two replicas 1.17x one by default, 1.63x with this).
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}" OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-1}"
export MKL_NUM_THREADS="${MKL_NUM_THREADS:-1}"
# The desk writes agent messages through Rasa's API: through the balancer, like the webhooks.
export HILO_RASA_URL="${HILO_RASA_URL:-http://127.0.0.1:$rasa_port}"
mkdir -p var/log var/cluster

.venv/bin/python -m actions.commerce.seed --if-empty
.venv/bin/python -m handoff.database upgrade
if [ "$profile" = development ] && [ -z "$(.venv/bin/hilo users list)" ]; then
  (umask 077; .venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(9))' >var/demo-password)
  .venv/bin/hilo users create demo --role supervisor --display-name "Demo" <var/demo-password >/dev/null
fi

# The balancer: the providers' webhook POSTs to the intakes, everything else (handshakes,
# status callbacks, media, Rasa's API for the desk) to the replicas; round robin, a server out
# of rotation within 2 s of its health check failing, and a request that could not connect
# retried on another server (it never reached the dead one, so nothing is processed twice).
# In development it listens on this machine only.
bind_host="127.0.0.1"
if [ "$profile" = production ]; then bind_host="${HILO_BIND_HOST:-0.0.0.0}"; fi
config="var/cluster/haproxy.cfg"
{
  cat <<CFG
# Written by scripts/run-cluster.sh; edited copies are overwritten at the next start.
global
  maxconn 4096
defaults
  mode http
  timeout connect 2s
  timeout client 60s
  timeout server 60s
  retries 2
  option redispatch
  retry-on conn-failure empty-response
frontend hilo
  bind $bind_host:$rasa_port
CFG
  if [ "$intakes" -gt 0 ]; then
    echo "  acl webhook_post method POST"
    echo "  acl webhook_path path $(.venv/bin/python -m connectors.intake --routes | tr '\n' ' ')"
    echo "  use_backend intakes if webhook_post webhook_path"
  fi
  cat <<CFG
  default_backend replicas
backend replicas
  balance roundrobin
  option httpchk GET /
  default-server inter 1s fall 2 rise 1
CFG
  for index in $(seq 0 $((replicas - 1))); do
    echo "  server replica$((index + 1)) 127.0.0.1:$((first_replica_port + index)) check"
  done
  if [ "$intakes" -gt 0 ]; then
    printf 'backend intakes\n  balance roundrobin\n  option httpchk GET /\n'
    printf '  default-server inter 1s fall 2 rise 1\n'
    for index in $(seq 0 $((intakes - 1))); do
      echo "  server intake$((index + 1)) 127.0.0.1:$((first_intake_port + index)) check"
    done
  fi
} >"$config"
haproxy -c -q -f "$config" || fail "HAProxy refused $config"

pids=()
stop() {
  trap - INT TERM EXIT
  echo
  echo "run-cluster: stopping Hilo"
  kill "${pids[@]}" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap stop INT TERM EXIT

.venv/bin/python -m actions.server --port "$actions_port" >var/log/actions.log 2>&1 &
pids+=($!)
ready=("http://127.0.0.1:$actions_port/health")
logs=(var/log/actions.log)
for index in $(seq 0 $((replicas - 1))); do
  port=$((first_replica_port + index))
  .venv/bin/python -m connectors.server --model models/hilo.tar.gz --port "$port" \
    --endpoints endpoints.yml --credentials credentials.yml >"var/log/rasa-$port.log" 2>&1 &
  pids+=($!)
  ready+=("http://127.0.0.1:$port/")
  logs+=("var/log/rasa-$port.log")
done
for index in $(seq 0 $((intakes - 1))); do
  port=$((first_intake_port + index))
  .venv/bin/python -m connectors.intake --port "$port" --credentials credentials.yml \
    >"var/log/intake-$port.log" 2>&1 &
  pids+=($!)
  ready+=("http://127.0.0.1:$port/")
  logs+=("var/log/intake-$port.log")
done
.venv/bin/hilo desk --port "$desk_port" >var/log/desk.log 2>&1 &
pids+=($!)
haproxy -W -db -f "$config" >var/log/haproxy.log 2>&1 &
pids+=($!)
ready+=("http://127.0.0.1:$desk_port/api/openapi.json" "http://127.0.0.1:$rasa_port/")
logs+=(var/log/desk.log var/log/haproxy.log)

echo "run-cluster: starting $replicas replicas (each loads the model; logs in var/log/)"
.venv/bin/python scripts/wait_ready.py "${ready[@]}" --pids "${pids[@]}" --logs "${logs[@]}"

cat <<MSG

  Hilo is running as a cluster ($profile profile).
    Channels        http://localhost:$rasa_port/webhooks/<channel>/webhook  (HAProxy, round robin)
    Replicas        $replicas Rasa servers on 127.0.0.1:$first_replica_port-$((first_replica_port + replicas - 1))
    Intakes         $intakes webhook intakes from 127.0.0.1:$first_intake_port (they store and acknowledge)
    Agent desk      http://localhost:$desk_port
    Action server   127.0.0.1:$actions_port
    Stores          PostgreSQL (DATABASE_URL), Redis (REDIS_URL)${RABBITMQ_URL:+, events to RabbitMQ (RABBITMQ_URL)}
    Logs            var/log/rasa-<port>.log, var/log/intake-<port>.log, var/log/actions.log, var/log/desk.log, var/log/haproxy.log

  Press Ctrl-C to stop.
MSG
wait -n "${pids[@]}"
echo "run-cluster: a process stopped unexpectedly; see var/log/" >&2
exit 1
