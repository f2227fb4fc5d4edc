/**
 * The workload of the several-daemons test and its child processes. Everything checked afterwards
 * is a pure function of the constants below; marker lines record each execution of step code
 * (`<pid> <runId> <step> <attempt>`), so the test can tell which daemon ran what.
 *
 * spread: WORKFLOWS runs of STEPS steps each, sleeping briefly after every third step (a timer
 *   that any daemon may fire), then a child run (`leaf`, one step) that another daemon may well
 *   run, returning the step values and the child's output.
 * order: SENDERS workflows each send MESSAGES numbered messages to ONE service instance, whose
 *   handler appends each number to its sender's list: per-key order holds if every list is 0..n-1.
 */
import { appendFileSync } from "node:fs";
import { service, workflow } from "../../src/sdk/index.ts";

export const WORKFLOWS = 60;
export const STEPS = 6;
export const SENDERS = 3;
export const MESSAGES = 40;
export const SINK_INSTANCE = "svc:ordered_sink:one";

export const workflowRunId = (i: number): string => `spread-${i}`;
export const senderRunId = (i: number): string => `sender-${i}`;
export const senderInput = (i: number) => ({ sender: `s${i}`, count: MESSAGES });
export const stepValue = (runId: string, step: number): string => `v${step}:${runId}`;

export interface SinkState {
  seen: Record<string, number[]>;
}

export const leafValue = (parentId: string): string => `leaf:${parentId}`;

export function severalDaemonsDefinitions(markerPath: string) {
  const leaf = workflow({
    name: "leaf",
    run: async (input: { parent: string }, ctx) =>
      ctx.step("only", (step) => {
        appendFileSync(markerPath, `${process.pid} ${ctx.runId} L ${step.attempt}\n`);
        return leafValue(input.parent);
      }),
  });
  const spread = workflow({
    name: "spread",
    run: async (_input: { i: number }, ctx) => {
      const values: string[] = [];
      for (let s = 0; s < STEPS; s++) {
        values.push(
          await ctx.step(`s${s}`, async (step) => {
            appendFileSync(markerPath, `${process.pid} ${ctx.runId} ${s} ${step.attempt}\n`);
            // A little work, so that a kill lands while steps run.
            await Bun.sleep(5);
            return stepValue(ctx.runId, s);
          }),
        );
        if (s % 3 === 2) await ctx.sleep("15ms");
      }
      values.push(await ctx.spawn(leaf, { parent: ctx.runId }, { key: "leaf" }).result());
      return values;
    },
  });
  const sink = service({
    name: "ordered_sink",
    key: (input: { id: string }) => input.id,
    init: async (): Promise<SinkState> => ({ seen: {} }),
    onSend: {
      push: async (payload: { sender: string; n: number }, state: SinkState) => {
        const list = state.seen[payload.sender] ?? [];
        return { state: { seen: { ...state.seen, [payload.sender]: [...list, payload.n] } } };
      },
    },
  });
  const sender = workflow({
    name: "ordered_sender",
    run: async (input: { sender: string; count: number }, ctx) => {
      const ref = await ctx.connect(sink, { id: "one" });
      for (let n = 0; n < input.count; n++) {
        await ref.send.push({ sender: input.sender, n });
        if (n % 10 === 9) await ctx.sleep("10ms");
      }
      return input.count;
    },
  });
  return { spread, leaf, sink, sender };
}
