#!/usr/bin/env bash
# README command 2: type-check, check import directions and dropped promises, build the executable
# (the end-to-end tests run it), then run every test (the dashboard's in Debian's Chromium, installed when missing).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/ensure-bun.sh
source scripts/ensure-chromium.sh
bun run typecheck
bun run check-imports
bun run check-promises
bun run build
bun test "$@"
