/**
 * The reference SDK's shapes through the built executable: a project written for the reference runs
 * unchanged in the daemon's workers (refs by name with `definitionName`/`serviceKey`, supervision
 * members, the retry shorthand), and `ctx.reject`'s message reaches a workflow and the CLI as written.
 */
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { testDaemon } from "../helpers/daemon.ts";
import { writeProject } from "../helpers/project.ts";

const FLOWS = readFileSync(join(import.meta.dir, "..", "fixtures", "shape-flows.ts"), "utf8");

test("a project written in the reference's shapes runs unchanged in the daemon, and a rejection reads as written", () => {
  const d = testDaemon({ VILANO_WORKERS: "1" });
  expect(d.cli("project", "add", writeProject({ "src/flows.ts": FLOWS }), "--name", "shapes").exitCode).toBe(0);
  const output = (workflow: string, input?: unknown) => {
    const args = ["run", "start", `shapes/${workflow}`, "--wait", "--timeout", "60s", ...(input === undefined ? [] : ["--input", JSON.stringify(input)])];
    const { run } = d.json<{ run: { id: string; status: string; output: Record<string, unknown> } }>(...args);
    expect(run.status).toBe("completed");
    return { id: run.id, output: run.output };
  };

  const refs = output("refShapes", { team: "core", region: "eu" }).output;
  const described = { id: "svc:shapes/desk:core@eu", definitionName: "desk", serviceKey: "core@eu" };
  expect(refs.refs).toEqual([described, described, described]);
  expect(refs).toMatchObject({ byName: { verbose: true }, count: 2, keyed: 2 });

  expect(output("rejections").output).toMatchObject({
    plain: { message: "closed for lunch", reason: "service_turn_rejected" },
    reasoned: { message: "too late", reason: "after_hours" },
    thrown: { message: "desk.crash on svc:shapes/desk:t@r failed: boom", code: "service_call_failed" },
  });

  const supervised = output("supervisedShapes");
  expect((supervised.output.members as Record<string, unknown>[]).map(({ key, definitionName, generation, currentRunId, input }) => ({ key, definitionName, generation, currentRunId, input }))).toEqual([
    { key: "a", definitionName: "flipper", generation: 1, currentRunId: `${supervised.id}~supervise:0.a.r1`, input: { tag: "a", failFirst: true } },
    { key: "b", definitionName: "flipper", generation: 0, currentRunId: `${supervised.id}~supervise:0.b`, input: { tag: "b", failFirst: false } },
  ]);

  expect(output("retryShorthand").output).toEqual({ attempts: 3, exec: "process_exit" });
  expect(output("badOptions").output).toMatchObject({
    askTypo: { code: "validation_failed", retryable: false, message: 'ref.ask.count(): unknown option "timout" (known: timeout, key)' },
    badPolicy: { code: "validation_failed", retryable: false },
  });

  expect(d.cli("service", "ensure", "shapes/desk", "--key-json", '{"team":"cli","region":"eu"}').exitCode).toBe(0);
  const asked = d.cli("service", "ask", "shapes/desk", "refuse", "--key", "cli@eu", "--input", '{"why":"closed on Sundays"}', "--json");
  expect(asked.exitCode).not.toBe(0);
  expect(JSON.parse(asked.stdout)).toMatchObject({ ok: false, error: { code: "service_turn_rejected", message: "closed on Sundays" } });
}, 60_000);
