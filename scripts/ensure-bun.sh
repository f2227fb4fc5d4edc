#!/usr/bin/env bash
# Makes sure Bun 1.4.5 is on PATH (installs it from the npm registry when missing) and the
# dependencies are installed from the lockfile. Sourced by the README commands and .ci/run.
set -euo pipefail
BUN_VERSION=1.4.5
if ! command -v bun >/dev/null 2>&1 || [ "$(bun --version)" != "$BUN_VERSION" ]; then
  echo "installing bun@$BUN_VERSION from npm…" >&2
  npm install -g "bun@$BUN_VERSION" >&2
  # npm's global bin may not be on PATH in a fresh shell.
  export PATH="$(npm prefix -g)/bin:$PATH"
fi
bun install --frozen-lockfile >&2
