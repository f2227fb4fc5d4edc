/**
 * Crash blame through the built daemon: a run whose code kills its shared worker (a signal leaves no
 * exit marker, so the worker cannot say whose code it was) costs its neighbours nothing. Nobody is
 * charged for a crash that cannot be attributed; every run that was on the worker goes next on a
 * worker of its own, and the one that crashes there, alone, is charged — and only it is quarantined.
 */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { fileLines } from "../helpers/lines.ts";
import { writeProject } from "../helpers/project.ts";
import { testDaemon } from "../helpers/daemon.ts";
import { eventually } from "../helpers/temp-dir.ts";

// User code as a user writes it (a string: the project is not part of this repository's sources).
const FLOWS = `
import { appendFileSync } from "node:fs";
import { workflow } from "@vilano/runtime";

/** Waits (without blocking its worker) for ms, noting each attempt's start. */
export const innocent = workflow({
  name: "innocent",
  run: async (input: { ms: number; tag: string }, ctx) =>
    ctx.step("nap", async () => {
      appendFileSync(\`innocent-\${input.tag}.log\`, \`\${process.pid}\\n\`);
      await Bun.sleep(input.ms);
      return "rested";
    }),
});

/** Kills its own worker with SIGKILL on every attempt: no exit marker says whose code it was. */
export const killer = workflow({
  name: "killer",
  run: async (input: { tag: string }, ctx) => {
    await ctx.step("kill", () => {
      appendFileSync(\`killer-\${input.tag}.log\`, \`\${process.pid}\\n\`);
      process.kill(process.pid, "SIGKILL");
    });
    return "unreachable";
  },
});
`;

type RunView = { status: string; output?: unknown; error?: { code?: string; message?: string; details?: Record<string, unknown> } };

describe("crash blame (built executable)", () => {
  test("runs that SIGKILL their shared worker are quarantined alone; every innocent run beside them completes, uncharged", async () => {
    const d = testDaemon({ VILANO_WORKERS: "2" });
    expect(d.cli("project", "add", writeProject({ "src/flows.ts": FLOWS }), "--name", "blame").exitCode).toBe(0);
    d.pid();
    const shared = (file: string) => fileLines(join(d.workspaces, "blame", "shared", file));
    const start = (workflow: string, input: unknown) => d.json<{ run: { id: string } }>("run", "start", `blame/${workflow}`, "--input", JSON.stringify(input)).run.id;
    const result = (id: string) => d.json<{ run: RunView }>("run", "result", id, "--wait", "--timeout", "60s").run;
    const events = (id: string) => d.json<{ events: { type: string; [k: string]: unknown }[] }>("run", "replay", id).events;

    const innocents = ["a", "b", "c", "d", "e", "f"].map((tag) => ({ tag, id: start("innocent", { ms: 2_500, tag }) }));
    // All six napping (three per worker) before the killers come.
    await eventually(() => (innocents.every((r) => shared(`innocent-${r.tag}.log`).length >= 1) ? true : undefined), 20_000, "every innocent run to be napping");
    const killers = ["x", "y", "z"].map((tag) => ({ tag, id: start("killer", { tag }) }));

    for (const r of innocents) {
      const view = result(r.id);
      expect({ run: r.id, status: view.status, error: view.error?.code }).toEqual({ run: r.id, status: "completed", error: undefined });
      expect(view.output).toBe("rested");
      // Not one crash charged to it.
      expect(events(r.id).filter((e) => e.type === "worker_crashed")).toEqual([]);
    }
    for (const r of killers) {
      const view = result(r.id);
      expect(view).toMatchObject({ status: "failed", error: { code: "worker_crashed", details: { crashes: 3, signal: "SIGKILL" } } });
      // The failure names the run that crashed its worker, never a neighbour.
      expect(view.error?.message).toContain(r.id);
      for (const other of [...innocents, ...killers]) if (other.id !== r.id) expect(view.error?.message).not.toContain(other.id);
      // Charged three times, each time alone on a worker of its own.
      expect(events(r.id).filter((e) => e.type === "worker_crashed")).toHaveLength(3);
    }
    const log = d.json<{ lines: string[] }>("daemon", "logs", "--lines", "500").lines.join("\n");
    for (const r of innocents) expect(log).not.toContain(`run ${r.id} failed for good`);
    for (const r of killers) expect(log).toContain(`run ${r.id} failed for good`);
  }, 120_000);
});
