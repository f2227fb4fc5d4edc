/**
 * Through the daemon of the built executable, from a script's `createClient()`: a call by key
 * reaches an instance once it exists and is answered as the instance stands — the daemon keeps the
 * refs of instances it has found (they never change snapshot), so this checks that what it keeps
 * never answers for the database: a key with no instance yet, a stopped instance, a removed project.
 */
import { expect, test } from "bun:test";
import { createClient } from "../../src/client/index.ts";
import { testDaemon } from "../helpers/daemon.ts";
import { writeProject } from "../helpers/project.ts";

const COUNTER = `import { service } from "@vilano/runtime";
export const Counter = service({
  name: "Counter",
  key: (input: { key: string }) => input.key,
  init: () => ({ items: [] as string[] }),
  onAsk: {
    append: (payload: { item: string }, state) => {
      const items = [...state.items, payload.item];
      return { state: { items }, reply: { count: items.length } };
    },
  },
});
`;

test("a call by key is answered as the instance stands: missing, running, stopped, its project removed", async () => {
  const d = testDaemon();
  expect(d.cli("project", "add", writeProject({ "src/counter.ts": COUNTER }), "--name", "p").exitCode).toBe(0);
  d.pid();
  const vl = createClient({ home: d.home });
  const append = (address: { key: string } | { keyInput: { key: string } }, item: string) =>
    vl.services.call("p/Counter", { kind: "ask", handler: "append", ...address, payload: { item }, timeout: "30s" });

  // No instance with that key yet: looked up, and looked up again once a call by key input made it.
  await expect(append({ key: "a" }, "x0")).rejects.toMatchObject({ code: "not_found" });
  expect(await append({ keyInput: { key: "a" } }, "x1")).toMatchObject({ reply: { count: 1 } });
  expect(await append({ key: "a" }, "x2")).toMatchObject({ reply: { count: 2 } });
  expect(await append({ key: "a" }, "x3")).toMatchObject({ reply: { count: 3 } });
  await expect(append({ key: "b" }, "y0")).rejects.toMatchObject({ code: "not_found" });

  // Stopped: the instance refuses the ask, however often it was called before.
  await vl.services.stop("p/Counter", "a");
  await expect(append({ key: "a" }, "x4")).rejects.toMatchObject({ code: "service_stopped" });

  // Its project removed: the target is unknown, not served from what the daemon kept.
  await vl.projects.remove("p");
  await expect(append({ key: "a" }, "x5")).rejects.toMatchObject({ code: "not_found" });
}, 60_000);
