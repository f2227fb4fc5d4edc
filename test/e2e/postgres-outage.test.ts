/**
 * The built daemon while its PostgreSQL is away, on a port inside the OS's ephemeral range (where
 * a connect to a port nobody listens on can connect to itself): it answers `/v1/status` in time
 * and says the database is down, refuses writes with 503 and Retry-After (not 500), backs off
 * between connection attempts (counted by a listener that takes the port meanwhile and hangs up
 * on every connection), leaves the port free so the server can start again on it, serves writes
 * again once it is back, and `daemon stop` stops it cleanly while the database is down.
 */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { testDaemon, type TestDaemon } from "../helpers/daemon.ts";
import { canRunPostgres, freeEphemeralPort, pgServer } from "../helpers/pg-server.ts";
import { STARTER_INPUT } from "../helpers/reviewer.ts";
import { eventually, tempDir } from "../helpers/temp-dir.ts";

const TARGET = "my-agent/reviewCoordinator";

/** A write through the control API (a run started), as any HTTP client sends it. */
async function startRunOverHttp(d: TestDaemon): Promise<Response> {
  const token = readFileSync(join(d.home, "token"), "utf8").trim();
  return await fetch(`http://127.0.0.1:${d.port}/v1/runs`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify({ target: TARGET, input: STARTER_INPUT }),
    signal: AbortSignal.timeout(30_000),
  });
}

interface StatusJson {
  store: { kind: string; available?: boolean; unavailable?: { message: string; retryAfterSeconds: number } };
}

/** `vilano daemon status --json`, and how long it took. */
function timedStatus(d: TestDaemon): { status: StatusJson; ms: number } {
  const began = performance.now();
  const status = d.json<StatusJson>("daemon", "status");
  return { status, ms: performance.now() - began };
}

/** Connections a listener on `port` took (and hung up on at once) while `during` ran. */
async function countConnections(port: number, during: () => Promise<void>): Promise<number> {
  let count = 0;
  const counter = createServer((socket) => {
    count++;
    socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    counter.once("error", reject);
    counter.listen({ host: "127.0.0.1", port, exclusive: true }, resolve);
  });
  try {
    await during();
  } finally {
    await new Promise<void>((resolve) => counter.close(() => resolve()));
  }
  return count;
}

describe.skipIf(!canRunPostgres)("the daemon while its PostgreSQL is away", () => {
  test("answers status in time, refuses writes with 503 and Retry-After, backs off, frees the port, recovers, and stops cleanly", async () => {
    const pg = pgServer(await freeEphemeralPort());
    await pg.start();
    const d = testDaemon({ VILANO_DATABASE_URL: pg.url });
    const agent = join(tempDir(), "my-agent");
    expect(d.cli("init", agent, "--starter").exitCode).toBe(0);
    const added = d.cli("project", "add", agent, "--name", "my-agent");
    expect(added.exitCode, added.stderr + readFileSync(join(d.home, "logs", "daemon.log"), "utf8")).toBe(0);
    const start = () => d.cli("run", "start", TARGET, "--input", JSON.stringify(STARTER_INPUT), "--wait", "--json");
    expect(JSON.parse(start().stdout).run.status).toBe("completed");
    const quiet = timedStatus(d);
    expect(quiet.status.store.available).toBe(true);

    await pg.stop();

    // Status answers, and says the database is away (its deadline is a few seconds: the CLI's own is 30 s).
    const away = await eventually(() => {
      const s = timedStatus(d);
      return s.status.store.available === false ? s : undefined;
    }, 30_000, "daemon status to report the database unavailable");
    expect(away.ms).toBeLessThan(10_000);
    expect(away.status.store.unavailable?.message).toContain("database");

    // A write is refused as "try again later", with when.
    const refused = await startRunOverHttp(d);
    expect(refused.status).toBe(503);
    const retryAfter = Number(refused.headers.get("retry-after"));
    expect(Number.isInteger(retryAfter) && retryAfter >= 1).toBe(true);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe("database_unavailable");
    const cliRefused = d.cli("run", "start", TARGET, "--input", JSON.stringify(STARTER_INPUT));
    expect(cliRefused.exitCode).toBe(5);
    expect(cliRefused.stderr).toContain("is unavailable");

    // While it is away, connection attempts back off: a listener on the port counts them (and hangs
    // up on each, as a server that is not there yet would). Without backoff a daemon tried about
    // ten times a second; at most one a second is asked here, while writes keep coming.
    const windowMs = 12_000;
    const attempts = await countConnections(pg.port, async () => {
      const until = Date.now() + windowMs;
      while (Date.now() < until) {
        expect((await startRunOverHttp(d)).status).toBe(503);
        await Bun.sleep(250);
      }
    });
    expect(attempts, `${attempts} connections in ${windowMs / 1_000} s`).toBeLessThanOrEqual(windowMs / 1_000);

    // Back on the same port: nothing of the daemon's holds it (no socket connected to itself).
    await pg.start();
    const served = await eventually(() => {
      const r = start();
      return r.exitCode === 0 ? (JSON.parse(r.stdout) as { run: { status: string } }) : undefined;
    }, 90_000, "a write to succeed once the database is back");
    expect(served.run.status).toBe("completed");
    expect(timedStatus(d).status.store.available).toBe(true);

    // Down again: `daemon stop` stops the daemon cleanly, without the SIGKILL after its grace.
    await pg.stop();
    await eventually(() => (timedStatus(d).status.store.available === false ? true : undefined), 30_000, "the outage to be noticed");
    const stopped = d.json<{ stopped: boolean; forced: boolean }>("daemon", "stop", "--grace", "30s");
    expect(stopped, `the daemon log ends:\n${readFileSync(join(d.home, "logs", "daemon.log"), "utf8").slice(-3000)}`).toMatchObject({ stopped: true, forced: false });
  }, 240_000);
});
