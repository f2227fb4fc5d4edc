/**
 * `bun run bench pg_daemons`: steps per second with one, two and four daemons sharing one
 * PostgreSQL database on this machine. Each daemon is an embedded runtime (the whole kernel) in a
 * process of its own (pg-daemon-child.ts); the W1 shape of ../shared/bench (ten-step workflows,
 * 16 in flight in all) is split evenly between them, as a load balancer in front of their APIs
 * would. The server is the one the tests use (VILANO_TEST_DATABASE_URL), or a throwaway one started
 * by scripts/ensure-postgres.sh for the length of the bench (stock durability: fsync and
 * synchronous_commit on). A fresh database for every daemon count.
 */
import { SQL, type Subprocess } from "bun";
import { join } from "node:path";
import { log, median, type BenchResult } from "./common.ts";
import { linesOf, signalChild } from "../../src/shared/index.ts";

const DAEMON_COUNTS = [1, 2, 4];
const W1 = { workflows: 240, warmup: 40, concurrency: 16, steps: 10, rounds: 3 };
const ROOT = join(import.meta.dir, "../..");

/** A PostgreSQL server for the bench; `stop` ends it when it was started here. */
async function server(): Promise<{ url: string; stop(): Promise<void> }> {
  if (process.env.VILANO_TEST_DATABASE_URL) return { url: process.env.VILANO_TEST_DATABASE_URL, stop: async () => {} };
  // The script stops its server (by pid) when this shell exits, which it does once stdin closes.
  const shell = Bun.spawn(["bash", "-c", 'source scripts/ensure-postgres.sh && echo "$VILANO_TEST_DATABASE_URL" && read -r _'], {
    cwd: ROOT,
    stdin: "pipe",
    stdout: "pipe",
    stderr: "inherit",
  });
  const reader = shell.stdout.getReader();
  const url = new TextDecoder().decode((await reader.read()).value).trim();
  if (!url.startsWith("postgres://")) throw new Error(`PostgreSQL did not start for the bench (${url})`);
  return {
    url,
    async stop() {
      shell.stdin.end();
      await shell.exited;
    },
  };
}

interface Child {
  proc: Subprocess<"pipe", "pipe", "inherit">;
  next(): Promise<string>;
}

function spawnDaemon(url: string): Child {
  const proc = Bun.spawn([process.execPath, join(import.meta.dir, "pg-daemon-child.ts"), url], { stdin: "pipe", stdout: "pipe", stderr: "inherit" });
  const lines = linesOf(proc.stdout);
  return {
    proc,
    async next() {
      const line = await lines.next();
      if (line.done) throw new Error("a bench daemon exited");
      return line.value;
    },
  };
}

/** One round: every daemon runs its share; the wall time is until the last one is done. */
async function round(children: Child[], tag: string, workflows: number): Promise<number> {
  const share = Math.floor(workflows / children.length);
  const lanes = Math.max(1, Math.floor(W1.concurrency / children.length));
  const started = performance.now();
  for (const child of children) {
    child.proc.stdin.write(`go ${tag} ${share} ${lanes}\n`);
    child.proc.stdin.flush();
  }
  for (const child of children) {
    const line = await child.next();
    if (!line.startsWith("done ")) throw new Error(`a bench daemon said ${line}`);
  }
  return performance.now() - started;
}

export async function benchPgDaemons(): Promise<BenchResult> {
  const pg = await server();
  const admin = new SQL(pg.url, { max: 1 });
  const figures: { daemons: number; stepsPerSecond: number; rounds: number[] }[] = [];
  try {
    for (const count of DAEMON_COUNTS) {
      const name = `vilano_bench_${count}_${process.pid}`;
      await admin.unsafe(`DROP DATABASE IF EXISTS ${name}`);
      await admin.unsafe(`CREATE DATABASE ${name}`);
      const url = new URL(pg.url);
      url.pathname = `/${name}`;
      const children = Array.from({ length: count }, () => spawnDaemon(url.toString()));
      try {
        for (const child of children) if ((await child.next()) !== "ready") throw new Error("a bench daemon did not start");
        await round(children, "warm", W1.warmup);
        const rounds: number[] = [];
        for (let i = 0; i < W1.rounds; i++) {
          const ms = await round(children, `r${i}`, W1.workflows);
          const share = Math.floor(W1.workflows / count) * count;
          rounds.push(Math.round((share * W1.steps) / (ms / 1000)));
        }
        log(`pg_daemons: ${count} daemon(s): ${rounds.join(", ")} steps/s`);
        figures.push({ daemons: count, stepsPerSecond: median(rounds), rounds });
      } finally {
        for (const child of children) child.proc.stdin.end();
        await Promise.all(children.map((child) => Promise.race([child.proc.exited, Bun.sleep(10_000).then(() => signalChild(child.proc, "SIGKILL"))])));
        await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      }
    }
  } finally {
    await admin.close();
    await pg.stop();
  }
  return {
    bench: "pg_daemons",
    value: figures[0]!.stepsPerSecond,
    unit: "steps/s with one daemon (median of rounds)",
    daemons: figures,
    workflows: W1.workflows,
    stepsPerWorkflow: W1.steps,
    concurrency: W1.concurrency,
  };
}
