import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { rawSignals } from "../../scripts/check-signals.ts";
import { tempDir } from "../helpers/temp-dir.ts";

const ROOT = join(import.meta.dir, "..", "..");

const SAMPLE = `
import { spawn } from "node:child_process";
interface Pooled { kill(): void }
declare const pooled: Pooled;
declare function signalProcess(pid: number, signal: string): boolean;
export function sample(pid: number) {
  process.kill(pid, "SIGSTOP");
  const child = Bun.spawn(["sleep", "1"]);
  child.kill("SIGKILL");
  spawn("sleep", ["1"]).kill();
  process["kill"](pid, 0);
  (process.kill)(-pid, "SIGKILL");
  pooled.kill();
  signalProcess(pid, "SIGTERM");
  const killer = { kill: (n: number) => n };
  killer.kill(1);
}
`;

describe("the raw-signal check", () => {
  test("finds process.kill and a child's kill in every form, and nothing the project declares itself", () => {
    const dir = tempDir("vilano-signals-");
    writeFileSync(join(dir, "sample.ts"), SAMPLE);
    writeFileSync(join(dir, "helper.ts"), 'export const send = (pid: number) => process.kill(pid, "SIGTERM");\n');
    writeFileSync(
      join(dir, "tsconfig.json"),
      JSON.stringify({ compilerOptions: { strict: true, target: "ESNext", module: "ESNext", moduleResolution: "bundler", lib: ["ESNext"], types: ["bun"], typeRoots: [join(ROOT, "node_modules", "@types")] }, include: ["."] }),
    );
    const found = rawSignals(join(dir, "tsconfig.json"), [dir], join(dir, "helper.ts")).map((line) => line.replace(/^.*sample\.ts:/, "").replace(/: .*$/, ""));
    expect(found).toEqual(["7", "9", "10", "11", "12"]);
  });

  test("src/, test/ and scripts/ send every signal through src/shared/signal-process.ts", () => {
    expect(rawSignals()).toEqual([]);
  }, 60_000);
});
