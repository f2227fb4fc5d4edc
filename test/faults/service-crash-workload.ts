/**
 * The workloads shared by the service crash fault test (service-crash.test.ts) and its child
 * process (service-crash-child.ts). Everything the test checks afterwards is a pure function of
 * the constants below; the marker files record every execution of handler code (at-least-once).
 *
 * ordering: SENDERS sender workflows each send MESSAGES_PER_SENDER numbered messages `{ sender, n }`,
 *   one after another (pausing durably after every BURST sends, so that the sends go on while the
 *   instance works through its inbox), to ONE instance of `ordered_sink`, whose `push` handler
 *   appends `n` to `state.seen[sender]` and a line `<sender> <n>` to the marker file.
 * counter: ASKERS asking workflows each ask `counter.inc` once and return the reply; the handler
 *   runs a step (marker line `s <from> <attempt>`), writes `w <from>` once the step is recorded, does a
 *   little more async work, then returns the incremented count as both its new state and its reply.
 *   Every handler execution also writes `h <from>` first.
 */
import { appendFileSync } from "node:fs";
import { turnScope } from "../../src/kernel/index.ts";
import { service, workflow } from "../../src/sdk/index.ts";

// ---- ordering ------------------------------------------------------------------------------------

export const SENDERS = 4;
export const MESSAGES_PER_SENDER = 250;
export const SINK_KEY = "one";
export const SINK_SERVICE = "ordered_sink";
export const SINK_INSTANCE = `svc:${SINK_SERVICE}:${SINK_KEY}`;
export const SENDER_WORKFLOW = "ordered_sender";
export const senderName = (i: number): string => `s${i}`;
/** Fixed run ids: every child starts the same runs, idempotently. */
export const senderRunId = (i: number): string => `sender-${i}`;

export interface SinkState {
  seen: Record<string, number[]>;
}
export interface SenderInput {
  sender: string;
  count: number;
  /** After every `burst` sends the sender sleeps `pause` (durably), so sends interleave with turns. */
  burst: number;
  pause: string;
}
export const BURST = 10;
export const PAUSE = "20ms";
export const senderInput = (i: number): SenderInput => ({ sender: senderName(i), count: MESSAGES_PER_SENDER, burst: BURST, pause: PAUSE });

export function orderingDefinitions(markerPath: string) {
  const sink = service({
    name: SINK_SERVICE,
    key: (input: { id: string }) => input.id,
    init: async (): Promise<SinkState> => ({ seen: {} }),
    onSend: {
      push: async (payload: { sender: string; n: number }, state: SinkState) => {
        appendFileSync(markerPath, `${payload.sender} ${payload.n}\n`);
        const list = state.seen[payload.sender] ?? [];
        return { state: { seen: { ...state.seen, [payload.sender]: [...list, payload.n] } } };
      },
    },
  });
  const sender = workflow({
    name: SENDER_WORKFLOW,
    run: async (input: SenderInput, ctx) => {
      const ref = await ctx.connect(sink, { id: SINK_KEY });
      for (let n = 0; n < input.count; n++) {
        await ref.send.push({ sender: input.sender, n });
        if ((n + 1) % input.burst === 0 && n + 1 < input.count) await ctx.sleep(input.pause);
      }
      return { sender: input.sender, sent: input.count };
    },
  });
  return { sink, sender };
}

// ---- counter -------------------------------------------------------------------------------------

export const ASKERS = 200;
export const COUNTER_KEY = "c";
export const COUNTER_SERVICE = "crash_counter";
export const COUNTER_INSTANCE = `svc:${COUNTER_SERVICE}:${COUNTER_KEY}`;
export const ASKER_WORKFLOW = "counter_asker";
export const askerRunId = (i: number): string => `asker-${i}`;
/** The op key of the handler's step inside the turn of message `id` (at that message's attempt). */
export const workStepKey = (messageId: number, attempt: number): string => `${turnScope(messageId, attempt)}step:work:0`;

export interface CounterState {
  count: number;
}

export function counterDefinitions(markerPath: string) {
  const counter = service({
    name: COUNTER_SERVICE,
    key: (input: { id: string }) => input.id,
    init: async (): Promise<CounterState> => ({ count: 0 }),
    onAsk: {
      inc: async (payload: { from: string }, state: CounterState, ctx) => {
        appendFileSync(markerPath, `h ${payload.from}\n`);
        // The turn's "work": recorded once, replayed (not re-run) when the turn runs again.
        await ctx.step("work", async (step) => {
          appendFileSync(markerPath, `s ${payload.from} ${step.attempt}\n`);
          await Bun.sleep(1);
          return { from: payload.from, sawCount: state.count };
        });
        // The step is recorded now. More (non-durable) work before the turn's commit widens the window
        // in which a crash leaves a recorded step without its turn; the test aims kills at `w` lines.
        appendFileSync(markerPath, `w ${payload.from}\n`);
        await Bun.sleep(2);
        return { state: { count: state.count + 1 }, reply: state.count + 1 };
      },
    },
  });
  const asker = workflow({
    name: ASKER_WORKFLOW,
    run: async (_input: { i: number }, ctx) => {
      const ref = await ctx.connect(counter, { id: COUNTER_KEY });
      const reply: number = await ref.ask.inc({ from: ctx.runId });
      return reply;
    },
  });
  return { counter, asker };
}
