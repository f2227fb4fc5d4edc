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

RUN=${BENCH_RUN:-1}
SYSTEM=vilano-postgres
VILANO_SRC=${VILANO_SRC:-$(pwd)}
VILANO_BIN=${VILANO_BIN:-$VILANO_SRC/dist/vilano}
[ -x "$VILANO_BIN" ] || { echo "vilano executable not found at $VILANO_BIN (bun run build)" >&2; exit 2; }
BUN=$(command -v bun) || { echo "bun is required for the Vilano driver" >&2; exit 2; }
PGBIN=${PGBIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
[ -x "$PGBIN/postgres" ] || { echo "PostgreSQL server binaries not found (apt-get install postgresql)" >&2; exit 2; }
id postgres >/dev/null 2>&1 || { echo "OS user 'postgres' missing (installed by the postgresql package)" >&2; exit 2; }
PGPORT=15432
VILANO_PORT=4141
export VILANO_SRC VILANO_PORT BENCH_RUN=$RUN BENCH_SYSTEM=$SYSTEM

loopback_up || exit 2

WORK=$(mktemp -d -t bench-vilano-pg.XXXXXX)
HOME_DIR="$WORK/home"
PG_PID="" DAEMON_PID="" DRIVER_PID=""
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

as_postgres() { setpriv --reuid=postgres --regid=postgres --init-groups -- "$@"; }

mkdir -p "$WORK/pgdata" "$WORK/sock" "$HOME_DIR"
# The postgres user reaches its folders through $WORK; the home stays root's alone.
chmod 711 "$WORK"
chown -R postgres:postgres "$WORK/pgdata" "$WORK/sock"
chmod 700 "$WORK/pgdata" "$HOME_DIR"

t_init=$(now_ms)
if ! as_postgres "$PGBIN/initdb" -D "$WORK/pgdata" -U postgres --auth=trust -E UTF8 --locale=C >"$WORK/initdb.log" 2>&1; then
  cat "$WORK/initdb.log" >&2
  exit 1
fi
emit_json $SYSTEM cold_start initdb_ms $(($(now_ms) - t_init)) ms
emit_json $SYSTEM config vilano_version "$("$VILANO_BIN" version | head -1)" ""
emit_json $SYSTEM config vilano_commit "$(git -C "$VILANO_SRC" rev-parse --short HEAD 2>/dev/null || echo unknown)" ""
emit_json $SYSTEM config storage "PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}') (stock postgresql.conf: fsync=on, synchronous_commit=on), as the DBOS peer" ""
emit_json $SYSTEM config topology "postgres + daemon process (vilano daemon run, VILANO_DATABASE_URL) + driver process; HTTP control API on 127.0.0.1" ""
emit_json $SYSTEM config driver_runtime "bun $("$BUN" --version | head -1)" ""

T0=$(now_ms)
setpriv --reuid=postgres --regid=postgres --init-groups -- "$PGBIN/postgres" -D "$WORK/pgdata" \
  -c listen_addresses=127.0.0.1 -c port=$PGPORT -c unix_socket_directories="$WORK/sock" \
  >"$WORK/postgres.log" 2>&1 &
PG_PID=$!
# The daemon waits for the database the way a service manager would start it after PostgreSQL:
# it is spawned at once and retries its connection (within the cold start).
(
  for _ in $(seq 1 200); do "$PGBIN/pg_isready" -q -h 127.0.0.1 -p $PGPORT && break; sleep 0.01; done
  exec env VILANO_HOME="$HOME_DIR" VILANO_DATABASE_URL="postgres://postgres@127.0.0.1:$PGPORT/postgres" \
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
