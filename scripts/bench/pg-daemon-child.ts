/**
 * One daemon of the `pg_daemons` benchmark (scripts/bench/postgres.ts): an embedded runtime on the
 * shared PostgreSQL database. Usage: bun pg-daemon-child.ts <url>
 *
 * Prints `ready`, then for each stdin line `go <tag> <workflows> <concurrency>` runs that many
 * ten-step workflows (at most `concurrency` at once), checks every output, and prints `done <ms>`.
 */
import { writeSync } from "node:fs";
import { createRuntime } from "../../src/embedded/index.ts";
import { workflow } from "../../src/sdk/index.ts";

const STEPS = 10;
const EXPECTED = (STEPS * (STEPS - 1)) / 2;
const url = process.argv[2];
if (!url) {
  console.error("usage: pg-daemon-child.ts <url>");
  process.exit(2);
}
const say = (line: string) => writeSync(1, `${line}\n`);

const sum = workflow({
  name: "pg_bench_sum",
  run: async (_input: null, ctx) => {
    let total = 0;
    for (let i = 0; i < STEPS; i++) total += await ctx.step("add", () => i);
    return total;
  },
});
const rt = await createRuntime({ database: url, definitions: [sum], logLevel: "error" });
say("ready");

async function round(tag: string, workflows: number, concurrency: number): Promise<number> {
  let next = 0;
  const started = performance.now();
  const lane = async () => {
    for (let i = next++; i < workflows; i = next++) {
      const output = await (await rt.start(sum, null, { id: `${tag}-${process.pid}-${i}` })).result({ timeout: "60s" });
      if (output !== EXPECTED) throw new Error(`workflow ${i}: expected ${EXPECTED}, got ${JSON.stringify(output)}`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  return performance.now() - started;
}

let buffered = "";
for await (const chunk of Bun.stdin.stream()) {
  buffered += new TextDecoder().decode(chunk);
  let newline: number;
  while ((newline = buffered.indexOf("\n")) >= 0) {
    const [command, tag, workflows, concurrency] = buffered.slice(0, newline).split(" ");
    buffered = buffered.slice(newline + 1);
    if (command === "go") say(`done ${(await round(tag!, Number(workflows), Number(concurrency))).toFixed(1)}`);
  }
}
await rt.close();
