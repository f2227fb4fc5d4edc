/**
 * The API's run event streams and the dashboard's live pages share one count of streams: with every
 * slot taken, either is refused with 503 and `Retry-After` (its connection to be closed), and a
 * stream that ends gives its slot back.
 */
import { describe, expect, test } from "bun:test";
import { createApiApp, createStreamSlots } from "../../src/api/index.ts";
import { createApiBackend, createDaemonRuntime } from "../../src/runtime/index.ts";
import { createLogger } from "../../src/shared/index.ts";
import { createDashboard, createSessions } from "../../src/ui/index.ts";
import { writeProject } from "../helpers/project.ts";
import { eventually, tempDir } from "../helpers/temp-dir.ts";

const FLOW = `
import { workflow } from "@vilano/runtime";
export const approval = workflow({ name: "approval", run: async (_i: void, ctx) => ctx.waitForSignal("approved") });
`;
const HOST = { host: "127.0.0.1:7700" };
const TOKEN = "slots-token";

describe("stream slots", () => {
  test("the API and the dashboard share the cap; a refused stream gets 503 with Retry-After; an ended one frees its slot", async () => {
    await using rt = await createDaemonRuntime({ home: tempDir("vilano-home-"), logger: createLogger("silent") });
    await rt.projects.add(writeProject({ "src/flow.ts": FLOW }), "slots");
    const run = await rt.startRun("slots/approval", undefined);
    const sessions = createSessions();
    const backend = createApiBackend(rt, sessions);
    const streams = createStreamSlots(1);
    const api = createApiApp({ backend, token: TOKEN, streams });
    const dashboard = createDashboard({ backend, sessions, streams });
    const login = await dashboard.request(`/ui/login?code=${sessions.issueLoginCode().code}`, { headers: HOST });
    const cookie = login.headers.get("set-cookie")!.split(";")[0]!;

    const held = await api.request(`/v1/runs/${run.id}/events`, { headers: { ...HOST, "x-vilano-token": TOKEN } });
    expect(held.status).toBe(200);
    const reader = held.body!.getReader();
    await reader.read();
    expect(streams.open).toBe(1);

    const live = await dashboard.request(`/ui/live?run=${encodeURIComponent(run.id)}`, { headers: { ...HOST, cookie } });
    expect(live.status).toBe(503);
    expect(live.headers.get("retry-after")).toBe("5");
    expect(live.headers.get("connection")).toBe("close");
    expect(((await live.json()) as { error: { code: string } }).error.code).toBe("daemon_overloaded");
    const second = await api.request(`/v1/runs/${run.id}/events`, { headers: { ...HOST, "x-vilano-token": TOKEN } });
    expect(second.status).toBe(503);

    await reader.cancel();
    await eventually(() => (streams.open === 0 ? true : undefined), 10_000, "the cancelled stream to give its slot back");
    const again = await dashboard.request(`/ui/live?run=${encodeURIComponent(run.id)}`, { headers: { ...HOST, cookie } });
    expect(again.status).toBe(200);
    await again.body!.cancel();
    await eventually(() => (streams.open === 0 ? true : undefined), 10_000, "the dashboard's stream to give its slot back");
  }, 30_000);
});
