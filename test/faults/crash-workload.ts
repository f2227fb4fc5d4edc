/**
 * The workload shared by the crash fault test and its child process: one workflow of STEPS steps,
 * each appending `<runId> <stepIndex> <attempt>` to a marker file before returning a value that
 * depends only on the run id and the step index, with some 20 ms durable sleeps in between.
 * Everything the test checks afterwards (inputs, step results, outputs) is a pure function of the
 * child's seed, the start's index within that child and the run id.
 */
import { appendFileSync } from "node:fs";
import { workflow } from "../../src/sdk/index.ts";
import { mulberry32 } from "../helpers/seeded.ts";

export const WORKFLOW_NAME = "crash_fault";
export const STEPS = 10;
export const SLEEP = "20ms";

export interface CrashInput {
  seed: number;
  k: number;
  /** Step indices after which the run sleeps SLEEP. */
  sleepAfter: number[];
}

export interface CrashOutput {
  seed: number;
  k: number;
  values: string[];
}

/** The input of the k-th run a child with this seed starts (pure: the parent recomputes it). */
export function inputFor(seed: number, k: number): CrashInput {
  const rand = mulberry32((seed ^ Math.imul(k + 1, 0x9e3779b1)) >>> 0);
  const sleepAfter: number[] = [];
  // Most runs sleep after one to three random steps (never after the last); the rest never sleep.
  if (rand() < 0.6) {
    const count = 1 + Math.floor(rand() * 3);
    for (let j = 0; j < count; j++) {
      const at = Math.floor(rand() * (STEPS - 1));
      if (!sleepAfter.includes(at)) sleepAfter.push(at);
    }
    sleepAfter.sort((x, y) => x - y);
  }
  return { seed, k, sleepAfter };
}

export function stepValue(runId: string, index: number): string {
  return `v${index}:${runId}`;
}

export function expectedOutput(runId: string, input: CrashInput): CrashOutput {
  return { seed: input.seed, k: input.k, values: Array.from({ length: STEPS }, (_, i) => stepValue(runId, i)) };
}

export const stepKey = (index: number): string => `step:s${index}:0`;

export function crashWorkflow(markerPath: string) {
  return workflow<CrashInput, CrashOutput>({
    name: WORKFLOW_NAME,
    run: async (input, ctx) => {
      const values: string[] = [];
      for (let i = 0; i < STEPS; i++) {
        const value = await ctx.step(`s${i}`, (step) => {
          appendFileSync(markerPath, `${ctx.runId} ${i} ${step.attempt}\n`);
          return stepValue(ctx.runId, i);
        });
        values.push(value);
        if (input.sleepAfter.includes(i)) await ctx.sleep(SLEEP);
      }
      return { seed: input.seed, k: input.k, values };
    },
  });
}
