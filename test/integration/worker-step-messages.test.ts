/**
 * What a worker says about each step, seen on the transport-free worker core (the real engine and
 * project code, the pool's side played by the test): a step's end travels with its report, so a
 * step costs the pool two messages (its announce and its report); `step_end` is said alone only
 * when no report of the step follows.
 */
import { describe, expect, test } from "bun:test";
import { createWorkerCore } from "../../src/worker/worker-main.ts";
import type { FromWorker } from "../../src/worker/protocol.ts";
import { writeProject } from "../helpers/project.ts";
import { eventually } from "../helpers/temp-dir.ts";

const FLOWS = `
import { workflow } from "@vilano/runtime";

export const twoSteps = workflow({
  name: "two-steps",
  run: async (_input: void, ctx) => (await ctx.step("a", () => 1)) + (await ctx.step("b", () => 2, { timeout: "10s" })),
});

/** Its step waits until the activation is aborted: the attempt ends with no report of it. */
export const stopped = workflow({
  name: "stopped",
  run: async (_input: void, ctx) => ctx.step("wait", (step) => new Promise((_, reject) => step.signal.addEventListener("abort", () => reject(step.signal.reason)))),
});
`;
const project = writeProject({ "src/flows.ts": FLOWS });

/** A worker core whose reports are answered `recorded`, and everything it said. */
function workerCore() {
  const said: FromWorker[] = [];
  const core = createWorkerCore((message) => {
    said.push(message);
    if (message.t === "report") queueMicrotask(() => core.receive({ t: "reply", a: message.a, c: message.c, ok: true, res: { outcome: "recorded" } }));
  });
  const activate = (a: number, name: string) =>
    core.receive({ t: "activate", a, code: { id: "p", dir: project }, run: { id: `run-${a}`, project: "p", kind: "workflow", name, input: null }, fence: 1, ops: [] });
  const finished = (a: number) => eventually(() => said.find((m): m is Extract<FromWorker, { t: "finish" }> => m.t === "finish" && m.a === a), 10_000, `activation ${a} to finish`);
  return { core, said, activate, finished };
}

describe("worker: the messages of a step", () => {
  test("a step's end travels with its report: each step is announced, then reported, and nothing else is said of it", async () => {
    const { said, activate, finished } = workerCore();
    activate(1, "two-steps");
    expect((await finished(1)).result).toEqual({ type: "completed", output: "3" });
    const aboutSteps = said.filter((m) => m.t === "step" || m.t === "step_end" || m.t === "report");
    expect(aboutSteps.map((m) => (m.t === "report" ? `report ${m.cmd.type} ${m.cmd.opKey}` : `${m.t} ${"opKey" in m ? m.opKey : ""}`))).toEqual([
      "step step:a:0",
      "report step_completed step:a:0",
      "step step:b:0",
      "report step_completed step:b:0",
    ]);
    // The timed step's announce still carries its deadline's terms for the hard stop.
    expect(said.find((m) => m.t === "step" && m.opKey === "step:b:0")).toMatchObject({ timeoutMs: 10_000, attempt: 1, seq: 1 });
  }, 20_000);

  test("a step whose attempt ends with no report of it (its activation was aborted) says step_end alone", async () => {
    const { core, said, activate, finished } = workerCore();
    activate(2, "stopped");
    await eventually(() => said.find((m) => m.t === "step" && m.a === 2), 10_000, "the step to be announced");
    core.receive({ t: "abort", a: 2, code: "cancelled", message: "stop" });
    await finished(2);
    expect(said.filter((m) => m.t === "report")).toEqual([]);
    expect(said.filter((m) => m.t === "step_end")).toEqual([{ t: "step_end", a: 2, opKey: "step:wait:0" }]);
  }, 20_000);
});
