#!/usr/bin/env bash
# Sourced by this repository's PostgreSQL peers (vilano-postgres.sh, vilano-embedded-postgres.sh),
# not a peer itself: a fresh PostgreSQL cluster made exactly as the DBOS peer makes its own (initdb
# into a temp dir, stock postgresql.conf: fsync=on, synchronous_commit=on; run as the postgres OS
# user, TCP on 127.0.0.1 only). Needs lib/proc.sh (now_ms, emit_json) and $WORK and $SYSTEM.

PGBIN=${PGBIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
[ -x "$PGBIN/postgres" ] || { echo "PostgreSQL server binaries not found (apt-get install postgresql)" >&2; exit 2; }
id postgres >/dev/null 2>&1 || { echo "OS user 'postgres' missing (installed by the postgresql package)" >&2; exit 2; }
PGPORT=15432
PG_URL="postgres://postgres@127.0.0.1:$PGPORT/postgres"
PG_PID=""

as_postgres() { setpriv --reuid=postgres --regid=postgres --init-groups -- "$@"; }

# initdb into $WORK/pgdata (not part of the cold start: its time is reported as initdb_ms).
pg_init() {
  mkdir -p "$WORK/pgdata" "$WORK/sock"
  # The postgres user reaches its folders through $WORK; whatever else is in it stays root's alone.
  chmod 711 "$WORK"
  chown -R postgres:postgres "$WORK/pgdata" "$WORK/sock"
  chmod 700 "$WORK/pgdata"
  local t_init
  t_init=$(now_ms)
  if ! as_postgres "$PGBIN/initdb" -D "$WORK/pgdata" -U postgres --auth=trust -E UTF8 --locale=C >"$WORK/initdb.log" 2>&1; then
    cat "$WORK/initdb.log" >&2
    exit 1
  fi
  emit_json "$SYSTEM" cold_start initdb_ms $(($(now_ms) - t_init)) ms
  emit_json "$SYSTEM" config storage "PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}') (stock postgresql.conf: fsync=on, synchronous_commit=on), as the DBOS peer" ""
}

# Starts the server in the background; PG_PID is its own pid (setpriv execs it; a function put in
# the background would be a subshell of its own), for stop_pid. Its log goes to $WORK/postgres.log.
pg_start() {
  setpriv --reuid=postgres --regid=postgres --init-groups -- "$PGBIN/postgres" -D "$WORK/pgdata" \
    -c listen_addresses=127.0.0.1 -c port=$PGPORT -c unix_socket_directories="$WORK/sock" \
    >"$WORK/postgres.log" 2>&1 &
  PG_PID=$!
}

# Waits (up to 2 s) for the server to take connections, the way a service manager starts what
# depends on it; whoever connects next still retries within its own cold start.
pg_wait_ready() {
  for _ in $(seq 1 200); do "$PGBIN/pg_isready" -q -h 127.0.0.1 -p $PGPORT && break; sleep 0.01; done
}
