#!/usr/bin/env bash
# Start Hilo on embedded defaults: the action server and the Rasa server (SQLite under var/).
# Ctrl-C stops both. Logs go to var/log/.
set -euo pipefail
cd "$(dirname "$0")/.."

rasa_port="${HILO_RASA_PORT:-5005}"
actions_port="${HILO_ACTIONS_PORT:-5055}"
desk_port="${HILO_DESK_PORT:-8080}"
export HILO_ACTIONS_PORT="$actions_port" HILO_RASA_PORT="$rasa_port" HILO_DESK_PORT="$desk_port"
mkdir -p var/log
profile="${HILO_ENV:-development}"
case "$profile" in
  development|production) ;;
  *) echo "error: HILO_ENV=$profile is not a profile (development or production)" >&2; exit 1 ;;
esac

for port in "$rasa_port" "$actions_port" "$desk_port"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "error: port $port is already in use (is Hilo already running?). Stop it, or choose" >&2
    echo "       other ports: HILO_RASA_PORT=6005 HILO_ACTIONS_PORT=6055 HILO_DESK_PORT=6080 make run" >&2
    exit 1
  fi
done

# The demo store (docs/demo-store.md) on first start; later starts keep the data.
.venv/bin/python -m actions.commerce.seed --if-empty
# The handoff's cases and agents (var/handoff.db, or DATABASE_URL).
.venv/bin/python -m handoff.database upgrade
# Secrets (Rasa's API tokens, Hilo's signing key) come from the environment; in development
# each process reads the ones generated on first start under var/ (hilo/keys.py). None of
# them is ever passed on a command line.
# A desk user to try it with, on a desk that has none (the password is in var/demo-password).
demo_note=""
if [ "$profile" = development ] && [ -z "$(.venv/bin/hilo users list)" ]; then
  (umask 077; .venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(9))' >var/demo-password)
  .venv/bin/hilo users create demo --role supervisor --display-name "Demo" <var/demo-password >/dev/null
  demo_note="user demo, password $(cat var/demo-password) (create yours: .venv/bin/hilo users create NAME --role agent)"
fi
store="var/commerce.db (SQLite)"
if [ -n "${DATABASE_URL:-}" ]; then store="the database in DATABASE_URL"; fi

pids=()
stop() {
  trap - INT TERM EXIT
  echo
  echo "run: stopping Hilo"
  kill "${pids[@]}" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap stop INT TERM EXIT

.venv/bin/python -m actions.server --port "$actions_port" >var/log/actions.log 2>&1 &
pids+=($!)
.venv/bin/python -m connectors.server --model models/hilo.tar.gz --port "$rasa_port" \
  --endpoints endpoints.yml --credentials credentials.yml >var/log/rasa.log 2>&1 &
pids+=($!)
.venv/bin/hilo desk --port "$desk_port" >var/log/desk.log 2>&1 &
pids+=($!)

echo "run: starting (the model takes a few seconds to load; logs in var/log/)"
.venv/bin/python scripts/wait_ready.py "http://127.0.0.1:$actions_port/health" \
  "http://127.0.0.1:$rasa_port/" "http://127.0.0.1:$desk_port/api/openapi.json" \
  --pids "${pids[@]}" --logs var/log/actions.log var/log/rasa.log var/log/desk.log

sandbox="http://localhost:$rasa_port/webhooks/sandbox/"
if [ "$profile" = production ]; then
  cat <<MSG

  Hilo is running in the production profile (HILO_ENV=production).
    Channels        http://localhost:$rasa_port/webhooks/<channel>/webhook (signed requests only)
    Agent desk      http://localhost:$desk_port
    Not mounted     the sandbox page and the REST channel (development only)
    Action server   127.0.0.1:$actions_port, answering only the Rasa server's token
    Logs            var/log/rasa.log, var/log/actions.log, var/log/desk.log
    Mail            ${HILO_SMTP_URL:-var/mail/ (the one-time codes the bot emails; HILO_SMTP_URL to send them)}

  Press Ctrl-C to stop.
MSG
  wait -n "${pids[@]}"
  echo "run: a server stopped unexpectedly; see var/log/" >&2
  exit 1
fi
# Open the sandbox page where there is a desktop to open it on (HILO_OPEN_BROWSER=0: don't).
if [ "${HILO_OPEN_BROWSER:-1}" != 0 ]; then
  if command -v open >/dev/null 2>&1 && [ "$(uname)" = Darwin ]; then
    open "$sandbox" >/dev/null 2>&1 || true
  elif [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] && command -v xdg-open >/dev/null 2>&1; then
    xdg-open "$sandbox" >/dev/null 2>&1 || true
  fi
fi

cat <<MSG

  Hilo is running (development profile: the sandbox and the REST channel answer only this
  machine; HILO_ENV=production for a deployment, see docs/security.md).
    Chat with it    $sandbox   (a phone-like page: no credentials needed)
    Agent desk      http://localhost:$desk_port   ${demo_note:-(log in with a user from hilo users list)}
    Rasa server     http://localhost:$rasa_port   (channels: /webhooks/<channel>/webhook)
    Action server   http://127.0.0.1:$actions_port
    Conversations   var/tracker.db; channel messages var/channels.db (SQLite)
    Store           $store (demo data: docs/demo-store.md; reset it with make seed)
    Logs            var/log/rasa.log, var/log/actions.log, var/log/desk.log
    Mail            ${HILO_SMTP_URL:-var/mail/ (the one-time codes the bot emails; HILO_SMTP_URL to send them)}

  Or, in another terminal:
    make shell
    curl -s localhost:$rasa_port/webhooks/rest/webhook -d '{"sender":"me","message":"hola"}'

  Press Ctrl-C to stop.
MSG
wait -n "${pids[@]}"
echo "run: a server stopped unexpectedly; see var/log/" >&2
exit 1
