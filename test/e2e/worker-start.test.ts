/**
 * `vilano worker start [--once]`: a worker started by hand connects to the daemon of the built
 * executable and gets the work while it has room; with --once it leaves after one activation.
 */
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { BINARY } from "../helpers/binary.ts";
import { testDaemon } from "../helpers/daemon.ts";
import { writeProject } from "../helpers/project.ts";
import { eventually } from "../helpers/temp-dir.ts";

const FLOWS = readFileSync(join(import.meta.dir, "..", "fixtures", "worker-flows.ts"), "utf8");

test("worker start --once runs the next activation in the user's own process, then leaves; later runs go to the pool", async () => {
  const d = testDaemon({ VILANO_WORKERS: "1" });
  expect(d.cli("project", "add", writeProject({ "src/flows.ts": FLOWS }), "--name", "flows").exitCode).toBe(0);
  d.pid();
  const worker = Bun.spawn([BINARY, "worker", "start", "--once", "--json"], {
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: d.home, VILANO_HOME: d.home, VILANO_PORT: String(d.port), NO_COLOR: "1" },
    stdout: "pipe",
    stderr: "pipe",
  });
  await eventually(() => (d.json<{ workers: { external: number[] } }>("daemon", "status").workers.external.includes(worker.pid) ? true : undefined), 10_000, "the worker to connect");

  const first = d.json<{ run: { id: string } }>("run", "start", "flows/whoAmI").run.id;
  const firstOut = d.json<{ run: { output: { pid: number } } }>("run", "result", first, "--wait", "--timeout", "10s").run.output;
  expect(firstOut.pid).toBe(worker.pid);
  expect(await worker.exited).toBe(0);
  expect(JSON.parse(await new Response(worker.stdout).text())).toEqual({ ok: true, activations: 1, reason: "done" });
  expect(await new Response(worker.stderr).text()).toContain(`running workflow whoAmI (${first})`);

  const second = d.json<{ run: { id: string } }>("run", "start", "flows/whoAmI").run.id;
  const secondOut = d.json<{ run: { output: { pid: number } } }>("run", "result", second, "--wait", "--timeout", "10s").run.output;
  expect(secondOut.pid).not.toBe(worker.pid);
  expect(d.json<{ workers: { external: number[] } }>("daemon", "status").workers.external).toEqual([]);
}, 30_000);

test("worker start with a bad token is refused", async () => {
  const d = testDaemon({ VILANO_WORKERS: "1" });
  expect(d.cli("daemon", "start").exitCode).toBe(0);
  d.pid();
  const refused = await fetch(`http://127.0.0.1:${d.port}/v1/workers/connect`, { headers: { "x-vilano-token": "wrong", upgrade: "websocket" } });
  expect(refused.status).toBe(401);
}, 60_000);

test("an external worker is told the value cap: an over-cap step result fails that step, not the run, and never crosses", async () => {
  const d = testDaemon({ VILANO_WORKERS: "1", VILANO_MAX_VALUE_BYTES: String(1024 * 1024) });
  const flows = readFileSync(join(import.meta.dir, "..", "fixtures", "value-flows.ts"), "utf8");
  expect(d.cli("project", "add", writeProject({ "src/flows.ts": flows }), "--name", "flows").exitCode).toBe(0);
  d.pid();
  const worker = Bun.spawn([BINARY, "worker", "start", "--once", "--json"], {
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: d.home, VILANO_HOME: d.home, VILANO_PORT: String(d.port), NO_COLOR: "1" },
    stdout: "pipe",
    stderr: "pipe",
  });
  await eventually(() => (d.json<{ workers: { external: number[] } }>("daemon", "status").workers.external.includes(worker.pid) ? true : undefined), 10_000, "the worker to connect");
  const id = d.json<{ run: { id: string } }>("run", "start", "flows/bigResult", "--input", JSON.stringify({ mib: 2 })).run.id;
  const run = d.json<{ run: { status: string; error?: { code?: string; message?: string } } }>("run", "result", id, "--wait", "--timeout", "30s").run;
  expect(await worker.exited).toBe(0);
  expect(await new Response(worker.stderr).text()).toContain(`running workflow bigResult (${id})`);
  // Before: the worker sent the 2 MiB value and the daemon failed the whole run with value_too_large.
  expect(run.status).toBe("failed");
  expect(run.error?.code).toBe("step_failed");
  expect(run.error?.message).toContain('the result of step "big" (op step:big:0) is 2097154 bytes, more than the limit of 1048576 bytes');
  const events = d.json<{ events: { type: string; decision?: string }[] }>("run", "replay", id).events;
  expect(events.filter((e) => e.type === "step_attempt_failed").map((e) => e.decision)).toEqual(["non_retryable"]);
}, 60_000);
