/**
 * Children, relationships and supervision through the built executable: `run inspect` lists a
 * parent's children and supervision members, `run explain` says which child a waiting parent
 * waits on, and child ids work as CLI arguments.
 */
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { testDaemon } from "../helpers/daemon.ts";
import { writeProject } from "../helpers/project.ts";
import { eventually } from "../helpers/temp-dir.ts";

const FLOWS = readFileSync(join(import.meta.dir, "..", "fixtures", "child-flows.ts"), "utf8");

test("run inspect and explain show a parent's children, the child it waits on, and supervision members", async () => {
  const d = testDaemon({ VILANO_WORKERS: "2" });
  expect(d.cli("project", "add", writeProject({ "src/flows.ts": FLOWS }), "--name", "kids").exitCode).toBe(0);

  const fan = d.json<{ run: { id: string; status: string; output: { pages: unknown[] } } }>("run", "start", "kids/fanOut", "--input", '{"ids":["x","y"]}', "--wait");
  expect(fan.run.status).toBe("completed");
  const inspected = d.cli("run", "inspect", fan.run.id);
  expect(inspected.stdout).toContain("children");
  expect(inspected.stdout).toContain(`${fan.run.id}~fetch:x`);
  expect(d.cli("run", "inspect", `${fan.run.id}~fetch:y`).stdout).toContain(`parent  ${fan.run.id}`);

  const { run } = d.json<{ run: { id: string } }>("run", "start", "kids/parentOfWaiter");
  const child = `${run.id}~waiter`;
  await eventually(() => (d.json<{ run: { status: string } }>("run", "inspect", run.id).run.status === "waiting" ? true : undefined), 10_000, "the parent to wait");
  const explained = d.cli("run", "explain", run.id).stdout;
  expect(explained).toContain(`waiting for child workflow "awaitsGo" ${child} to finish`);
  expect(explained).toContain("(the child is waiting)");
  expect(d.cli("signal", "send", child, "go", "--input", `{"by":"cli"}`).exitCode).toBe(0);
  expect(d.json<{ run: { output: unknown } }>("run", "result", run.id).run.output).toEqual({ got: { by: "cli" } });

  const owner = d.json<{ run: { id: string } }>("run", "start", "kids/supervises", "--input", '{"strategy":"one_for_one","maxRestarts":2}').run.id;
  const memberLine = (key: string) => `${key.padEnd(16)} ${owner}~supervise:0.${key} (waiting)`;
  await eventually(() => (["a", "b", "c"].every((k) => d.cli("run", "inspect", owner).stdout.includes(memberLine(k))) ? true : undefined), 10_000, "three members waiting");
  const view = d.cli("run", "inspect", owner).stdout;
  expect(view).toMatch(/supervision supervise:0 {2}one_for_one, 0\/2 restarts in 60000 ms/);
  expect(view).toContain("children");
  expect(d.cli("run", "explain", owner).stdout).toContain('waiting for supervised member "a"');
}, 60_000);
