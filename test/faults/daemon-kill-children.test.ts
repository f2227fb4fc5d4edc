/**
 * kill -9 of the daemon in the middle of a fan-out and of a supervision tree: the next daemon
 * finishes the parents, and every child (and every member's run) is recorded once, with each of
 * its steps recorded once.
 */
import { expect, test } from "bun:test";
import { createClient } from "../../src/client/index.ts";
import { signalProcess } from "../../src/shared/index.ts";
import { isAlive, testDaemon } from "../helpers/daemon.ts";
import { writeProject } from "../helpers/project.ts";
import { eventually } from "../helpers/temp-dir.ts";

const CHILDREN = 20;
const STEPS = 3;

const PROJECT = `import { nonRetryable, service, workflow } from "@vilano/runtime";

export const part = workflow({
  name: "part",
  run: async (input: { n: number }, ctx) => {
    let sum = 0;
    for (let i = 0; i < ${STEPS}; i++) sum += await ctx.step("work", async () => { await Bun.sleep(30); return input.n; });
    return sum;
  },
});

export const fanOut = workflow({
  name: "fanOut",
  run: async (_input: void, ctx) => {
    const children = Array.from({ length: ${CHILDREN} }, (_, n) => ctx.spawn(part, { n }, { key: "part-" + n }));
    const sums = await Promise.all(children.map((c) => c.result()));
    return sums.reduce((a, b) => a + b, 0);
  },
});

export const tries = service({
  name: "tries",
  key: (input: { member: string }) => input.member,
  init: async () => ({ n: 0 }),
  onAsk: { next: async (_p: void, state) => ({ state: { n: state.n + 1 }, reply: state.n + 1 }) },
});

/** Fails on its first run, completes on the next. */
export const flakyMember = workflow({
  name: "flakyMember",
  run: async (input: { member: string }, ctx) => {
    await ctx.step("work", async () => { await Bun.sleep(40); return 1; });
    const attempt = await (await ctx.connect(tries, { member: input.member })).ask.next();
    if (attempt < 2) throw nonRetryable(new Error("first run of " + input.member + " fails"));
    return input.member + "@" + attempt;
  },
});

export const tree = workflow({
  name: "tree",
  run: async (_input: void, ctx) => {
    const group = ctx.supervise({ strategy: "one_for_one", maxRestarts: 10, window: "1m" });
    const members = ["a", "b", "c", "d"].map((m) => group.spawn(flakyMember, { member: m }, { key: m }));
    return Promise.all(members.map((m) => m.result()));
  },
});
`;

type Inspection = { run: { status: string }; events: { type: string; opKey?: string }[]; ops: { kind: string; opKey: string }[]; children: { id: string; status: string }[] };

async function killAndRestart(d: ReturnType<typeof testDaemon>, first: number) {
  expect(signalProcess(first, "SIGKILL")).toBe(true);
  await eventually(() => (isAlive(first) ? undefined : true), 10_000, "the daemon to die");
  const started = d.cli("daemon", "start");
  // When the new daemon does not come up, what it logged is the lead: show it with the failure.
  const log = started.exitCode === 0 ? "" : d.cli("daemon", "logs", "--lines", "60").stdout;
  expect({ exitCode: started.exitCode, stderr: started.stderr, log }).toMatchObject({ exitCode: 0 });
  expect(d.pid()).not.toBe(first);
  return createClient({ home: d.home, timeout: "10s" });
}

const stepsOnce = (inspection: Inspection, steps: number) => {
  const completed = inspection.events.filter((e) => e.type === "step_completed").map((e) => e.opKey);
  expect(completed).toHaveLength(steps);
  expect(new Set(completed).size).toBe(steps);
};

test("kill -9 mid fan-out: the next daemon finishes the parent; each child exists once and records each step once", async () => {
  const d = testDaemon({ VILANO_WORKERS: "2" });
  expect(d.cli("project", "add", writeProject({ "src/flows.ts": PROJECT }), "--name", "kids").exitCode).toBe(0);
  const first = d.pid();
  const client = createClient({ home: d.home, timeout: "10s" });
  const parent = (await client.runs.start("kids/fanOut", undefined, { id: "fan" })).id;
  await eventually(async () => {
    const { children } = await client.runs.inspect(parent);
    return children.some((c) => c.status === "completed") && children.some((c) => c.status !== "completed") ? true : undefined;
  }, 15_000, "some children to finish, not all");

  const after = await killAndRestart(d, first);
  expect(await after.runs.result(parent, { timeout: "30s" })).toBe(((CHILDREN * (CHILDREN - 1)) / 2) * STEPS);
  const inspection = (await after.runs.inspect(parent)) as Inspection;
  expect(inspection.children).toHaveLength(CHILDREN);
  expect(new Set(inspection.children.map((c) => c.id)).size).toBe(CHILDREN);
  expect(inspection.ops.filter((op) => op.kind === "spawn")).toHaveLength(CHILDREN);
  for (const child of inspection.children) stepsOnce((await after.runs.inspect(child.id)) as Inspection, STEPS);
  expect((await after.runs.list({ project: "kids", limit: 1000 })).length).toBe(CHILDREN + 1);
}, 90_000);

test("kill -9 mid supervision: the next daemon finishes the tree; each member's runs are recorded once, each restart once", async () => {
  const d = testDaemon({ VILANO_WORKERS: "2" });
  expect(d.cli("project", "add", writeProject({ "src/flows.ts": PROJECT }), "--name", "sup").exitCode).toBe(0);
  const first = d.pid();
  const client = createClient({ home: d.home, timeout: "10s" });
  const owner = (await client.runs.start("sup/tree", undefined, { id: "tree" })).id;
  await eventually(async () => ((await client.runs.inspect(owner)).events.some((e) => e.type === "member_restarted") ? true : undefined), 15_000, "a first restart");

  const after = await killAndRestart(d, first);
  expect(await after.runs.result(owner, { timeout: "30s" })).toEqual(["a@2", "b@2", "c@2", "d@2"]);
  const inspection = await after.runs.inspect(owner);
  const group = inspection.supervision[0]!;
  expect(group.members.map((m) => [m.key, m.restarts, m.status])).toEqual([
    ["a", 1, "completed"],
    ["b", 1, "completed"],
    ["c", 1, "completed"],
    ["d", 1, "completed"],
  ]);
  expect(inspection.events.filter((e) => e.type === "member_restarted")).toHaveLength(4);
  // Each member ran twice: its first run failed, its replacement completed; each recorded its step once.
  const runs = inspection.children.map((c) => [c.id, c.status]);
  expect(runs).toHaveLength(8);
  expect(new Set(runs.map(([id]) => id)).size).toBe(8);
  expect(runs.filter(([, status]) => status === "failed")).toHaveLength(4);
  for (const child of inspection.children) stepsOnce((await after.runs.inspect(child.id)) as Inspection, 1);
}, 90_000);
