/**
 * The PostgreSQL store against a real server (VILANO_TEST_DATABASE_URL; scripts/test.sh starts
 * one): migrations, the one-writer lock (also when its holder is killed), transactions and
 * savepoints, and reads that see committed rows only.
 */
import { describe, expect, test } from "bun:test";
import { SQL } from "bun";
import { join } from "node:path";
import { createPostgresStore, redactUrl, type Store } from "../../src/store/index.ts";
import { PG_LATEST_SCHEMA_VERSION } from "../../src/store/postgres/schema.ts";
import { freshPostgresDatabase, hasPostgres } from "../helpers/postgres.ts";
import { eventually, tempDir } from "../helpers/temp-dir.ts";

const run = (id: string) => ({ id, kind: "workflow", name: "w", status: "pending" as const, input: null, parentId: null, project: "", snapshotId: null, now: 1_700_000_000_123.5 });

describe.skipIf(!hasPostgres)("the PostgreSQL store", () => {
  test("a database is migrated once to the latest schema; one from a newer vilano is refused by name", async () => {
    const url = await freshPostgresDatabase();
    const first = await createPostgresStore(url);
    expect(first.schemaVersion).toBe(PG_LATEST_SCHEMA_VERSION);
    await first.close();
    const again = await createPostgresStore(url);
    expect(again.schemaVersion).toBe(PG_LATEST_SCHEMA_VERSION);
    await again.setMeta("schema_version", String(PG_LATEST_SCHEMA_VERSION + 1));
    await again.close();
    await expect(createPostgresStore(url)).rejects.toMatchObject({ code: "schema_too_new" });
  });

  test("one writer at a time: a second is refused while the first holds the database, and gets in once it lets go", async () => {
    const url = await freshPostgresDatabase();
    const first = await createPostgresStore(url);
    const second = await createPostgresStore(url);
    try {
      await first.claimWriter();
      await expect(second.claimWriter()).rejects.toMatchObject({ code: "conflict", message: expect.stringContaining("has a writer already") });
      await first.releaseWriter();
      await second.claimWriter();
    } finally {
      await first.close();
      await second.close();
    }
  });

  test("the writer's lock goes with a writer that is killed (kill -9), and the next one takes over", async () => {
    const url = await freshPostgresDatabase();
    const script = join(tempDir(), "hold.ts");
    await Bun.write(
      script,
      `import { createPostgresStore } from ${JSON.stringify(join(import.meta.dir, "../../src/store/index.ts"))};
       const store = await createPostgresStore(${JSON.stringify(url)});
       await store.claimWriter();
       console.log("holding");
       await new Promise(() => {});`,
    );
    const holder = Bun.spawn([process.execPath, script], { stdout: "pipe", stderr: "inherit" });
    try {
      const reader = holder.stdout.getReader();
      expect(new TextDecoder().decode((await reader.read()).value)).toContain("holding");
      const next = await createPostgresStore(url);
      try {
        await expect(next.claimWriter()).rejects.toMatchObject({ code: "conflict" });
        holder.kill("SIGKILL");
        await holder.exited;
        // The server notices the dead connection and lets its session lock go.
        await eventually(() => next.claimWriter().then(() => true, () => undefined), 10_000, "the lock of the killed writer");
      } finally {
        await next.close();
      }
    } finally {
      holder.kill("SIGKILL");
    }
  }, 20_000);

  test("a writer whose lock's connection is lost can no longer commit, so a second writer never writes beside it", async () => {
    const url = await freshPostgresDatabase();
    const first = await createPostgresStore(url);
    const plain = new SQL(url);
    try {
      await first.claimWriter();
      await first.transaction(() => first.insertRun(run("before")));
      // What a server restart, an idle-session timeout or a network cut does to the lock's connection.
      await plain.unsafe("SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted");
      await expect(first.transaction(() => first.insertRun(run("after")))).rejects.toThrow();
      const second = await createPostgresStore(url);
      try {
        await second.claimWriter();
        await expect(first.transaction(() => first.insertRun(run("beside")))).rejects.toThrow();
        expect(await second.reads.getRun("after")).toBeNull();
        expect(await second.reads.getRun("beside")).toBeNull();
        expect(await second.reads.getRun("before")).not.toBeNull();
      } finally {
        await second.close();
      }
    } finally {
      await first.close();
      await plain.close();
    }
  });

  test("a URL never shows its password, in the user part or in the query", () => {
    expect(redactUrl("postgres://vilano:s3cret@db:5432/v")).toBe("postgres://vilano:***@db:5432/v");
    expect(redactUrl("postgres://vilano@db:5432/v?password=s3cret&sslmode=require")).toBe("postgres://vilano@db:5432/v?password=***&sslmode=require");
  });

  test("a transaction commits its writes or none; a savepoint rolls back its command alone; reads see committed rows only", async () => {
    const store: Store = await createPostgresStore(await freshPostgresDatabase());
    try {
      let seenInside: unknown = "not read";
      await store.transaction(async () => {
        await store.insertRun(run("kept"));
        await store.savepoint(async () => store.insertRun(run("also kept")));
        await store
          .savepoint(async () => {
            await store.insertRun(run("undone"));
            throw new Error("the command fails");
          })
          .catch(() => {});
        seenInside = await store.reads.getRun("kept"); // another connection: not committed yet
      });
      expect(seenInside).toBeNull();
      expect((await store.reads.getRun("kept"))?.createdAt).toBe(1_700_000_000_123.5);
      expect(await store.reads.getRun("also kept")).not.toBeNull();
      expect(await store.reads.getRun("undone")).toBeNull();
      await expect(
        store.transaction(async () => {
          await store.insertRun(run("gone"));
          throw new Error("the batch fails");
        }),
      ).rejects.toThrow("the batch fails");
      expect(await store.reads.getRun("gone")).toBeNull();
      expect(store.inTransaction).toBe(false);
    } finally {
      await store.close();
    }
  });

  test("what the store committed is still there for a new connection", async () => {
    const url = await freshPostgresDatabase();
    const first = await createPostgresStore(url);
    await first.transaction(async () => {
      await first.insertRun(run("durable"));
      await first.appendEvent("durable", "run_started", null, 1);
      await first.appendEvent("durable", "run_completed", "{}", 2);
    });
    await first.close();
    const plain = new SQL(url);
    try {
      expect(await plain`SELECT seq, type FROM events WHERE run_id = 'durable' ORDER BY seq`).toEqual([
        { seq: 1, type: "run_started" },
        { seq: 2, type: "run_completed" },
      ]);
    } finally {
      await plain.close();
    }
  });
});
