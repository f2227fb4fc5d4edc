#!/usr/bin/env bash
# Starts a throwaway PostgreSQL server for the tests that run against PostgreSQL, unless
# VILANO_TEST_DATABASE_URL already names one: Debian's postgresql package (installed with apt-get
# when missing, as root; CI runs as root), a cluster made with initdb in a temporary folder, run as
# the postgres user, listening on 127.0.0.1 only, on a port the OS hands out. It is stopped by its
# pid, and its folder removed, when the sourcing script exits. Sourced by scripts/test.sh.
set -euo pipefail
if [ -z "${VILANO_TEST_DATABASE_URL:-}" ]; then
  pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
  if [ -z "$pg_bin" ] || ! [ -x "$pg_bin/postgres" ]; then
    if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
      echo "the PostgreSQL tests need a server: install Debian's postgresql package or set VILANO_TEST_DATABASE_URL" >&2
      exit 1
    fi
    echo "installing postgresql from Debian's packages…" >&2
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
    pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  fi
  pg_dir=$(mktemp -d /tmp/vilano-pg-XXXXXX)
  as_postgres=()
  if [ "$(id -u)" -eq 0 ]; then
    # The server refuses to run as root.
    chown postgres:postgres "$pg_dir"
    as_postgres=(setpriv --reuid=postgres --regid=postgres --init-groups --)
  fi
  "${as_postgres[@]}" "$pg_bin/initdb" -D "$pg_dir/data" -U postgres --auth=trust -E UTF8 --locale=C >"$pg_dir/initdb.log" 2>&1 \
    || { cat "$pg_dir/initdb.log" >&2; exit 1; }
  pg_port=$(bun -e 'const s = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response() }); console.log(s.port); s.stop(true)')
  # Durable as stock (fsync, synchronous_commit on); connections enough for several daemons.
  "${as_postgres[@]}" "$pg_bin/postgres" -D "$pg_dir/data" -c listen_addresses=127.0.0.1 -c port="$pg_port" \
    -c unix_socket_directories="$pg_dir" -c max_connections=1000 >"$pg_dir/server.log" 2>&1 &
  pg_pid=$!
  stop_postgres() {
    # "Immediate" shutdown: the cluster is thrown away, so no shutdown checkpoint (which, with every
    # database the tests made, outlasted the 10 s below on a loaded machine and ended in SIGKILL).
    kill -QUIT "$pg_pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pg_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pg_pid" 2>/dev/null || true
    rm -rf "$pg_dir"
  }
  trap stop_postgres EXIT
  for _ in $(seq 1 100); do
    "$pg_bin/pg_isready" -q -h 127.0.0.1 -p "$pg_port" && break
    kill -0 "$pg_pid" 2>/dev/null || { cat "$pg_dir/server.log" >&2; exit 1; }
    sleep 0.1
  done
  "$pg_bin/pg_isready" -q -h 127.0.0.1 -p "$pg_port" || { echo "PostgreSQL did not start:" >&2; cat "$pg_dir/server.log" >&2; exit 1; }
  export VILANO_TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$pg_port/postgres"
  # Ours alone, and removed when the run ends: the tests need not drop what they made there.
  export VILANO_TEST_DATABASE_THROWAWAY=1
  echo "PostgreSQL for the tests: $VILANO_TEST_DATABASE_URL (pid $pg_pid)" >&2
fi
