#!/usr/bin/env bash
# README command 1: build the executable and run an example workflow end to end.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/ensure-bun.sh
bun run build
./dist/vilano version
bun scripts/example.ts
