/** Preloaded by bun test (bunfig.toml): what the last test file made is cleaned up when the run ends. */
import { afterAll } from "bun:test";
import { runEndCleanups } from "./cleanup.ts";

// scripts/test.sh runs each file in a bun test of its own, so this runs after every file: dropping
// its PostgreSQL databases one by one can take longer than a hook's 5 s on a loaded machine.
afterAll(runEndCleanups, { timeout: 120_000 });
