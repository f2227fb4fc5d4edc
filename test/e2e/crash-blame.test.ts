/**
 * Crash blame through the built daemon: a run whose code kills its shared worker (a signal leaves no
 * exit marker, so the worker cannot say whose code it was) costs its neighbours nothing. Nobody is
 * charged for a crash that cannot be attributed; every run that was on the worker goes next on a
 * worker of its own, and the one that crashes there, alone, is charged — and only it is quarantined.
 */
import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileLines } from "../helpers/lines.ts";
import { writeProject } from "../helpers/project.ts";
import { testDaemon } from "../helpers/daemon.ts";
import { eventually } from "../helpers/temp-dir.ts";

// User code as a user writes it (a string: the project is not part of this repository's sources).
const FLOWS = `
import { appendFileSync, existsSync } from "node:fs";
import { workflow } from "@vilano/runtime";

/** Waits (without blocking its worker) until the test says so, noting each attempt's start. */
export const innocent = workflow({
  name: "innocent",
  run: async (input: { tag: string }, ctx) =>
    ctx.step("nap", async () => {
      appendFileSync(\`innocent-\${input.tag}.log\`, \`\${process.pid}\\n\`);
      while (!existsSync("release")) await Bun.sleep(50);
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

const KILLER_FAILURE = { status: "failed", error: { code: "worker_crashed", details: { crashes: 3, signal: "SIGKILL" } } };

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

    const innocents = ["a", "b", "c", "d", "e", "f"].map((tag) => ({ tag, id: start("innocent", { tag }) }));
    // All six napping (three per worker) before the killers come; they go on napping until released.
    await eventually(() => (innocents.every((r) => shared(`innocent-${r.tag}.log`).length >= 1) ? true : undefined), 20_000, "every innocent run to be napping");
    const killers = ["x", "y", "z"].map((tag) => ({ tag, id: start("killer", { tag }) }));
    // The killers are quarantined while every innocent run still naps, wherever it is now.
    for (const r of killers) expect(result(r.id)).toMatchObject(KILLER_FAILURE);
    writeFileSync(join(d.workspaces, "blame", "shared", "release"), "");

    // The neighbour case did happen: innocent runs were on a worker a killer's code killed, and ran again.
    const killed = new Set(killers.map((r) => shared(`killer-${r.tag}.log`)[0]));
    const neighbours = innocents.filter((r) => killed.has(shared(`innocent-${r.tag}.log`)[0]));
    expect(neighbours.length).toBeGreaterThan(0);
    for (const r of neighbours) expect(shared(`innocent-${r.tag}.log`).length).toBeGreaterThanOrEqual(2);

    for (const r of innocents) {
      const view = result(r.id);
      expect({ run: r.id, status: view.status, error: view.error?.code }).toEqual({ run: r.id, status: "completed", error: undefined });
      expect(view.output).toBe("rested");
      // Not one crash charged to it.
      expect(events(r.id).filter((e) => e.type === "worker_crashed")).toEqual([]);
    }
    for (const r of killers) {
      const view = result(r.id);
      expect(view).toMatchObject(KILLER_FAILURE);
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

  test("a crash nobody can be blamed for starts few workers, not one per run it held; only the killer is quarantined", async () => {
    // One worker and no spares: the twelve innocent runs and the killer all share it.
    const d = testDaemon({ VILANO_WORKERS: "1" });
    // Blocking does not come into it: a cohort worker slow to answer on a loaded machine must not count as blocked (and have more workers started).
    const project = writeProject({ "src/flows.ts": FLOWS, "vilano.toml": `[worker]\nspare_workers = 0\nspare_after = "30s"\n` });
    expect(d.cli("project", "add", project, "--name", "blame").exitCode).toBe(0);
    d.pid();
    const shared = (file: string) => fileLines(join(d.workspaces, "blame", "shared", file));
    const start = (workflow: string, input: unknown) => d.json<{ run: { id: string } }>("run", "start", `blame/${workflow}`, "--input", JSON.stringify(input)).run.id;
    const workers = () => d.json<{ workers: { pids: number[] } }>("daemon", "status").workers.pids.length;
    const status = (id: string) => d.json<{ run: { status: string } }>("run", "inspect", id).run.status;

    const innocents = Array.from({ length: 12 }, (_, i) => ({ tag: `n${i}`, id: start("innocent", { tag: `n${i}` }) }));
    await eventually(() => (innocents.every((r) => shared(`innocent-${r.tag}.log`).length >= 1) ? true : undefined), 30_000, "every innocent run to be napping");
    const killer = start("killer", { tag: "k" });
    // The innocent runs nap until released, so every worker started for them is still there to count.
    let most = 0;
    await eventually(() => {
      most = Math.max(most, workers());
      return status(killer) === "failed" ? true : undefined;
    }, 60_000, "the killer to be quarantined");
    most = Math.max(most, workers());
    // The pool's one worker, plus a worker per cohort of suspects: 13 runs are halved at each crash
    // (7 and 6, then 4 and 3, then 2 and 2, then 1 and 1), so at most the halves cleared so far and the
    // killer's own. One worker per suspect would be 13 more.
    expect(most).toBeGreaterThan(1);
    expect(most).toBeLessThanOrEqual(1 + 1 + Math.ceil(Math.log2(13)));

    writeFileSync(join(d.workspaces, "blame", "shared", "release"), "");
    for (const r of innocents) {
      const view = d.json<{ run: RunView }>("run", "result", r.id, "--wait", "--timeout", "60s").run;
      expect({ run: r.id, status: view.status }).toEqual({ run: r.id, status: "completed" });
      expect(d.json<{ events: { type: string }[] }>("run", "replay", r.id).events.filter((e) => e.type === "worker_crashed")).toEqual([]);
    }
    expect(d.json<{ run: RunView }>("run", "result", killer, "--wait", "--timeout", "60s").run).toMatchObject(KILLER_FAILURE);
  }, 180_000);
});
