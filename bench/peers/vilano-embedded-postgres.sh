#!/usr/bin/env bash
# One run of Vilano's in-process runtime on PostgreSQL, for the shared side-by-side harness
# (../shared/bench): a fresh PostgreSQL cluster made exactly as the DBOS peer makes its own (initdb
# into a temp dir, stock postgresql.conf: fsync=on, synchronous_commit=on; run as the postgres OS
# user, TCP on 127.0.0.1 only) + the harness's own in-process driver (vilano/embedded.mjs, which
# passes its VILANO_DB to createRuntime) given the database's URL. The topology is DBOS's: the
# workflows run inside the application process, which also drives the load; no daemon, no HTTP.
# scripts/bench/peers.sh copies it into a copy of the harness and runs run-peers.sh there.
# Prints JSON lines (one per figure) on stdout; logs go to stderr / $BENCH_LOG_DIR.
set -uo pipefail

BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=/dev/null
. "$BENCH/lib/proc.sh"
# shellcheck source=/dev/null
. "$BENCH/peers/postgres-cluster.sh"

RUN=${BENCH_RUN:-1}
SYSTEM=vilano-embedded-postgres
VILANO_SRC=${VILANO_SRC:-$(pwd)}
[ -f "$VILANO_SRC/src/embedded/index.ts" ] && [ -d "$VILANO_SRC/node_modules" ] || {
  echo "Vilano checkout with node_modules not found at $VILANO_SRC (set VILANO_SRC)" >&2; exit 2; }
BUN=$(command -v bun) || { echo "bun is required for the Vilano embedded runtime" >&2; exit 2; }
export VILANO_SRC BENCH_RUN=$RUN BENCH_SYSTEM=$SYSTEM

loopback_up || exit 2

WORK=$(mktemp -d -t bench-vilano-embedded-pg.XXXXXX)
APP_PID=""
cleanup() {
  stop_pid "$APP_PID" "vilano embedded app" TERM 10
  stop_pid "$PG_PID" "postgres" INT 30
  if [ -n "${BENCH_LOG_DIR:-}" ]; then
    mkdir -p "$BENCH_LOG_DIR"
    cp "$WORK/postgres.log" "$BENCH_LOG_DIR/$SYSTEM-run$RUN-postgres.log" 2>/dev/null || true
  fi
  chmod -R u+w "$WORK" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

pg_init
emit_json $SYSTEM config vilano_version "$(grep -m1 '"version"' "$VILANO_SRC/package.json" | sed 's/.*"version": *"\([^"]*\)".*/\1/') (source, createRuntime)" ""
emit_json $SYSTEM config vilano_commit "$(git -C "$VILANO_SRC" rev-parse --short HEAD 2>/dev/null || echo unknown)" ""
emit_json $SYSTEM config topology "postgres + IN-PROCESS app: kernel + workflows + driver in one Bun process (createRuntime with the database's URL), as DBOS runs them; no daemon, no HTTP" ""
emit_json $SYSTEM config client "rt.start + handle.result; W2 = rt.connect ref (first call on a key) + ref.ask.append" ""
emit_json $SYSTEM config driver_runtime "bun $("$BUN" --version | head -1)" ""

T0=$(now_ms)
pg_start
# The app is spawned at once and waits for the database, as the daemon peer's does (within the cold start).
(
  pg_wait_ready
  T0_MS=$T0 VILANO_DB="$PG_URL" exec timeout 300 "$BUN" "$BENCH/vilano/embedded.mjs"
) &
APP_PID=$!
wait "$APP_PID"
rc=$?
APP_PID=""
[ $rc -ne 0 ] && echo "$SYSTEM run $RUN failed (rc=$rc)" >&2
exit $rc
