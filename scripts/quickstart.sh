#!/usr/bin/env bash
# README command 1: build the executable, then walk the starter agent end to end through it:
# init → project add → run start --wait → service ask. Uses a temporary VILANO_HOME and project
# folder, and stops the daemon it started.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/ensure-bun.sh
bun run build
VILANO="$(pwd)/dist/vilano"
"$VILANO" version

work="$(mktemp -d)"
export VILANO_HOME="$work/home"
trap '"$VILANO" daemon stop >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

set -x
"$VILANO" init "$work/my-agent" --starter
"$VILANO" project add "$work/my-agent" --name my-agent
"$VILANO" run start my-agent/reviewCoordinator --input '{"repoId":"repo_123","note":"Ship 0.1"}' --wait
"$VILANO" service ask my-agent/reviewer status --key repo_123
