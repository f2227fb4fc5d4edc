/**
 * A process that has exited but was not yet reaped by its parent (a zombie) is dead: it must not
 * count as the live owner of a database, nor as a running daemon. The zombie here belongs to a
 * `sleep` that never waits for its child, so nothing in this test process can reap it first.
 */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { createRuntime } from "../../src/embedded/index.ts";
import { isProcessAlive, processStateLetter } from "../../src/shared/process-state.ts";
import { createStore } from "../../src/store/index.ts";
import { eventually, tempDir } from "../helpers/temp-dir.ts";

/** A zombie's pid, and the parent that keeps it one until it is killed. */
async function zombie() {
  // `sh` starts a child that exits at once, prints its pid, then becomes a `sleep` that never reaps it.
  const parent = Bun.spawn(["sh", "-c", "sleep 0 & echo $!; exec sleep 30"], { stdout: "pipe" });
  const reader = parent.stdout.getReader();
  const { value } = await reader.read();
  reader.releaseLock();
  const pid = Number(new TextDecoder().decode(value).trim());
  await eventually(() => (processStateLetter(pid) === "Z" ? true : undefined), 5_000, `pid ${pid} to become a zombie`);
  return { pid, [Symbol.dispose]: () => parent.kill("SIGKILL") };
}

describe("a zombie is dead", () => {
  test("isProcessAlive says no for a zombie, yes for its living parent", async () => {
    using z = await zombie();
    expect(isProcessAlive(z.pid)).toBe(false);
    expect(isProcessAlive(process.pid)).toBe(true);
  });

  test("a database whose recorded owner is a zombie is taken over", async () => {
    using z = await zombie();
    const database = join(tempDir(), "runtime.sqlite");
    const store = createStore(database);
    await store.transaction(() => store.setMeta("owner", JSON.stringify({ pid: z.pid, since: new Date().toISOString() })));
    await store.close();
    await using rt = await createRuntime({ database, definitions: [], logLevel: "silent" });
    expect(await rt.list()).toEqual([]);
  });
});
