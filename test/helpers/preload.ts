/** Preloaded by bun test (bunfig.toml): what the last test file made is cleaned up when the run ends. */
import { afterAll } from "bun:test";
import { runEndCleanups } from "./cleanup.ts";

afterAll(runEndCleanups);
