/**
 * A process that has exited but was not yet reaped by its parent (a zombie) is dead: it must not
 * count as the live owner of a database, nor as a running daemon. The zombie here belongs to a
 * `sleep` that never waits for its child, so nothing in this test process can reap it first.
 */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { createRuntime } from "../../src/embedded/index.ts";
import { isProcessAlive, processStateLetter } from "../../src/shared/process-state.ts";
import { signalChild } from "../../src/shared/signal-process.ts";
import { createStore } from "../../src/store/index.ts";
import { filePids } from "../helpers/lines.ts";
import { eventually, tempDir } from "../helpers/temp-dir.ts";

/**
 * A zombie's pid, and the parent that keeps it one until it is killed. The shell starts a child,
 * notes its pid, then becomes a `sleep` (which never reaps anyone); the child exits only once its
 * parent is that `sleep`. Were it to exit earlier, the shell could reap it before its `exec` — on a
 * loaded machine it often did — and no zombie would ever appear. `slowParent` puts busy work
 * before the `exec`, as a loaded machine does.
 */
async function zombie(slowParent = false) {
  const dir = tempDir("vilano-zombie-");
  // $$ is the shell's pid in the subshell too: the child watches its parent's name change on exec.
  const child = 'read -r me < /proc/$$/comm; (while read -r now < /proc/$$/comm && [ "$now" = "$me" ]; do :; done) & echo $! > child.pid';
  const busy = slowParent ? "; i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done" : "";
  const parent = Bun.spawn(["sh", "-c", `${child}${busy}; exec sleep 30`], { cwd: dir, stdout: "ignore" });
  try {
    const pid = await eventually(() => filePids(join(dir, "child.pid"))[0], 20_000, "the child's pid");
    await eventually(() => (processStateLetter(pid) === "Z" ? true : undefined), 20_000, `pid ${pid} to become a zombie`);
    return { pid, [Symbol.dispose]: () => signalChild(parent, "SIGKILL") };
  } catch (error) {
    signalChild(parent, "SIGKILL");
    throw error;
  }
}

describe("a zombie is dead", () => {
  test("isProcessAlive says no for a zombie, yes for its living parent", async () => {
    using z = await zombie();
    expect(isProcessAlive(z.pid)).toBe(false);
    expect(isProcessAlive(process.pid)).toBe(true);
  });

  test("a zombie is made even when its parent is slow to become the process that never reaps", async () => {
    using z = await zombie(true);
    expect(processStateLetter(z.pid)).toBe("Z");
    expect(isProcessAlive(z.pid)).toBe(false);
  }, 45_000);

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
