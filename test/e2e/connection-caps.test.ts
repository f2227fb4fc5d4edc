/**
 * Held connections cannot take the daemon away from its users: past VILANO_MAX_STREAMS event
 * streams, or VILANO_MAX_CONNECTIONS requests in flight, a request is answered 503 with
 * `Retry-After` (and its connection closed) instead of held; streams can never take the last
 * connections, so `/health` and the CLI's requests still get through; closed streams make room.
 * Through the built executable, on a small configured cap.
 */
import { afterEach, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { addApprovalProject, testDaemon, type TestDaemon } from "../helpers/daemon.ts";
import { eventually } from "../helpers/temp-dir.ts";

const MAX_STREAMS = 4;
const MAX_CONNECTIONS = 40;
let d: TestDaemon;
let runId: string;
let token: string;
/** Everything a test holds open, closed after it. */
const held: AbortController[] = [];

beforeAll(async () => {
  d = testDaemon({ VILANO_WORKERS: "1", VILANO_MAX_STREAMS: String(MAX_STREAMS), VILANO_MAX_CONNECTIONS: String(MAX_CONNECTIONS) });
  addApprovalProject(d);
  runId = d.json<{ run: { id: string } }>("run", "start", "w/approval").run.id;
  token = readFileSync(join(d.home, "token"), "utf8").trim();
  await eventually(() => (d.json<{ run: { status: string } }>("run", "inspect", runId).run.status === "waiting" ? true : undefined), 20_000, "the run to wait");
}, 60_000);

afterEach(() => {
  for (const controller of held.splice(0)) controller.abort();
});

/** A request on the daemon with the token, held until the test ends (or `controller` aborts it). */
function request(path: string, controller = new AbortController()): Promise<Response> {
  held.push(controller);
  return fetch(`http://127.0.0.1:${d.port}${path}`, { headers: { "x-vilano-token": token }, signal: controller.signal });
}

/** Opens the run's event stream; resolves once its first events arrived (or with the refusal). */
async function openStream(controller = new AbortController()): Promise<Response> {
  const res = await request(`/v1/runs/${runId}/events`, controller);
  if (res.ok) await res.body!.getReader().read();
  return res;
}

const health = async () => (await fetch(`http://127.0.0.1:${d.port}/health`)).status;

describe("connection and stream caps (built executable)", () => {
  test("streams past the cap get 503 with Retry-After; /health and the CLI still answer; closed streams make room", async () => {
    const first = new AbortController();
    const open = [await openStream(first)];
    for (let i = 1; i < MAX_STREAMS; i++) open.push(await openStream());
    expect(open.map((r) => r.status)).toEqual(Array(MAX_STREAMS).fill(200));

    for (let i = 0; i < 3; i++) {
      const refused = await openStream();
      expect(refused.status).toBe(503);
      expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
      const { error } = (await refused.json()) as { error: { code: string; message: string } };
      expect(error.code).toBe("daemon_overloaded");
      expect(error.message).toContain(`${MAX_STREAMS} event streams`);
      expect(error.message).toContain("VILANO_MAX_STREAMS");
    }

    expect(await health()).toBe(200);
    const listed = d.cli("run", "list", "--json");
    expect(listed.exitCode).toBe(0);
    expect(JSON.parse(listed.stdout).runs.map((r: { id: string }) => r.id)).toContain(runId);
    expect(d.cli("run", "inspect", runId, "--json").exitCode).toBe(0);
    // The CLI's own stream is refused clearly too, with the daemon's exit code for "try later".
    const follow = d.cli("run", "logs", runId, "--follow", "--json");
    expect(follow.exitCode).toBe(11);
    expect(JSON.parse(follow.stdout).error.code).toBe("daemon_overloaded");

    first.abort();
    const again = await eventually(async () => {
      const res = await openStream();
      return res.status === 200 ? res : undefined;
    }, 20_000, "a stream to be accepted once one closed");
    expect(again.status).toBe(200);
  }, 60_000);

  test("requests in flight past the connection cap get 503 with Retry-After; /health still answers; then room again", async () => {
    // Long polls hold requests in flight (streams cannot: they are capped below the connections).
    const polls = Array.from({ length: MAX_CONNECTIONS }, () => new AbortController());
    const pending = polls.map((c) => request(`/v1/runs/${runId}/result?wait=60000`, c).catch(() => undefined));
    const refused = await eventually(async () => {
      const res = await request("/v1/status");
      return res.status === 503 ? res : undefined;
    }, 20_000, "the connection cap to be reached");
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(refused.headers.get("connection")).toBe("close");
    const { error } = (await refused.json()) as { error: { code: string; message: string } };
    expect(error.code).toBe("daemon_overloaded");
    expect(error.message).toContain("VILANO_MAX_CONNECTIONS");
    expect(await health()).toBe(200);

    for (const c of polls) c.abort();
    await Promise.all(pending);
    await eventually(async () => ((await request("/v1/status")).status === 200 ? true : undefined), 20_000, "room again after the polls closed");
    expect(d.cli("run", "list", "--json").exitCode).toBe(0);
  }, 60_000);
});
