/**
 * `bun run soak [--rounds N] [--seed S] [--poison on|off] [--max-rss-mb MB] [--wait-s SECONDS]`:
 * seeded `kill -9` rounds of the daemon (the built `dist/vilano`) under mixed load — workflows
 * with steps, sends and asks to services, timers and signals — and, unless `--poison off`, the
 * poison of scripts/soak/poison.ts (runs that kill their shared worker, values and log lines over
 * the value cap, untimed loops cancelled a round later). Every round restarts the daemon, checks
 * that everything acknowledged so far was neither lost nor recorded twice, that no ordinary run
 * was quarantined for a neighbour's crash or left blocked, that each poison run ended as its
 * poison calls for, runs `PRAGMA integrity_check`, and watches the daemon's resident memory.
 * Prints one JSON line of figures; exits 1 when a check failed. Not part of CI: run it by hand.
 */
import { Database } from "bun:sqlite";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createClient } from "../src/client/index.ts";
import { buildManifest, scanDefinitions } from "../src/project/index.ts";
import { isProcessAlive, loadConfig, signalProcess } from "../src/shared/index.ts";
import { mulberry32 } from "../test/helpers/seeded.ts";
import { watchDaemonMemory } from "./soak/daemon-memory.ts";
import { parseSoakOptions } from "./soak/options.ts";
import { cancelLoops, planPoison, startPoison, type PoisonPlan } from "./soak/poison.ts";
import { projectSource, STEPS } from "./soak/project.ts";
import { emptyFindings, problemsByFigure, verify, type Ledger } from "./soak/verify.ts";

const ROOT = resolve(import.meta.dir, "..");
const BINARY = join(ROOT, "dist", "vilano");
const OPTIONS = (() => {
  try {
    return parseSoakOptions(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    process.exit(2);
  }
})();
const { rounds: ROUNDS, seed: SEED } = OPTIONS;
const KEYS = 4;

const random = mulberry32(SEED);
const pick = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));
// The poison draws from its own sequence, so `--poison off` replays the old load draw for draw.
const poisonRandom = mulberry32(SEED ^ 0x9e3779b9);

function cli(home: string, ...args: string[]) {
  return Bun.spawnSync([BINARY, ...args], { env: { ...process.env, VILANO_HOME: home, VILANO_PORT: "0", NO_COLOR: "1" }, stdout: "pipe", stderr: "pipe" });
}

async function load(home: string, ledger: Ledger, round: number, killAt: number, poison: PoisonPlan | null): Promise<void> {
  const client = createClient({ home, timeout: "5s" });
  const deadline = Date.now() + killAt;
  let i = 0;
  const pending: Promise<unknown>[] = poison ? startPoison(client, ledger, round, poison) : [];
  // Requests in flight when the daemon dies are not acknowledged; only what resolved counts.
  while (Date.now() < deadline) {
    const id = `r${round}-${i++}`;
    const kind = pick(0, 3);
    if (kind === 0) {
      const n = pick(0, 1000);
      pending.push(client.runs.start("soak/steps", { n }, { id }).then(() => ledger.runs.set(id, { workflow: "steps", output: STEPS * n + (STEPS * (STEPS - 1)) / 2 }), () => {}));
    } else if (kind === 1) {
      const ms = pick(10, 400);
      pending.push(client.runs.start("soak/nap", { ms }, { id }).then(() => ledger.runs.set(id, { workflow: "nap", output: ms }), () => {}));
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

/** What `vilano run explain` says of a run, on one line. */
function explain(home: string, id: string): string {
  const answer = cli(home, "run", "explain", id);
  const text = `${answer.stdout}${answer.stderr}`.trim().split("\n").map((line) => line.trim()).join(" / ");
  return text.length > 400 ? `${text.slice(0, 400)}…` : text;
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
  writeFileSync(join(project, "src", "soak.ts"), projectSource(OPTIONS.poison));
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

  const ledger: Ledger = {
    runs: new Map(),
    sends: new Map(),
    signals: new Map(),
    gates: new Set(),
    poison: new Map(),
    loops: new Set(),
    started: { neighbourKills: 0, hugeValues: 0, bigLogs: 0, loops: 0, dwells: 0 },
  };
  const findings = emptyFindings();
  const restartMs: number[] = [];
  const integrityFailures: string[] = [];
  const rss: { maxMb: number; round: number | "final" } = { maxMb: 0, round: 0 };
  const watch = (pid: number, round: number | "final") => {
    const memory = watchDaemonMemory(pid);
    return () => {
      const mb = memory.stop();
      if (mb > rss.maxMb) Object.assign(rss, { maxMb: mb, round });
    };
  };
  const checked = new Set<string>();
  const cap = loadConfig().maxValueBytes;
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
      const stopWatching = watch(pid, round);
      const client = createClient({ home, timeout: "30s" });
      const pass = { client, waitSeconds: OPTIONS.waitSeconds, explain: (id: string) => explain(home, id) };
      // Everything acknowledged before the last kill must be there — checked while the loops
      // started last round still spin, so a pool they block shows as blocked runs.
      await verify(pass, ledger, findings, checked);
      const check = integrity(home);
      if (check !== "ok") integrityFailures.push(`round ${round}: integrity_check: ${check}`);
      if (OPTIONS.poison) for (const failure of await cancelLoops(client, ledger)) process.stderr.write(`[soak] round ${round}: ${failure} (tried again next round)\n`);
      await load(home, ledger, round, pick(50, 300), OPTIONS.poison ? planPoison(poisonRandom, cap) : null);
      stopWatching();
      signalProcess(pid, "SIGKILL");
      while (isProcessAlive(pid)) await Bun.sleep(5);
      if (round % 25 === 0 || ROUNDS <= 50) process.stderr.write(`[soak] round ${round}: ${summary(ledger, findings, rss)}\n`);
    }
    const last = cli(home, "daemon", "start", "--json");
    if (last.exitCode !== 0) throw new Error(`the final daemon did not start: ${last.stdout}${last.stderr}`);
    const stopWatching = watch((JSON.parse(last.stdout.toString()) as { daemon: { pid: number } }).daemon.pid, "final");
    const client = createClient({ home, timeout: "30s" });
    const pass = { client, waitSeconds: OPTIONS.waitSeconds, explain: (id: string) => explain(home, id) };
    // The runs of the last round first (within the wait), then every run again.
    await verify(pass, ledger, findings, checked);
    await verify(pass, ledger, findings, checked, true);
    // The loops of the last round: cancelled now, and they must end cancelled too.
    const cancelFailures = await cancelLoops(client, ledger);
    for (const id of ledger.loops) findings.failed.poison.add(id);
    cancelFailures.forEach((failure, i) => findings.problems.set(`poison cancel-${i}`, `poison: ${failure}`));
    await verify(pass, ledger, findings, checked);
    const check = integrity(home);
    if (check !== "ok") integrityFailures.push(`after the last round: integrity_check: ${check}`);
    stopWatching();
    cli(home, "daemon", "stop");
  } finally {
    cleanup();
  }
  const sorted = [...restartMs].sort((a, b) => a - b);
  const p = (q: number) => Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!);
  const { lost, duplicated, quarantined, blocked, poison } = findings.failed;
  const rssTooHigh = rss.maxMb > OPTIONS.maxRssMb;
  const result = {
    rounds: ROUNDS,
    seed: SEED,
    poison: OPTIONS.poison,
    acknowledged: {
      runs: ledger.runs.size,
      sends: ledger.sends.size,
      signals: ledger.signals.size,
      ...(OPTIONS.poison ? { poison: ledger.started } : {}),
    },
    lost: lost.size,
    duplicated: duplicated.size,
    innocentQuarantined: quarantined.size,
    innocentBlocked: blocked.size,
    poisonUnexpected: poison.size,
    innocentCrashCharges: findings.innocentCrashCharges,
    integrityFailures: integrityFailures.length,
    daemonRssMb: { max: rss.maxMb, round: rss.round, bound: OPTIONS.maxRssMb },
    restartMs: { p50: p(0.5), p99: p(0.99), max: Math.round(sorted[sorted.length - 1] ?? 0) },
    problems: {
      ...(integrityFailures.length > 0 ? { integrity: integrityFailures.slice(0, 10) } : {}),
      ...(rssTooHigh ? { memory: [`the daemon's resident memory reached ${rss.maxMb} MiB in ${rss.round === "final" ? "the final check" : `round ${rss.round}`}, over the bound of ${OPTIONS.maxRssMb} MiB`] } : {}),
      ...problemsByFigure(findings, 10),
    },
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
  const failures = lost.size + duplicated.size + quarantined.size + blocked.size + poison.size + integrityFailures.length;
  if (failures > 0 || rssTooHigh) process.exit(1);
}

function summary(ledger: Ledger, findings: ReturnType<typeof emptyFindings>, rss: { maxMb: number }): string {
  const f = findings.failed;
  return `${ledger.runs.size} runs, ${ledger.sends.size} sends, ${ledger.signals.size} signals, ${ledger.poison.size} poison runs acknowledged; lost ${f.lost.size}, duplicated ${f.duplicated.size}, quarantined ${f.quarantined.size}, blocked ${f.blocked.size}, poison unexpected ${f.poison.size}; daemon RSS max ${rss.maxMb} MiB`;
}

await main();
