/**
 * `bun scripts/soak.ts [--rounds N] [--seed S]`: seeded `kill -9` rounds of the daemon (the built
 * `dist/vilano`) under mixed load — workflows with steps, sends and asks to services, timers and
 * signals. Every round restarts the daemon, checks that everything acknowledged so far was neither
 * lost nor recorded twice, and runs `PRAGMA integrity_check`. Prints one JSON line of figures.
 * Not part of CI: run it by hand (500 rounds take about ten minutes).
 */
import { Database } from "bun:sqlite";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createClient } from "../src/client/index.ts";
import { buildManifest, scanDefinitions } from "../src/project/index.ts";
import { isProcessAlive, signalProcess } from "../src/shared/index.ts";
import { mulberry32 } from "../test/helpers/seeded.ts";

const ROOT = resolve(import.meta.dir, "..");
const BINARY = join(ROOT, "dist", "vilano");
const arg = (name: string, fallback: number) => {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? Number(process.argv[at + 1]) : fallback;
};
const ROUNDS = arg("rounds", 500);
const SEED = arg("seed", 1);
const STEPS = 5;
const KEYS = 4;

const random = mulberry32(SEED);
const pick = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));

const PROJECT = `import { service, workflow } from "@vilano/runtime";
export const steps = workflow({
  name: "steps",
  run: async (input: { n: number }, ctx) => {
    let sum = 0;
    for (let i = 0; i < ${STEPS}; i++) sum += await ctx.step("add", async () => { await Bun.sleep(2); return input.n + i; });
    return sum;
  },
});
export const nap = workflow({ name: "nap", run: async (input: { ms: number }, ctx) => { await ctx.sleep(input.ms); return input.ms; } });
export const gate = workflow({ name: "gate", run: async (_input: void, ctx) => (await ctx.waitForSignal<{ id: string }>("go")).id });
export const counter = service({
  name: "counter",
  key: (input: { key: string }) => input.key,
  init: async () => ({ ids: [] as string[] }),
  onSend: { add: async (p: { id: string }, state) => ({ state: { ids: [...state.ids, p.id] } }) },
  onAsk: { ids: async (_p: void, state) => ({ reply: state.ids }) },
});
`;

function cli(home: string, ...args: string[]) {
  return Bun.spawnSync([BINARY, ...args], { env: { ...process.env, VILANO_HOME: home, VILANO_PORT: "0", NO_COLOR: "1" }, stdout: "pipe", stderr: "pipe" });
}

interface Ledger {
  runs: Map<string, unknown>; // run id → expected output
  sends: Map<string, string>; // send id → instance key
  signals: Map<string, string>; // gate run id → the id it must return (its signal was acknowledged)
  gates: Set<string>; // gate runs started, signal not acknowledged yet
}

async function load(home: string, ledger: Ledger, round: number, killAt: number): Promise<void> {
  const client = createClient({ home, timeout: "5s" });
  const deadline = Date.now() + killAt;
  let i = 0;
  const pending: Promise<unknown>[] = [];
  // Requests in flight when the daemon dies are not acknowledged; only what resolved counts.
  while (Date.now() < deadline) {
    const id = `r${round}-${i++}`;
    const kind = pick(0, 3);
    if (kind === 0) {
      const n = pick(0, 1000);
      pending.push(client.runs.start("soak/steps", { n }, { id }).then(() => ledger.runs.set(id, STEPS * n + (STEPS * (STEPS - 1)) / 2), () => {}));
    } else if (kind === 1) {
      const ms = pick(10, 400);
      pending.push(client.runs.start("soak/nap", { ms }, { id }).then(() => ledger.runs.set(id, ms), () => {}));
    } else if (kind === 2) {
      pending.push(client.runs.start("soak/gate", undefined, { id }).then(() => ledger.gates.add(id), () => {}));
    } else {
      const key = `k${pick(0, KEYS - 1)}`;
      pending.push(client.services.call("soak/counter", { kind: "send", handler: "add", keyInput: { key }, payload: { id } }).then(() => ledger.sends.set(id, key), () => {}));
    }
    // Signals for gates whose start was acknowledged.
    for (const gate of [...ledger.gates].slice(0, 2)) {
      ledger.gates.delete(gate);
      pending.push(
        client.runs.signal(gate, "go", { id: `${gate}-go` }).then(
          () => ledger.signals.set(gate, `${gate}-go`),
          () => ledger.gates.add(gate),
        ),
      );
    }
    await Bun.sleep(pick(0, 3));
  }
  await Promise.race([Promise.allSettled(pending), Bun.sleep(50)]);
}

interface Figures {
  lost: number;
  duplicated: number;
  problems: string[];
}

/**
 * Checks the acknowledged items not checked yet (each run waits to finish), and every service
 * instance's whole state. `all` checks every run again (the last round).
 */
async function verify(home: string, ledger: Ledger, figures: Figures, checked: Set<string>, all = false): Promise<void> {
  const client = createClient({ home, timeout: "30s" });
  for (const [id, expected] of ledger.runs) {
    if (!all && checked.has(id)) continue;
    checked.add(id);
    let output: unknown;
    try {
      output = await client.runs.result(id, { timeout: "20s" });
    } catch (error) {
      figures.lost++;
      figures.problems.push(`run ${id}: ${(error as Error).message}`);
      continue;
    }
    if (JSON.stringify(output) !== JSON.stringify(expected)) {
      figures.lost++;
      figures.problems.push(`run ${id}: output ${JSON.stringify(output)}, expected ${JSON.stringify(expected)}`);
    }
    const { events } = await client.runs.inspect(id);
    const steps = events.filter((e) => e.type === "step_completed").map((e) => String(e.opKey));
    if (steps.length !== new Set(steps).size) {
      figures.duplicated++;
      figures.problems.push(`run ${id}: a step recorded twice`);
    }
  }
  for (const [gate, id] of ledger.signals) {
    if (!all && checked.has(gate)) continue;
    checked.add(gate);
    const output = await client.runs.result(gate, { timeout: "20s" }).catch((e: Error) => `error ${e.message}`);
    if (output !== id) {
      figures.lost++;
      figures.problems.push(`gate ${gate}: output ${JSON.stringify(output)}, expected ${id}`);
    }
  }
  const byKey = new Map<string, string[]>();
  for (const [id, key] of ledger.sends) byKey.set(key, [...(byKey.get(key) ?? []), id]);
  for (const [key, ids] of byKey) {
    const state = (await client.services.call("soak/counter", { kind: "ask", handler: "ids", keyInput: { key } })).reply as string[];
    const seen = new Map<string, number>();
    for (const id of state) seen.set(id, (seen.get(id) ?? 0) + 1);
    for (const id of ids) if (!seen.has(id)) (figures.lost++, figures.problems.push(`send ${id} to ${key} lost`));
    for (const [id, n] of seen) if (n > 1) (figures.duplicated++, figures.problems.push(`send ${id} to ${key} handled ${n} times`));
  }
}

function integrity(home: string): string {
  const db = new Database(join(home, "runtime.sqlite"), { readonly: true });
  try {
    return db.query<{ integrity_check: string }, []>("PRAGMA integrity_check").get()?.integrity_check ?? "no answer";
  } finally {
    db.close();
  }
}

async function main(): Promise<void> {
  const home = mkdtempSync(join(tmpdir(), "vilano-soak-"));
  const project = join(home, "..", `${home.split("/").pop()}-project`);
  mkdirSync(join(project, "src"), { recursive: true });
  writeFileSync(join(project, "src", "soak.ts"), PROJECT);
  writeFileSync(join(project, "vilano.manifest.json"), JSON.stringify(buildManifest(scanDefinitions(project)), null, 2));
  let keep = false;
  const cleanup = () => {
    const info = (() => {
      try {
        return JSON.parse(readFileSync(join(home, "daemon.json"), "utf8")) as { pid: number };
      } catch {
        return null;
      }
    })();
    if (info) {
      try {
        signalProcess(info.pid, "SIGKILL");
      } catch (error) {
        process.stderr.write(`[soak] could not kill the daemon: ${String(error)}\n`);
      }
    }
    if (keep) return;
    rmSync(home, { recursive: true, force: true });
    rmSync(project, { recursive: true, force: true });
  };
  process.once("SIGINT", () => (cleanup(), process.exit(130)));

  const ledger: Ledger = { runs: new Map(), sends: new Map(), signals: new Map(), gates: new Set() };
  const figures: Figures = { lost: 0, duplicated: 0, problems: [] };
  const restartMs: number[] = [];
  let integrityFailures = 0;
  const checked = new Set<string>();
  try {
    if (cli(home, "project", "add", project, "--name", "soak").exitCode !== 0) throw new Error("could not register the soak project");
    for (let round = 1; round <= ROUNDS; round++) {
      const started = performance.now();
      const start = cli(home, "daemon", "start", "--json");
      if (start.exitCode !== 0) {
        keep = true;
        // A daemon that is still starting is ours to end (its pid is in the message).
        const stuck = /\(pid (\d+)\)/.exec(start.stdout.toString());
        if (stuck) {
          try {
            signalProcess(Number(stuck[1]), "SIGKILL");
          } catch (error) {
            process.stderr.write(`[soak] could not kill the stuck daemon: ${String(error)}\n`);
          }
        }
        const log = readFileSync(join(home, "logs", "daemon.log"), "utf8").trimEnd().split("\n").slice(-40).join("\n");
        throw new Error(`round ${round}: the daemon did not start: ${start.stdout}${start.stderr}\nthe end of its log (home kept at ${home}):\n${log}`);
      }
      restartMs.push(performance.now() - started);
      const pid = (JSON.parse(start.stdout.toString()) as { daemon: { pid: number } }).daemon.pid;
      // Everything acknowledged before the last kill must be there.
      await verify(home, ledger, figures, checked);
      const check = integrity(home);
      if (check !== "ok") (integrityFailures++, figures.problems.push(`round ${round}: integrity_check: ${check}`));
      await load(home, ledger, round, pick(50, 300));
      signalProcess(pid, "SIGKILL");
      while (isProcessAlive(pid)) await Bun.sleep(5);
      if (round % 25 === 0) process.stderr.write(`[soak] round ${round}: ${ledger.runs.size} runs, ${ledger.sends.size} sends, ${ledger.signals.size} signals acknowledged; lost ${figures.lost}, duplicated ${figures.duplicated}\n`);
    }
    const last = cli(home, "daemon", "start", "--json");
    if (last.exitCode !== 0) throw new Error("the final daemon did not start");
    await verify(home, ledger, figures, checked, true);
    if (integrity(home) !== "ok") integrityFailures++;
    cli(home, "daemon", "stop");
  } finally {
    cleanup();
  }
  const sorted = [...restartMs].sort((a, b) => a - b);
  const p = (q: number) => Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!);
  const result = {
    rounds: ROUNDS,
    seed: SEED,
    acknowledged: { runs: ledger.runs.size, sends: ledger.sends.size, signals: ledger.signals.size },
    lost: figures.lost,
    duplicated: figures.duplicated,
    integrityFailures,
    restartMs: { p50: p(0.5), p99: p(0.99), max: Math.round(sorted[sorted.length - 1] ?? 0) },
    problems: figures.problems.slice(0, 20),
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
  if (figures.lost + figures.duplicated + integrityFailures > 0) process.exit(1);
}

await main();
