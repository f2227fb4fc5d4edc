#!/usr/bin/env bash
# Makes sure Debian's Chromium is installed for the dashboard's browser tests (test/browser/):
# installed with apt-get when missing (as root; CI runs as root). VILANO_CHROMIUM names another
# Chromium to use instead. Sourced by scripts/test.sh.
set -euo pipefail
if [ -n "${VILANO_CHROMIUM:-}" ]; then
  [ -x "$VILANO_CHROMIUM" ] || { echo "VILANO_CHROMIUM=$VILANO_CHROMIUM is not an executable" >&2; exit 1; }
elif ! [ -x /usr/bin/chromium ]; then
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "the browser tests need Chromium: install Debian's chromium package (apt-get install chromium) or set VILANO_CHROMIUM" >&2
    exit 1
  fi
  echo "installing chromium from Debian's packages…" >&2
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >&2
fi
