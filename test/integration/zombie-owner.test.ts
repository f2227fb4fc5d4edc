/**
 * A database whose recorded owner is a zombie (exited, not yet reaped by its parent) is free: the
 * owner is dead, so the next runtime takes it over instead of answering "in use by process N".
 */
import { expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { createRuntime } from "../../src/embedded/index.ts";
import { isProcessAlive } from "../../src/shared/index.ts";
import { createStore } from "../../src/store/index.ts";
import { eventually, tempDatabase } from "../helpers/temp-dir.ts";

test("an owner pid that is a zombie does not hold the database", async () => {
  // `true` exits at once; its parent becomes `sleep`, which never reaps it: a zombie for 30 s. The
  // shell prints both pids: the sleeping parent is ended by pid at the end.
  const maker = Bun.spawn(["sh", "-c", "true & echo $! $$; exec sleep 30 >/dev/null"], { stdout: "pipe" });
  const [zombie, parentPid] = (await new Response(maker.stdout).text()).trim().split(" ").map(Number) as [number, number];
  const parent = { pid: parentPid, kill: () => process.kill(parentPid, "SIGKILL") };
  try {
    const state = () => (Bun.spawnSync(["ps", "-o", "stat=", "-p", String(zombie)]).stdout.toString().trim() || "gone")[0];
    expect(await eventually(() => (state() === "Z" ? "Z" : undefined), 10_000, `${zombie} to be a zombie (it is ${state()})`)).toBe("Z");
    expect(isProcessAlive(zombie)).toBe(false);

    const database = tempDatabase();
    createStore(database).close();
    const ownedBy = (pid: number) => {
      const db = new Database(database);
      db.run("INSERT INTO meta (key, value) VALUES ('owner', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", [JSON.stringify({ pid })]);
      db.close();
    };
    // A live owner holds it (the zombie's parent, which is alive)…
    ownedBy(parent.pid);
    expect(await createRuntime({ database, definitions: [], logLevel: "silent" }).then(() => "opened", (e: { code?: string }) => e.code)).toBe("conflict");
    // …a zombie does not.
    ownedBy(zombie);
    await using rt = await createRuntime({ database, definitions: [], logLevel: "silent" });
    expect(await rt.list()).toEqual([]);
  } finally {
    try {
      parent.kill();
    } catch {
      // already gone
    }
  }
});
