/**
 * Spare workers through the built daemon: when untimed loops block every worker of a project, the
 * pool starts spare workers (up to `[worker] spare_workers`), so the project's other runs go on;
 * `run explain` names the blocked worker and the run blocking it; the spares retire once the
 * blockers are gone. The loops are cancelled at the end (a cancel kills their workers).
 */
import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileLines } from "../helpers/lines.ts";
import { writeProject } from "../helpers/project.ts";
import { isAlive, testDaemon } from "../helpers/daemon.ts";
import { eventually } from "../helpers/temp-dir.ts";

const FLOWS = `
import { appendFileSync, existsSync, readFileSync } from "node:fs";
import { workflow } from "@vilano/runtime";

/** Blocks its worker for good with a step that has no timeout: only a cancel ends it. */
export const spin = workflow({
  name: "spin",
  run: async (input: { tag: string }, ctx) => {
    await ctx.step("loop", () => {
      appendFileSync(\`spin-\${input.tag}.log\`, \`\${process.pid}\\n\`);
      for (;;);
    });
    return "never";
  },
});

/** An ordinary run whose step awaits (without blocking its worker) until the test says so, noting each attempt's start. */
export const gated = workflow({
  name: "gated",
  run: async (input: { tag: string }, ctx) =>
    ctx.step("wait", async () => {
      appendFileSync(\`gated-\${input.tag}.log\`, \`\${process.pid}\\n\`);
      while (!existsSync("gate")) await Bun.sleep(20);
      return process.pid;
    }),
});

/**
 * Loops in its code before its first op, so its worker never hears a word of it. Each copy notes
 * its pid and how many earlier copies are still alive (live, not zombie processes), so a loop that
 * ran in two processes at once shows.
 */
export const spinEarly = workflow({
  name: "spin-early",
  run: async () => {
    const alive = (pid: number) => {
      try {
        return pid > 1 && !readFileSync(\`/proc/\${pid}/stat\`, "utf8").replace(/^.*\\) /s, "").startsWith("Z");
      } catch {
        return false;
      }
    };
    const earlier = existsSync("spin-early.log") ? readFileSync("spin-early.log", "utf8").split("\\n").filter(Boolean).map((l) => Number(l.split(" ")[0])) : [];
    appendFileSync("spin-early.log", \`\${process.pid} \${earlier.filter((pid) => pid !== process.pid && alive(pid)).length}\\n\`);
    for (;;);
  },
});

/** An ordinary run. */
export const ordinary = workflow({
  name: "ordinary",
  run: async (_input: void, ctx) => ctx.step("work", () => process.pid),
});
`;

type Event = { type: string; why?: string; [k: string]: unknown };

const CONFIG = `[worker]\nspare_workers = 2\nspare_after = "2s"\n`;

/** A daemon of `workers` workers with the loops project added; its shared folder and a run starter. */
function loopsDaemon(workers: number) {
  const d = testDaemon({ VILANO_WORKERS: String(workers) });
  expect(d.cli("project", "add", writeProject({ "src/flows.ts": FLOWS, "vilano.toml": CONFIG }), "--name", "loops").exitCode).toBe(0);
  d.pid();
  const folder = join(d.workspaces, "loops", "shared");
  const shared = (file: string) => fileLines(join(folder, file));
  const start = (workflow: string, input?: unknown) =>
    d.json<{ run: { id: string } }>("run", "start", `loops/${workflow}`, ...(input === undefined ? [] : ["--input", JSON.stringify(input)])).run.id;
  return { d, folder, shared, start };
}

describe("spare workers (built executable)", () => {
  test("with every worker blocked by untimed loops, an ordinary run completes on a spare; explain names the blocked worker and its blocker; spares retire afterwards", async () => {
    const { d, shared, start } = loopsDaemon(2);
    const explain = (id: string) => d.cli("run", "explain", id).stdout;
    const inspectWorker = (id: string) => d.json<{ worker?: { pid: number; blockedForMs?: number; blockedBy?: { runId: string; step: string }[] } }>("run", "inspect", id).worker;

    const spinners = ["a", "b"].map((tag) => ({ tag, id: start("spin", { tag }) }));
    const pids: number[] = [];
    try {
      // Two loops, one per worker: every worker of the project is blocked.
      for (const s of spinners) pids.push(Number(await eventually(() => shared(`spin-${s.tag}.log`)[0], 20_000, `spinner ${s.tag} to loop`)));
      expect(new Set(pids).size).toBe(2);
      for (const pid of pids) expect(pid).toBeGreaterThan(1);
      // A third loop, started at once, is sent to one of the two blocked workers (not seen blocked yet),
      // which never reads it: once the pool sees that worker blocked, it takes the run back, and the run
      // goes on a spare (where it loops too).
      const third = { tag: "c", id: start("spin", { tag: "c" }) };
      spinners.push(third);

      // The pool sees the workers blocked (2 s of silence), so a run started now goes to a spare.
      await eventually(() => (inspectWorker(spinners[0]!.id)?.blockedForMs !== undefined ? true : undefined), 20_000, "the pool to see the first worker blocked");
      const ordinary = d.json<{ run: { status: string; output?: unknown } }>("run", "result", start("ordinary"), "--wait", "--timeout", "30s").run;
      expect(ordinary.status).toBe("completed");
      expect(pids).not.toContain(ordinary.output);

      // Explain of a blocker names its worker and says its own step blocks it.
      for (const [i, s] of spinners.slice(0, 2).entries()) {
        const text = explain(s.id);
        expect(text).toContain(`its step "loop" is blocking worker ${pids[i]}`);
        expect(text).not.toContain("its code is running now");
      }
      // The third does not wait behind a loop: it blocks a spare of its own, and it ran once, there.
      const thirdWorker = await eventually(() => {
        const w = inspectWorker(third.id);
        return w?.blockedForMs !== undefined && !pids.includes(w.pid) ? w : undefined;
      }, 20_000, "the third loop to block a spare of its own");
      expect(explain(third.id)).toContain(`its step "loop" is blocking worker ${thirdWorker.pid}`);
      expect(shared("spin-c.log")).toEqual([String(thirdWorker.pid)]);
      const status = d.json<{ workers: { stats: { spares: number } } }>("daemon", "status");
      expect(status.workers.stats.spares).toBeGreaterThanOrEqual(1);
      expect(status.workers.stats.spares).toBeLessThanOrEqual(2);
      // The daemon log says why a spare was started, naming a blocked worker.
      const log = d.json<{ lines: string[] }>("daemon", "logs", "--lines", "300").lines.join("\n");
      expect(log).toMatch(new RegExp(`starting a spare worker \\(1 of at most 2\\)`));
    } finally {
      // Never leave a loop spinning: cancelling kills each blocked worker after the cancel grace.
      for (const s of spinners) d.cli("run", "cancel", s.id);
      for (const pid of pids) await eventually(() => (isAlive(pid) ? undefined : true), 20_000, `looping worker ${pid} to die`);
      for (const pid of shared("spin-c.log").map(Number)) if (pid > 1) await eventually(() => (isAlive(pid) ? undefined : true), 20_000, `looping worker ${pid} to die`);
    }
    // With the blockers gone, the pool goes back to its size: spares beyond it retire.
    await eventually(() => (d.json<{ workers: { pids: number[] } }>("daemon", "status").workers.pids.length <= 2 ? true : undefined), 20_000, "the spares to retire");
    expect(d.json<{ run: { status: string } }>("run", "result", start("ordinary"), "--wait", "--timeout", "30s").run.status).toBe("completed");
  }, 120_000);

  test("a run sent to a worker just before it is seen blocked moves to a spare and completes; the loop stays where it is", async () => {
    // One worker: a run started while the loop has just begun can only go to the looping worker.
    const { d, shared, start } = loopsDaemon(1);
    const spin = start("spin", { tag: "only" });
    let loopPid = 0;
    try {
      loopPid = Number(await eventually(() => shared("spin-only.log")[0], 20_000, "the spinner to loop"));
      expect(loopPid).toBeGreaterThan(1);
      // Started at once, long before the 2 s of silence that count as blocked: it is sent to the looping worker.
      const early = start("ordinary");
      const view = d.json<{ run?: { status: string; output?: unknown }; error?: unknown }>("run", "result", early, "--wait", "--timeout", "30s");
      expect(view.run?.status ?? view.error).toBe("completed");
      expect(view.run?.output).not.toBe(loopPid);
      // It was taken back from the blocked worker (not charged: an activation lost, no failed attempt).
      const events = d.json<{ events: { type: string; why?: string }[] }>("run", "replay", early).events;
      expect(events.filter((e) => e.type === "activation_lost").map((e) => e.why)).toEqual([expect.stringContaining(`worker ${loopPid}`)]);
      // The loop itself stays on its worker: explain names it as the blocker there.
      expect(d.cli("run", "explain", spin).stdout).toContain(`its step "loop" is blocking worker ${loopPid}`);
      expect(shared("spin-only.log")).toEqual([String(loopPid)]);
    } finally {
      d.cli("run", "cancel", spin);
      if (loopPid > 1) await eventually(() => (isAlive(loopPid) ? undefined : true), 20_000, `looping worker ${loopPid} to die`);
    }
  }, 120_000);

  test("a blocked worker whose other runs had started steps there is stopped: they complete elsewhere, uncharged; the loop ends up alone on a worker of its own", async () => {
    // One worker: the gated runs and the loop share it.
    const { d, folder, shared, start } = loopsDaemon(1);
    const inspectWorker = (id: string) => d.json<{ worker?: { pid: number; blockedForMs?: number; blockedBy?: { runId: string; step: string }[] } }>("run", "inspect", id).worker;

    const gated = ["a", "b", "c"].map((tag) => ({ tag, id: start("gated", { tag }) }));
    const loopPids = () => shared("spin-evac.log").map(Number);
    let spin = "";
    let first = 0;
    try {
      // Every gated step running (awaiting the gate) on the one worker before the loop blocks it.
      await eventually(() => (gated.every((g) => shared(`gated-${g.tag}.log`).length >= 1) ? true : undefined), 20_000, "every gated step to be running");
      spin = start("spin", { tag: "evac" });
      first = Number(await eventually(() => shared("spin-evac.log")[0], 20_000, "the loop to start"));
      expect(first).toBeGreaterThan(1);
      for (const g of gated) expect(shared(`gated-${g.tag}.log`)).toEqual([String(first)]);
      // The worker's event loop is blocked now: the gated steps cannot see the gate there.
      writeFileSync(join(folder, "gate"), "");

      for (const g of gated) {
        const view = d.json<{ run?: { status: string; output?: unknown }; error?: unknown }>("run", "result", g.id, "--wait", "--timeout", "90s");
        expect(view.run?.status ?? view.error).toBe("completed");
        expect(view.run?.output).not.toBe(first);
        // Never charged: no crash, no failed attempt; its activation was given back when the worker was stopped.
        const events = d.json<{ events: Event[] }>("run", "replay", g.id).events;
        expect(events.filter((e) => e.type === "worker_crashed" || e.type === "step_failed" || e.type === "activation_crashed")).toEqual([]);
        expect(events.filter((e) => e.type === "activation_lost").map((e) => e.why)).toContainEqual(expect.stringContaining(`its worker ${first} was blocked by code that does not yield`));
      }
      // The stopped worker is gone; the loop goes on, alone on a worker of its own, which explain names.
      await eventually(() => (isAlive(first) ? undefined : true), 20_000, `blocked worker ${first} to be stopped`);
      const own = await eventually(() => {
        const w = inspectWorker(spin);
        return w?.blockedForMs !== undefined && w.pid !== first && w.pid === loopPids().at(-1) ? w : undefined;
      }, 30_000, "the loop to block a worker of its own");
      expect(own.blockedBy?.map((s) => s.runId)).toEqual([spin]);
      expect(d.json<{ run: { status: string } }>("run", "inspect", spin).run.status).toBe("running");
      expect(d.cli("run", "explain", spin).stdout).toContain(`its step "loop" is blocking worker ${own.pid}`);
      const status = d.json<{ workers: { stats: { evacuations: number; crashes: number } } }>("daemon", "status");
      expect(status.workers.stats.evacuations).toBeGreaterThanOrEqual(1);
      const log = d.json<{ lines: string[] }>("daemon", "logs", "--lines", "300").lines.join("\n");
      expect(log).toContain(`worker ${first} blocked for `);
      expect(log).toMatch(new RegExp(`worker ${first} blocked for [0-9.]+s by code of runs [^:]*${spin}[^:]*: stopped; its runs go again, suspects on workers of their own; nobody is charged`));
      // Left alone there: no further evacuation while it is the only run on its worker.
      const evacuations = status.workers.stats.evacuations;
      await eventually(() => ((inspectWorker(spin)?.blockedForMs ?? 0) >= 4_000 ? true : undefined), 30_000, "the loop to stay blocking its own worker");
      expect(d.json<{ workers: { stats: { evacuations: number } } }>("daemon", "status").workers.stats.evacuations).toBe(evacuations);
      expect(inspectWorker(spin)?.pid).toBe(own.pid);
    } finally {
      if (spin) d.cli("run", "cancel", spin);
      // No worker left spinning: every worker the loop ran in is dead.
      for (const pid of loopPids()) if (pid > 1) await eventually(() => (isAlive(pid) ? undefined : true), 20_000, `looping worker ${pid} to die`);
    }
  }, 180_000);

  test("code that loops before its first op beside a run waiting in a step: its worker is evacuated, the loop runs in one process at a time, explain blames the loop", async () => {
    // One worker: the gated run and the loop share it. The loop's activation is read at once (the
    // event loop is free while the gated step awaits) and never says a word of its own.
    const { d, folder, shared, start } = loopsDaemon(1);
    const explain = (id: string) => d.cli("run", "explain", id).stdout;
    const loopCopies = () => shared("spin-early.log").map((line) => line.split(" ").map(Number) as [number, number]);

    const gated = start("gated", { tag: "h1" });
    let spin = "";
    try {
      const first = Number(await eventually(() => shared("gated-h1.log")[0], 20_000, "the gated step to run"));
      expect(first).toBeGreaterThan(1);
      spin = start("spin-early");
      expect((await eventually(() => loopCopies()[0], 20_000, "the loop to start"))[0]).toBe(first);
      // Its worker is stopped: work of two runs had started there (the loop's was read, if never reported on).
      await eventually(() => (isAlive(first) ? undefined : true), 30_000, `blocked worker ${first} to be evacuated`);
      // The gated run goes again elsewhere, and explain does not blame it.
      await eventually(() => (shared("gated-h1.log").length >= 2 ? true : undefined), 30_000, "the gated run to go again");
      expect(explain(gated)).not.toContain("is blocking worker");
      writeFileSync(join(folder, "gate"), "");
      const view = d.json<{ run?: { status: string; output?: unknown }; error?: unknown }>("run", "result", gated, "--wait", "--timeout", "90s");
      expect(view.run?.status ?? view.error).toBe("completed");
      expect(view.run?.output).not.toBe(first);
      // The loop ends up alone on a worker of its own, and explain names it as the blocker there.
      const own = await eventually(() => {
        const copies = loopCopies();
        const text = explain(spin);
        return copies.length >= 2 && text.includes(`is blocking worker ${copies.at(-1)![0]}`) ? text : undefined;
      }, 30_000, "explain to name the loop as blocking its own worker");
      expect(own).toContain("its code (outside any step) is blocking worker");
      // Never two copies of the loop alive at once.
      for (const [pid, othersAlive] of loopCopies()) {
        expect(pid).toBeGreaterThan(1);
        expect(othersAlive).toBe(0);
      }
      expect(loopCopies()[0]![0]).toBe(first);
    } finally {
      if (spin) d.cli("run", "cancel", spin);
      // Every worker the loop ran in is dead after the cancel.
      for (const [pid] of loopCopies()) if (pid > 1) await eventually(() => (isAlive(pid) ? undefined : true), 20_000, `looping worker ${pid} to die`);
    }
  }, 180_000);
});
