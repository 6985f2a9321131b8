#!/usr/bin/env bash
# What the tests need outside Python: Chromium for the browser tests (Playwright drives the
# system's browser; nothing downloads one here). On Debian or Ubuntu it is installed the way
# .ci/run always did (apt-get, as root or through sudo); anywhere else this says exactly what
# to install and stops, rather than let the browser tests fail one by one.
set -euo pipefail

if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then
  exit 0
fi
if command -v apt-get >/dev/null 2>&1; then
  sudo=""
  if [ "$(id -u)" != 0 ]; then
    if ! command -v sudo >/dev/null 2>&1; then
      echo "test-deps: the browser tests need Chromium: run 'apt-get install chromium' as root" >&2
      exit 1
    fi
    sudo="sudo"
  fi
  echo "test-deps: installing chromium (Debian's package) for the browser tests"
  $sudo apt-get install -y -q chromium >/dev/null \
    || { $sudo apt-get update -q && $sudo apt-get install -y -q chromium >/dev/null; }
  exit 0
fi
cat >&2 <<'MSG'
test-deps: the browser tests need Chromium on the PATH as `chromium` or `chromium-browser`:
  Fedora: dnf install chromium      Arch: pacman -S chromium
  macOS:  brew install --cask chromium (then link it as `chromium` on the PATH)
MSG
exit 1
