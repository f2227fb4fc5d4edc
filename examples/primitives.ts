/**
 * The README's examples of children, relationships, supervision, pubsub, singletons and turn
 * attempts, as a project file. `test/integration/readme-examples.test.ts` checks that each region
 * below appears verbatim in the README and runs it, so the README's code runs as written.
 */
import { nonRetryable, service, workflow, type Published } from "@vilano/runtime";

// #region spawn
export const fetchPage = workflow({
  name: "fetchPage",
  run: async (input: { url: string }, ctx) => ctx.step("fetch", () => ({ url: input.url, bytes: input.url.length * 100 })),
});

export const crawl = workflow({
  name: "crawl",
  run: async (input: { urls: string[] }, ctx) => {
    // One child per URL, keyed: a replay (or a crawl that spawns the same key again) finds the same child.
    const pages = input.urls.map((url) => ctx.spawn(fetchPage, { url }, { key: url }));
    const results = await Promise.all(pages.map((page) => page.result())); // a failed child throws ChildFailedError
    return { bytes: results.reduce((sum, r) => sum + r.bytes, 0), children: pages.map((p) => p.id) };
  },
});
// #endregion

// #region links
export const job = workflow({
  name: "job",
  run: async (input: { fail: boolean }) => {
    if (input.fail) throw nonRetryable(new Error("the job broke"));
    return "done";
  },
});

export const watchdog = workflow({
  name: "watchdog",
  run: async (_input: void, ctx) => {
    ctx.trapExit(); // linked failures arrive as exit events instead of cancelling this run
    const good = ctx.spawn(job, { fail: false }, { key: "good" });
    const bad = ctx.spawn(job, { fail: true }, { key: "bad" });
    await good.monitor(); // any end of `good` → one exit event
    await ctx.link(bad); // an abnormal end of either side ends the other, unless it traps exits
    const exits = [await ctx.nextExit(), await ctx.nextExit()]; // FIFO
    return exits.map((e) => `${e.relationship} ${e.status}`).sort(); // ["link failed", "monitor completed"]
  },
});
// #endregion

// #region supervise
export const attempts = service({
  name: "attempts",
  key: (input: { job: string }) => input.job,
  init: async () => ({ count: 0 }),
  onAsk: { next: async (_p: void, state) => ({ state: { count: state.count + 1 }, reply: state.count + 1 }) },
});

export const unreliable = workflow({
  name: "unreliable",
  run: async (input: { job: string }, ctx) => {
    const attempt = await (await ctx.connect(attempts, { job: input.job })).ask.next();
    if (attempt < 3) throw nonRetryable(new Error(`attempt ${attempt} crashed`));
    return { job: input.job, attempt };
  },
});

export const jobRunner = workflow({
  name: "jobRunner",
  run: async (input: { jobs: string[] }, ctx) => {
    const group = ctx.supervise({ strategy: "one_for_one", maxRestarts: 5, window: "1m" });
    const members = input.jobs.map((name) => group.spawn(unreliable, { job: name }, { key: name }));
    const done = await Promise.all(members.map((m) => m.result())); // survives the restarts
    return { done, restarts: (await group.members()).map((m) => m.restarts) };
  },
});
// #endregion

// #region pubsub
export const dashboard = service({
  name: "dashboard",
  key: (input: { team: string }) => input.team,
  init: async () => ({ deploys: [] as string[] }),
  discovery: { singletonRole: "dashboard" },
  onAsk: {
    follow: async (_p: void, _state, ctx) => {
      await ctx.subscribe("deploys", { signal: "deployed" }); // durable: survives restarts
      return { reply: "following" };
    },
    deploys: async (_p: void, state) => ({ reply: state.deploys }),
  },
  // Each publish arrives as { topic, payload, publishId, publisherRunId }.
  onSignal: { deployed: async (d: Published<{ version: string }>, state) => ({ state: { deploys: [...state.deploys, d.payload.version] } }) },
});

export const release = workflow({
  name: "release",
  run: async (input: { version: string }, ctx) => {
    const board = await ctx.lookupSingleton<typeof dashboard>("dashboard", { team: "core" }); // never creates it
    const { enqueued } = await ctx.publish("deploys", { version: input.version }); // once per op, even on replay
    return { enqueued, seen: await board.ask.deploys() };
  },
});
// #endregion

// #region attempts
export const mailer = service({
  name: "mailer",
  key: () => "mailer",
  retry: { retries: 3, backoff: "100ms" },
  onAsk: {
    send: async (p: { to: string }, _state, ctx) => {
      if (ctx.turnAttempt === 1) throw new Error("SMTP timeout"); // retried: attempt 2 goes on
      if (!p.to.includes("@")) ctx.reject({ message: "bad address", reason: "invalid_recipient" });
      return { reply: { sent: p.to, attempt: ctx.turnAttempt } };
    },
  },
});

export const notify = workflow({
  name: "notify",
  run: async (input: { to: string }, ctx) => {
    const mail = await ctx.connect(mailer, {});
    try {
      return await mail.ask.send({ to: input.to });
    } catch (error) {
      return { failed: (error as { cause: { reason?: string } }).cause.reason }; // "invalid_recipient"
    }
  },
});
// #endregion
