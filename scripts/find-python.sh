#!/usr/bin/env bash
# Print the path of a Python 3.10 interpreter, or explain how to get one and fail.
#
# Rasa 3.6 (the last open-source Rasa) runs on Python 3.8-3.10 and python-telegram-bot 22
# needs >= 3.10, so Hilo needs exactly 3.10. Looked up in this order:
#   1. $PYTHON, when given (make setup PYTHON=/path/to/python3.10);
#   2. python3.10 on PATH, when it really runs (a pyenv shim may exist but fail);
#   3. pyenv's versions directory (newest 3.10.x), even when 3.10 is not pyenv's active version;
#   4. the usual system locations.
set -euo pipefail

is_py310() {
  [ -n "$1" ] && [ "$("$1" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)" = "3.10" ]
}

if [ -n "${PYTHON:-}" ]; then
  if is_py310 "$PYTHON"; then echo "$PYTHON"; exit 0; fi
  echo "error: PYTHON=$PYTHON is not a working Python 3.10 interpreter." >&2
  exit 1
fi

candidates=()
if command -v python3.10 >/dev/null 2>&1; then candidates+=("$(command -v python3.10)"); fi
pyenv_root="${PYENV_ROOT:-}"
if [ -z "$pyenv_root" ] && command -v pyenv >/dev/null 2>&1; then pyenv_root="$(pyenv root 2>/dev/null || true)"; fi
[ -n "$pyenv_root" ] || pyenv_root="$HOME/.pyenv"
if [ -d "$pyenv_root/versions" ]; then
  while IFS= read -r dir; do candidates+=("$dir/bin/python3.10"); done \
    < <(find "$pyenv_root/versions" -maxdepth 1 -name '3.10*' | sort -rV)
fi
candidates+=(/usr/local/bin/python3.10 /usr/bin/python3.10 /opt/homebrew/bin/python3.10)

for candidate in "${candidates[@]}"; do
  if is_py310 "$candidate"; then echo "$candidate"; exit 0; fi
done

# printf is a shell builtin: this message must show even when PATH is broken.
printf '%s\n' >&2 \
  "error: Hilo needs Python 3.10 and none was found." \
  "  Rasa 3.6 supports Python 3.8-3.10 only and python-telegram-bot 22 needs >= 3.10." \
  "  Looked for: \$PYTHON, python3.10 on PATH, pyenv versions (3.10.*), /usr/bin, /usr/local/bin." \
  "  Install one, for example:   pyenv install 3.10   or   sudo apt install python3.10 python3.10-venv" \
  "  or point Hilo at one:       make setup PYTHON=/path/to/python3.10"
exit 1
