/**
 * The reference SDK's shapes, run as its users run them: in this process and through worker
 * processes, with live executions off so that every activation after a wait is a replay. Refs carry
 * `definitionName`/`serviceKey` and take calls by name; `ctx.reject` reaches the asker with its own
 * message; `group.members()` entries carry the reference's fields; retry policies take the
 * shorthand and the reference's jitter; options a call does not know are refused by name.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { type Runtime } from "../../src/embedded/index.ts";
import { installSdkModule } from "../../src/project/index.ts";
import { createLogger } from "../../src/shared/index.ts";
import { writeProject } from "../helpers/project.ts";
import { createRuntime } from "../helpers/stores.ts";
import { tempDir } from "../helpers/temp-dir.ts";
import type * as Flows from "../fixtures/shape-flows.ts";

const project = writeProject({ "src/flows.ts": readFileSync(join(import.meta.dir, "..", "fixtures", "shape-flows.ts"), "utf8") });
installSdkModule();
const flows = (await import(join(project, "src", "flows.ts"))) as typeof Flows;
const logger = createLogger("silent");
const opened: Runtime[] = [];
afterAll(async () => {
  for (const rt of opened) await rt.close();
});

const modes = [
  ["in-process", () => createRuntime({ definitions: Object.values(flows), liveExecutions: 0, logger })],
  ["workers", () => createRuntime({ workers: 1, project, workspace: tempDir("vilano-workspace-"), liveExecutions: 0, logger })],
] as const;

describe.each(modes)("reference shapes (%s)", (_mode, make) => {
  const open = async () => {
    const rt = await make();
    opened.push(rt);
    return rt;
  };
  const run = async (rt: Runtime, workflow: string, input?: unknown) => {
    const handle = await rt.start(workflow, input);
    return { id: handle.id, output: (await handle.result({ timeout: "30s" })) as Record<string, unknown> };
  };

  test("refs from connect, lookup and lookupSingleton carry definitionName and serviceKey; ask and send take the handler's name, on replay too", async () => {
    const rt = await open();
    const { id, output } = await run(rt, "refShapes", { team: "core", region: "eu" });
    const script = await rt.connect(flows.desk, { team: "core", region: "eu" });
    const described = { id: script.id, definitionName: "desk", serviceKey: "core@eu" };
    expect(script).toMatchObject(described);
    expect(output.refs).toEqual([described, described, described]);
    expect(output).toMatchObject({
      byName: { hints: ["by name", "by member"], verbose: true },
      byMember: { hints: ["by name", "by member"], verbose: false },
      count: 2,
      keyed: 2,
    });
    const { ops, events } = await rt.inspect(id);
    // The code went on after the sleep by a replay, which found every call where it was made.
    expect(events.filter((e) => e.type === "run_waiting").length).toBeGreaterThanOrEqual(1);
    expect(ops.filter((o) => o.kind === "send").map((o) => o.opKey)).toEqual(["send:desk.hint:0", "send:desk.hint:1"]);
    expect(ops.filter((o) => o.kind === "ask").map((o) => o.opKey)).toEqual(["ask:desk.status:0", "ask:desk.status:1", "ask:desk.count:0", "count-once"]);
  });

  test("a script's ref takes calls by name and refuses options it does not know", async () => {
    const rt = await open();
    const ref = await rt.connect(flows.desk, { team: "ops", region: "us" });
    expect({ definitionName: ref.definitionName, serviceKey: ref.serviceKey }).toEqual({ definitionName: "desk", serviceKey: "ops@us" });
    await ref.send("hint", { note: "from a script" });
    expect(await ref.ask("status", { verbose: true }, { timeout: "30s" })).toEqual({ hints: ["from a script"], verbose: true });
    expect(await ref.ask.count()).toBe(1);
    const keyed = await ref.ask("count", undefined, { key: "k" } as never).catch((e: unknown) => e);
    expect(keyed).toMatchObject({ code: "validation_failed", message: expect.stringContaining('"key"') });
    const typo = await ref.send.hint({ note: "x" }, { delay: "1s" } as never).catch((e: unknown) => e);
    expect(typo).toMatchObject({ code: "validation_failed", message: expect.stringContaining('unknown option "delay"') });
    expect(() => (ref.ask as unknown as (handler: string) => unknown)("nope")).toThrow('service "desk" has no onAsk handler "nope" (it has: status, count,');
  });

  test("ctx.reject reaches the asker with its own message and reason; a thrown error still names the call", async () => {
    const rt = await open();
    const { output } = await run(rt, "rejections");
    const instance = (await rt.connect(flows.desk, { team: "t", region: "r" })).id;
    expect(output).toEqual({
      plain: { message: "closed for lunch", code: "service_turn_rejected", reason: "service_turn_rejected", retryable: false },
      reasoned: { message: "too late", code: "service_turn_rejected", reason: "after_hours", retryable: false },
      fromError: { message: "from an Error", code: "service_turn_rejected", reason: "service_turn_rejected", retryable: false },
      fromText: { message: "just a string", code: "service_turn_rejected", reason: "service_turn_rejected", retryable: false },
      thrown: { message: `desk.crash on ${instance} failed: boom`, code: "service_call_failed", retryable: true },
    });

    const script = await rt.connect(flows.desk, { team: "s", region: "r" });
    const error = await script.ask.refuse({ why: "not from scripts either", reason: "nope" }).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: "ServiceCallError", code: "service_turn_rejected", message: "not from scripts either", cause: { reason: "nope" } });

    const uncaught = await rt.start("rejectedUncaught");
    expect(await uncaught.result({ timeout: "30s" }).catch((e: { cause: unknown }) => e.cause)).toMatchObject({ message: "no entry", code: "service_turn_rejected" });
  });

  test("group.members() entries carry definitionName, generation, currentRunId and input", async () => {
    const rt = await open();
    const { id, output } = await run(rt, "supervisedShapes");
    expect(output).toEqual({
      results: ["a", "b"],
      members: [
        {
          key: "a",
          workflow: "flipper",
          definitionName: "flipper",
          runId: `${id}~supervise:0.a.r1`,
          currentRunId: `${id}~supervise:0.a.r1`,
          restarts: 1,
          generation: 1,
          status: "completed",
          input: { tag: "a", failFirst: true },
        },
        {
          key: "b",
          workflow: "flipper",
          definitionName: "flipper",
          runId: `${id}~supervise:0.b`,
          currentRunId: `${id}~supervise:0.b`,
          restarts: 0,
          generation: 0,
          status: "completed",
          input: { tag: "b", failFirst: false },
        },
      ],
    });
  });

  test("step and exec take retries, backoff and on at the top level, and jitter as { kind: \"ratio\", ratio }", async () => {
    const rt = await open();
    const { id, output } = await run(rt, "retryShorthand");
    expect(output).toEqual({ attempts: 3, exec: "process_exit" });
    const { events } = await rt.inspect(id);
    expect(events.filter((e) => e.type === "step_attempt_failed")).toHaveLength(2);
    expect(events.filter((e) => e.type === "exec_attempt_failed")).toHaveLength(2);
    expect(events.find((e) => e.type === "exec_failed")).toMatchObject({ decision: "attempts_exhausted" });
  });

  test("options a call does not know, and invalid policies, are non-retryable errors that name them", async () => {
    const rt = await open();
    const { output } = await run(rt, "badOptions");
    const refused = (...parts: string[]) => ({ code: "validation_failed", retryable: false, message: expect.stringContaining(parts.join("")) });
    expect(output).toEqual({
      bothRetry: refused('ctx.step("a"): give the retry policy once, either as retry: { … } or as retries at the top level, not both'),
      stepTypo: refused('ctx.step("b"): unknown option "tiemout"'),
      badPolicy: refused('ctx.step("c"): invalid retry policy: retries must be a whole number >= 0, got -1'),
      badJitter: refused('ctx.step("d"): invalid retry policy: jitter must be'),
      execTypo: refused('ctx.exec(): exec "e": unknown option "retires"'),
      execCaptureTypo: refused('ctx.exec(): exec "f" capture: unknown option "stdot"'),
      askTypo: refused('ref.ask.count(): unknown option "timout" (known: timeout, key)'),
      sendTypo: refused('ref.send.hint(): unknown option "delay" (known: key)'),
      noHandler: refused('service "desk" has no onAsk handler "nope"'),
    });
  });

  test("a turn whose step has an invalid policy fails once, whatever the service's retry policy", async () => {
    const rt = await open();
    const { output } = await run(rt, "asksBadPolicy");
    expect(output.failure).toMatchObject({ code: "service_call_failed", retryable: false, message: expect.stringContaining('ctx.step("x"): invalid retry policy: retries must be a whole number >= 0, got -1') });
    expect(output.next).toBe(1);
    const failures = (await rt.inspect(output.instance as string)).events.filter((e) => e.type === "turn_failed");
    expect(failures.map((e) => e.decision)).toEqual(["non_retryable"]);

    const uncaught = await rt.start("badPolicyUncaught");
    expect(await uncaught.result({ timeout: "30s" }).catch((e: { cause: unknown }) => e.cause)).toMatchObject({ code: "validation_failed", retryable: false });
  });
});
