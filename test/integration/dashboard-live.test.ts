/**
 * The dashboard's live stream against a real daemon runtime (SQLite file, worker processes): a page
 * names the change-feed version it was drawn at, and its stream, however late it connects, tells it
 * about every commit since.
 */
import { describe, expect, test } from "bun:test";
import { createApiBackend, createDaemonRuntime } from "../../src/runtime/index.ts";
import { createLogger } from "../../src/shared/index.ts";
import { createDashboard, createSessions } from "../../src/ui/index.ts";
import { writeProject } from "../helpers/project.ts";
import { tempDir } from "../helpers/temp-dir.ts";

const FLOW = `
import { workflow } from "@vilano/runtime";
export const hello = workflow({ name: "hello", run: async (input: { n: number }, ctx) => ctx.step("double", () => input.n * 2) });
`;
const HOST = { host: "127.0.0.1:7700" };

/** Reads server-sent events from `body` until `enough` says so (the stream stays open otherwise). */
async function readEvents(body: ReadableStream<Uint8Array>, enough: (events: { event: string; id: string }[]) => boolean) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const events: { event: string; id: string }[] = [];
  let text = "";
  while (!enough(events)) {
    const { value, done } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
    let end: number;
    while ((end = text.indexOf("\n\n")) >= 0) {
      const block = text.slice(0, end);
      text = text.slice(end + 2);
      const fields = Object.fromEntries(block.split("\n").map((line) => [line.slice(0, line.indexOf(":")), line.slice(line.indexOf(":") + 1).trim()]));
      events.push({ event: fields.event ?? "message", id: fields.id ?? "" });
    }
  }
  await reader.cancel();
  return events;
}

describe("the dashboard's live stream", () => {
  test("a stream that connects after commits the page did not show tells the page at once; one that is up to date only says ready", async () => {
    await using rt = await createDaemonRuntime({ home: tempDir("vilano-home-"), logger: createLogger("silent") });
    await rt.projects.add(writeProject({ "src/flow.ts": FLOW }), "live");
    const sessions = createSessions();
    const dashboard = createDashboard({ backend: createApiBackend(rt, sessions), sessions });
    const login = await dashboard.request(`/ui/login?code=${sessions.issueLoginCode().code}`, { headers: HOST });
    const cookie = login.headers.get("set-cookie")!.split(";")[0]!;
    const get = (path: string, headers: Record<string, string> = {}) => dashboard.request(path, { headers: { ...HOST, cookie, ...headers } });

    await rt.result((await rt.startRun("live/hello", { n: 1 })).id, { timeout: "5s" });
    const page = await (await get("/ui/runs")).text();
    const stream = /data-live="([^"]+)"/.exec(page)![1]!.replaceAll("&amp;", "&");
    const drawnAt = Number(new URL(stream, "http://x").searchParams.get("since"));
    expect(drawnAt).toBeGreaterThan(0);

    // Committed after the page was drawn, before its stream connected.
    const late = await rt.startRun("live/hello", { n: 2 }, { id: "after-the-page" });
    await rt.result(late.id, { timeout: "5s" });
    const behind = await readEvents((await get(stream)).body!, (events) => events.some((e) => e.event === "change"));
    expect(behind.map((e) => e.event)).toEqual(["ready", "change"]);
    expect(Number(behind[1]!.id)).toBeGreaterThan(drawnAt);

    // Up to date: ready with the current version; the next commit is heard as it happens.
    const current = await get(stream.replace(/since=\d+/, `since=${Number(behind[1]!.id)}`));
    const upToDate = readEvents(current.body!, (events) => events.length >= 2);
    const next = await rt.startRun("live/hello", { n: 3 });
    await rt.result(next.id, { timeout: "5s" });
    const heard = await upToDate;
    expect(heard.map((e) => e.event)).toEqual(["ready", "change"]);
    expect(heard[0]!.id).toBe(behind[1]!.id);

    // After a reconnect the browser sends the last id it heard, which wins over the page's own.
    const upToDateUrl = stream.replace(/since=\d+/, `since=${rt.kernel.changeVersion()}`);
    const reconnected = await readEvents((await get(upToDateUrl, { "last-event-id": String(drawnAt) })).body!, (events) => events.length >= 2);
    expect(reconnected.map((e) => e.event)).toEqual(["ready", "change"]);
  }, 20_000);
});
