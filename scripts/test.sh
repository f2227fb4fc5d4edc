#!/usr/bin/env bash
# README command 2: type-check, build the executable (the end-to-end tests run it), then run every
# test — the dashboard's in Debian's Chromium, installed when missing; the import-direction,
# dropped-promise and raw-signal checks are unit tests, so they run once — then the store-facing
# tests again against PostgreSQL (a throwaway server that scripts/ensure-postgres.sh starts, and
# stops when this script ends).
# Each test file runs in a `bun test` of its own under a watchdog (scripts/run-tests.ts): a file
# that hangs fails with its name after VILANO_TEST_FILE_TIMEOUT seconds (default 300), and what a
# file leaves running is named and killed. Arguments go to it as to `bun test` (files, folders,
# filters, flags).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/ensure-bun.sh
source scripts/ensure-chromium.sh
source scripts/ensure-postgres.sh
bun run typecheck
bun run build
bun scripts/run-tests.ts "$@"
if [ "$#" -eq 0 ]; then
  echo "--- the same runtime, service and crash tests against PostgreSQL" >&2
  # The files that read or write through a runtime (test/postgres-pass.txt); each runtime gets a
  # fresh database, so a test is given longer than on SQLite for making it.
  VILANO_TEST_STORE=postgres bun scripts/run-tests.ts --timeout 20000 $(cat test/postgres-pass.txt)
fi
