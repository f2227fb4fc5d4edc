/**
 * Through the daemon of the built executable: cancelling a workflow whose ask a service turn is
 * serving cancels that turn in its worker — the turn's subprocess is killed, the message ends
 * cancelled, and the instance answers the next ask (issue 22).
 */
import { expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { isAlive, testDaemon } from "../helpers/daemon.ts";
import { writeProject } from "../helpers/project.ts";
import { eventually, tempDir } from "../helpers/temp-dir.ts";

const FLOWS = readFileSync(join(import.meta.dir, "..", "fixtures", "ask-cancel-flows.ts"), "utf8");

test("run cancel of an asker cancels the service turn serving its ask; the instance serves the next ask", async () => {
  const d = testDaemon();
  expect(d.cli("project", "add", writeProject({ "src/flows.ts": FLOWS }), "--name", "p").exitCode).toBe(0);
  d.pid();
  const pidFile = join(tempDir(), "hold.pid");
  const { run } = d.json<{ run: { id: string } }>("run", "start", "p/asker", "--input", JSON.stringify({ pidFile }));
  const pid = await eventually(() => (existsSync(pidFile) ? Number(readFileSync(pidFile, "utf8").trim()) : undefined), 20_000, "the turn's subprocess to start");
  expect(Number.isInteger(pid) && pid > 1).toBe(true);
  expect(isAlive(pid)).toBe(true);

  expect(d.cli("run", "cancel", run.id).exitCode).toBe(0);
  expect(d.json("service", "ask", "p/gate", "status", "--key", "g")).toEqual({ ok: true, reply: [] });
  await eventually(() => (isAlive(pid) ? undefined : true), 20_000, "the cancelled turn's subprocess to be killed");

  const inspection = d.json<{ run: { status: string }; turns: { name: string; status: string }[]; events: { type: string; name?: string }[] }>(
    "service",
    "inspect",
    "p/gate",
    "--key",
    "g",
  );
  expect(inspection.run.status).toBe("idle");
  expect(inspection.turns.map((t) => [t.name, t.status])).toEqual([
    ["hold", "cancelled"],
    ["status", "done"],
  ]);
  expect(inspection.events.find((e) => e.type === "turn_cancelled")).toMatchObject({ name: "hold" });
}, 60_000);
