/**
 * The soak's project: the ordinary load (steps, timers, signals, a keyed service) and, with
 * poison on, the ordinary `dwell` runs that sit in a step long enough to share a worker with the
 * poison, and the poison itself — code that kills its own worker, returns or logs a value over the
 * cap, or loops without a timeout.
 */
export const STEPS = 5;

const ORDINARY = `import { service, workflow } from "@vilano/runtime";
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

const POISON = `
// Ordinary: a step that stays in its worker for a while, so a neighbour's kill finds it there.
export const dwell = workflow({
  name: "dwell",
  run: async (input: { ms: number; n: number }, ctx) => (await ctx.step("dwell", async () => { await Bun.sleep(input.ms); return input.n; })) + 1,
});
// Poison: kills the worker it shares with others (what an out-of-memory kill does too).
export const neighbourKill = workflow({
  name: "neighbour-kill",
  run: async (_input: void, ctx) => {
    await ctx.step("die", async () => { process.kill(process.pid, "SIGKILL"); await Bun.sleep(60_000); });
    return "survived";
  },
});
// Poison: a step result over the value cap.
export const hugeValue = workflow({
  name: "huge-value",
  run: async (input: { bytes: number }, ctx) => (await ctx.step("huge", async () => "x".repeat(input.bytes))).length,
});
// Poison: one log line over the value cap.
export const bigLog = workflow({
  name: "big-log",
  run: async (input: { bytes: number }, ctx) => { ctx.log("x".repeat(input.bytes)); return "logged"; },
});
// Poison: a step that never yields and has no timeout; only a cancel (a hard stop) ends it.
export const spin = workflow({
  name: "spin",
  run: async (_input: void, ctx) => {
    await ctx.step("spin", async () => { for (;;) {} });
    return "escaped";
  },
});
`;

/** The source of src/soak.ts: the ordinary load alone (`--poison off`) or with the poison. */
export function projectSource(poison: boolean): string {
  return poison ? ORDINARY + POISON : ORDINARY;
}
