#!/usr/bin/env bash
# One Vilano benchmark run on PostgreSQL, for the shared side-by-side harness (../shared/bench):
# a fresh PostgreSQL cluster made exactly as the DBOS peer makes its own (initdb into a temp dir,
# stock postgresql.conf: fsync=on, synchronous_commit=on; run as the postgres OS user, TCP on
# 127.0.0.1 only) + `vilano daemon run` with VILANO_DATABASE_URL + the harness's Vilano driver.
# scripts/bench/peers.sh copies it into a copy of the harness and runs run-peers.sh there.
# Prints JSON lines (one per figure) on stdout; logs go to stderr / $BENCH_LOG_DIR.
set -uo pipefail

BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=/dev/null
. "$BENCH/lib/proc.sh"
# shellcheck source=/dev/null
. "$BENCH/peers/postgres-cluster.sh"

RUN=${BENCH_RUN:-1}
SYSTEM=vilano-postgres
VILANO_SRC=${VILANO_SRC:-$(pwd)}
VILANO_BIN=${VILANO_BIN:-$VILANO_SRC/dist/vilano}
[ -x "$VILANO_BIN" ] || { echo "vilano executable not found at $VILANO_BIN (bun run build)" >&2; exit 2; }
BUN=$(command -v bun) || { echo "bun is required for the Vilano driver" >&2; exit 2; }
VILANO_PORT=4141
export VILANO_SRC VILANO_PORT BENCH_RUN=$RUN BENCH_SYSTEM=$SYSTEM

loopback_up || exit 2

WORK=$(mktemp -d -t bench-vilano-pg.XXXXXX)
HOME_DIR="$WORK/home"
DAEMON_PID="" DRIVER_PID=""
cleanup() {
  stop_pid "$DRIVER_PID" "vilano driver" TERM 10
  stop_pid "$DAEMON_PID" "vilano daemon" TERM 30
  stop_pid "$PG_PID" "postgres" INT 30
  if [ -n "${BENCH_LOG_DIR:-}" ]; then
    mkdir -p "$BENCH_LOG_DIR"
    cp "$WORK/daemon.log" "$BENCH_LOG_DIR/$SYSTEM-run$RUN-daemon.log" 2>/dev/null || true
    cp "$WORK/postgres.log" "$BENCH_LOG_DIR/$SYSTEM-run$RUN-postgres.log" 2>/dev/null || true
  fi
  chmod -R u+w "$WORK" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$HOME_DIR"
chmod 700 "$HOME_DIR"
pg_init
emit_json $SYSTEM config vilano_version "$("$VILANO_BIN" version | head -1)" ""
emit_json $SYSTEM config vilano_commit "$(git -C "$VILANO_SRC" rev-parse --short HEAD 2>/dev/null || echo unknown)" ""
emit_json $SYSTEM config topology "postgres + daemon process (vilano daemon run, VILANO_DATABASE_URL) + driver process; HTTP control API on 127.0.0.1" ""
emit_json $SYSTEM config driver_runtime "bun $("$BUN" --version | head -1)" ""

T0=$(now_ms)
pg_start
# The daemon waits for the database the way a service manager would start it after PostgreSQL:
# it is spawned at once and retries its connection (within the cold start).
(
  pg_wait_ready
  exec env VILANO_HOME="$HOME_DIR" VILANO_DATABASE_URL="$PG_URL" \
    "$VILANO_BIN" daemon run --port "$VILANO_PORT"
) >"$WORK/daemon.log" 2>&1 &
DAEMON_PID=$!

T0_MS=$T0 VILANO_HOME="$HOME_DIR" timeout 300 "$BUN" "$BENCH/vilano/driver.mjs" &
DRIVER_PID=$!
wait "$DRIVER_PID"
rc=$?
DRIVER_PID=""
if [ $rc -ne 0 ]; then
  echo "$SYSTEM run $RUN failed (rc=$rc); daemon log tail:" >&2
  tail -n 40 "$WORK/daemon.log" >&2
fi
exit $rc
