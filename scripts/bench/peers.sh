#!/usr/bin/env bash
# The shared side-by-side harness (../shared/bench/run-peers.sh) with this repository's own peers
# added (bench/peers/*.sh: vilano-postgres, the daemon; vilano-embedded-postgres, in process as
# DBOS runs). The shared folder may be read-only, so it runs from a
# writable copy with the peers copied in; every argument goes to run-peers.sh, e.g.
#   scripts/bench/peers.sh --runtime bun --peers vilano-postgres,dbos --runs 3
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SHARED=${BENCH_HARNESS:-$ROOT/../shared/bench}
[ -x "$SHARED/run-peers.sh" ] || { echo "the shared harness is not at $SHARED (set BENCH_HARNESS)" >&2; exit 2; }
copy=$(mktemp -d -t bench-harness.XXXXXX)
cp -r "$SHARED/." "$copy/"
chmod -R u+w "$copy"
cp "$ROOT"/bench/peers/*.sh "$copy/peers/"
# Its installer knows the Vilano peers by name: ours need what `vilano` needs (the built executable)
# and PostgreSQL's server from apt, as DBOS does.
sed -i -e 's/vilano|vilano-embedded) install_vilano/vilano|vilano-embedded|vilano-postgres|vilano-embedded-postgres) install_vilano/' \
  -e 's/\*,dbos,\*/*,dbos,* || ",$PEERS," == *,vilano-postgres,* || ",$PEERS," == *,vilano-embedded-postgres,*/' "$copy/run-peers.sh"
grep -q 'vilano-embedded-postgres) install_vilano' "$copy/run-peers.sh" || { echo "the harness's installer changed: cannot add the PostgreSQL peers" >&2; exit 2; }
echo "[peers] running the harness from $copy (results under $copy/results unless --out)" >&2
cd "$ROOT"
BENCH_COPIED=1 VILANO_SRC="$ROOT" exec bash "$copy/run-peers.sh" "$@"
