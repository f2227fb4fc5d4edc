/**
 * The PostgreSQL store against a real server (VILANO_TEST_DATABASE_URL; scripts/test.sh starts
 * one): migrations, several daemons as members (one transaction at a time, claims that skip each
 * other, dead members, notices), transactions and savepoints, and reads that see committed rows only.
 */
import { describe, expect, test } from "bun:test";
import { SQL } from "bun";
import { join } from "node:path";
import { createPostgresStore, isStorageFault, redactUrl, RetryCarefully, type ClusterNotice, type Store } from "../../src/store/index.ts";
import { linesOf, signalChild } from "../../src/shared/index.ts";
import { PG_LATEST_SCHEMA_VERSION } from "../../src/store/postgres/schema.ts";
import { createGroupCommitQueue } from "../../src/kernel/group-commit.ts";
import { freshPostgresDatabase, hasPostgres } from "../helpers/postgres.ts";
import { eventually, tempDir } from "../helpers/temp-dir.ts";

/** The advisory locks of this test's database that a session waits for. */
const WAITING_FOR_LOCK = "FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())";
const untilWaitingForLock = (plain: SQL) =>
  eventually(async () => ((await plain.unsafe(`SELECT count(*)::int AS n ${WAITING_FOR_LOCK}`))[0].n > 0) || undefined, 5_000, "a writer waiting for the commit lock");

const run = (id: string) => ({ id, kind: "workflow" as const, name: "w", status: "pending" as const, input: null, parentId: null, project: "", snapshotId: null, now: 1_700_000_000_123.5 });

/**
 * Two stores on one database (a fresh one unless `url` names one), each a member as a daemon is,
 * and a plain connection; all closed when the block that holds them ends (`await using`).
 */
async function twoDaemons(url?: string) {
  const database = url ?? (await freshPostgresDatabase());
  const first = await createPostgresStore(database);
  const second = await createPostgresStore(database);
  const plain = new SQL(database);
  await first.claimWriter();
  await second.claimWriter();
  return {
    first,
    second,
    plain,
    async [Symbol.asyncDispose]() {
      await first.close();
      await second.close();
      await plain.close();
    },
  };
}

/** A transaction of `store` that has run `inside` and holds the commit lock until `release()`; `done` once it committed. */
async function holdingTransaction(store: Store, inside: () => Promise<unknown> = async () => {}) {
  const released = Promise.withResolvers<void>();
  const holding = Promise.withResolvers<void>();
  const done = store.transaction(async () => {
    await inside();
    holding.resolve();
    await released.promise;
  });
  // A transaction that fails before it holds the lock fails here, rather than leaving this wait.
  await Promise.race([holding.promise, done]);
  return { release: () => released.resolve(), done };
}

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

  test("several daemons write to one database one transaction at a time: the second waits for the first's commit, then reads what it wrote", async () => {
    await using daemons = await twoDaemons();
    const { first, second, plain } = daemons;
    const firstOpen = await holdingTransaction(first, async () => {
      await first.insertRun(run("a"));
      await first.getRun("a");
    });
    // The first holds the commit lock: the second's transaction starts, and waits for it.
    const secondSaw = second.transaction(() => second.getRun("a"));
    await untilWaitingForLock(plain);
    firstOpen.release();
    await firstOpen.done;
    expect((await secondSaw)?.id).toBe("a");
  });

  test("a writer whose wait for the commit lock is cancelled fails its batch as a storage fault, its process lives on, and its next batch commits", async () => {
    // In a process of its own: Bun's client sometimes also rejects a promise nobody holds for the
    // cancelled statement (src/store/postgres/orphaned-cancels.ts), which bun test would take as
    // this test's failure before the store's listener could drop it. 25 cycles: it comes up in most.
    const child = Bun.spawn(["bun", join(import.meta.dir, "pg-cancel-child.ts"), await freshPostgresDatabase(), "25"], { stdout: "pipe", stderr: "pipe" });
    const [out, err, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
    expect({ code, err }).toEqual({ code: 0, err: "" });
    expect(JSON.parse(out)).toEqual({ cycles: 25, faults: 25, committed: 25 });
  }, 60_000);

  test("claims of pending runs skip each other: two daemons claiming at once never get the same run", async () => {
    await using daemons = await twoDaemons();
    const { first, second } = daemons;
    await first.transaction(async () => {
      for (let i = 0; i < 60; i++) await first.insertRun(run(`r${String(i).padStart(2, "0")}`));
    });
    const [mine, theirs] = await Promise.all([first.cluster!.claimPending(40), second.cluster!.claimPending(40)]);
    expect(mine.length + theirs.length).toBe(60);
    expect(new Set([...mine, ...theirs]).size).toBe(60);
    expect((await first.reads.getRun(mine[0]!))?.owner).toBe(first.cluster!.daemonId);
    // Nothing is left to claim, except what is given back; a run named in `except` is not taken.
    expect(await first.cluster!.claimPending(10)).toEqual([]);
    await second.cluster!.unclaim(theirs[0]!);
    expect(await first.cluster!.claimPending(10, [theirs[0]!])).toEqual([]);
    expect(await first.cluster!.claimPending(10)).toEqual([theirs[0]!]);
  });

  test("a member killed with -9 on this machine is dead at once; a silent one once its time to live is out; one counted dead joins again", async () => {
    const url = await freshPostgresDatabase();
    const script = join(tempDir(), "member.ts");
    await Bun.write(
      script,
      `import { createPostgresStore } from ${JSON.stringify(join(import.meta.dir, "../../src/store/index.ts"))};
       const store = await createPostgresStore(${JSON.stringify(url)});
       await store.claimWriter();
       console.log(store.cluster.daemonId);
       await new Promise(() => {});`,
    );
    const member = Bun.spawn([process.execPath, script], { stdout: "pipe", stderr: "inherit" });
    try {
      await using daemons = await twoDaemons(url);
      const { first, second } = daemons;
      const memberId = (await linesOf(member.stdout).next()).value.trim();
      expect((await first.cluster!.members()).map((m) => m.id).sort()).toEqual([first.cluster!.daemonId, second.cluster!.daemonId, memberId].sort());
      expect(await first.cluster!.deadMembers(60_000)).toEqual([]);
      signalChild(member, "SIGKILL");
      await member.exited;
      expect(await first.cluster!.deadMembers(60_000)).toEqual([{ id: memberId, gone: true }]);
      // The second beats no more: silent past a short time to live, it counts as dead too.
      const silent = { id: second.cluster!.daemonId, gone: false };
      await eventually(async () => (await first.cluster!.deadMembers(50)).some((d) => d.id === silent.id && !d.gone) || undefined, 5_000, "the silent member");
      // One that beats again before it is removed stays a member.
      expect(await second.cluster!.heartbeat()).toBe(true);
      await first.transaction(() => first.cluster!.removeMembers([silent], 5_000));
      expect((await first.cluster!.members()).map((m) => m.id)).toContain(silent.id);
      await eventually(async () => (await first.cluster!.deadMembers(50)).some((d) => d.id === silent.id) || undefined, 5_000, "the silent member again");
      const orphaned = await first.transaction(() => first.cluster!.removeMembers([{ id: memberId, gone: true }, silent], 50));
      expect(orphaned).toEqual([]);
      expect((await first.cluster!.members()).map((m) => m.id)).toEqual([first.cluster!.daemonId]);
      expect(await second.cluster!.heartbeat()).toBe(false);
      expect(await second.cluster!.heartbeat()).toBe(true);
      expect((await first.cluster!.members()).length).toBe(2);
    } finally {
      signalChild(member, "SIGKILL");
    }
  }, 20_000);

  test("runs leased by a member that is gone are orphaned; its claims go back to everyone", async () => {
    await using daemons = await twoDaemons();
    const { first, second } = daemons;
    await first.transaction(async () => {
      for (const id of ["leased", "claimed", "mine"]) await first.insertRun(run(id));
    });
    await second.transaction(() => second.setRunStatus("leased", "running", 1));
    await first.transaction(() => first.setRunStatus("mine", "running", 1));
    expect(await second.cluster!.claimPending(5)).toEqual(["claimed"]);
    expect(await first.transaction(() => first.cluster!.ownLeases())).toEqual(["mine"]);
    expect(await first.transaction(() => first.cluster!.removeMembers([], 10_000))).toEqual([]);
    expect(await first.transaction(() => first.cluster!.removeMembers([{ id: second.cluster!.daemonId, gone: true }], 0))).toEqual(["leased"]);
    expect((await first.reads.getRun("claimed"))?.owner).toBeNull();
  });

  test("a commit's notice reaches the other daemons, in parts when it is long; a rolled-back one never does", async () => {
    await using daemons = await twoDaemons();
    const { first, second } = daemons;
    const heard: ClusterNotice[] = [];
    await first.cluster!.listen((notice) => heard.push(notice), () => {});
    await second.transaction(async () => {
      await second.cluster!.announce({ touched: ["x"] });
      throw new Error("rolled back");
    }).catch(() => {});
    const many = Array.from({ length: 600 }, (_, i) => `run-${String(i).padStart(20, "0")}`);
    await second.transaction(() => second.cluster!.announce({ touched: many, ended: ["y"], pending: true }));
    // The first's own notices are not told to itself.
    await first.transaction(() => first.cluster!.announce({ touched: ["self"] }));
    await eventually(() => heard.some((n) => n.ended?.includes("y")) || undefined, 5_000, "the notice");
    expect(heard.length).toBeGreaterThan(1);
    expect(heard.every((n) => n.from === second.cluster!.daemonId)).toBe(true);
    expect(heard.flatMap((n) => n.touched ?? [])).toEqual(many);
    expect(heard.some((n) => n.pending)).toBe(true);
  });

  test("a URL never shows its password, in the user part or in the query", () => {
    expect(redactUrl("postgres://vilano:s3cret@db:5432/v")).toBe("postgres://vilano:***@db:5432/v");
    expect(redactUrl("postgres://vilano@db:5432/v?password=s3cret&sslmode=require")).toBe("postgres://vilano@db:5432/v?password=***&sslmode=require");
  });

  test("a transaction commits its writes or none; a savepoint rolls back its command alone; reads see committed rows only", async () => {
    const store: Store = await createPostgresStore(await freshPostgresDatabase());
    try {
      // Fast, a command that fails after writing has no savepoint: the batch must go again, carefully.
      const failsAfterWriting = () =>
        store.savepoint(async () => {
          await store.insertRun(run("undone"));
          throw new Error("the command fails");
        });
      const fast = store.transaction(async () => {
        await store.insertRun(run("not yet"));
        await failsAfterWriting().catch((error: unknown) => expect(error).toBeInstanceOf(RetryCarefully));
        // A failure that has nothing to undo is the command's own.
        await expect(store.savepoint(async () => Promise.reject(new Error("reads only")))).rejects.toThrow("reads only");
      });
      await expect(fast).rejects.toBeInstanceOf(RetryCarefully);
      expect(await store.reads.getRun("not yet")).toBeNull();
      expect(await store.reads.getRun("undone")).toBeNull();
      let seenInside: unknown = "not read";
      await store.transaction(
        async () => {
          await store.insertRun(run("kept"));
          await store.savepoint(async () => store.insertRun(run("also kept")));
          await failsAfterWriting().catch((error: unknown) => expect(error).toMatchObject({ message: "the command fails" }));
          seenInside = await store.reads.getRun("kept"); // another connection: not committed yet
        },
        { careful: true },
      );
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

  test("in a batch, a command that fails after writing is undone alone: the batch goes round again carefully, and the others commit", async () => {
    const store = await createPostgresStore(await freshPostgresDatabase());
    const queue = createGroupCommitQueue(store, () => 1, () => {});
    try {
      const results = await Promise.allSettled([
        queue.submit(() => store.insertRun(run("first"))),
        queue.submit(async () => {
          await store.insertRun(run("failing"));
          throw new Error("the command fails after writing");
        }),
        queue.submit(async () => (await store.getRun("first"))?.id),
      ]);
      expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
      expect((results[1] as PromiseRejectedResult).reason).toMatchObject({ message: "the command fails after writing" });
      expect((results[2] as PromiseFulfilledResult<unknown>).value).toBe("first");
      expect(await store.reads.getRun("first")).not.toBeNull();
      expect(await store.reads.getRun("failing")).toBeNull();
      expect(queue.stats).toMatchObject({ batches: 1, commands: 3, carefulRetries: 1 });
      // A write sent without waiting that fails (the run exists already), last in its batch: it
      // shows only when the batch settles, and still fails its own command alone.
      const last = await Promise.allSettled([queue.submit(() => store.insertRun(run("second"))), queue.submit(() => store.insertRun(run("first")))]);
      expect(last.map((r) => r.status)).toEqual(["fulfilled", "rejected"]);
      expect(String((last[1] as PromiseRejectedResult).reason)).toContain("duplicate key");
      expect(await store.reads.getRun("second")).not.toBeNull();
      expect(queue.stats).toMatchObject({ batches: 2, carefulRetries: 2 });
    } finally {
      await queue.close();
      await store.close();
    }
  });

  test("op writes sent together number their outcomes in the order written, with the run's history read at once or not, and from a write made of an op row", async () => {
    const store = await createPostgresStore(await freshPostgresDatabase());
    const op = (opKey: string, seq: number, status: "waiting" | "completed", extra: { unseen?: boolean } = {}) => ({
      runId: "r", opKey, seq, kind: "step" as const, name: opKey, status, attempt: 1, result: status === "completed" ? `"${opKey}"` : null, error: null,
      wakeAt: null, meta: null, now: 1_700_000_000_000 + seq, ...extra,
    });
    const numbers = async () => Object.fromEntries((await store.reads.listOps("r")).map((o) => [o.opKey, o.resolvedSeq]));
    try {
      await store.transaction(async () => {
        await store.insertRun(run("r"));
        await store.putOp(op("a", 0, "completed"));
        await store.putOp(op("b", 1, "waiting"));
        await store.putOp(op("c", 2, "completed"));
        await store.putOp(op("d", 3, "completed", { unseen: true }));
      });
      expect(await numbers()).toEqual({ a: 1, b: null, c: 2, d: null });
      // Without the history read: a write made of the op's row (which carries its old, empty number).
      await store.transaction(async () => {
        const b = (await store.getOp("r", "b"))!;
        await store.putOp({ ...b, status: "completed", result: '"b"', now: b.updatedAt + 10 });
        await store.putOp(op("e", 4, "completed"));
      });
      expect(await numbers()).toEqual({ a: 1, b: 3, c: 2, d: null, e: 4 });
      // With it (a lease's read): the numbers are worked out here and sent with the writes.
      await store.transaction(
        async () => {
          expect((await store.listOps("r")).map((o) => o.opKey)).toEqual(["a", "b", "c", "d", "e"]);
          await store.numberUnseenOutcomes("r"); // d, the one outcome its code had not seen
          const c = (await store.getOp("r", "c"))!;
          await store.putOp({ ...c, result: '"c again"', now: c.updatedAt + 10 }); // keeps its number
          await store.putOp(op("f", 5, "completed"));
          await store.putOp(op("g", 6, "waiting"));
          expect(await store.openOpCount("r")).toBe(1);
        },
        { prefetch: [{ runId: "r", leasing: true }] },
      );
      expect(await numbers()).toEqual({ a: 1, b: 3, c: 2, d: 5, e: 4, f: 6, g: null });
      await store.transaction(
        async () => {
          expect((await store.listOps("r")).find((o) => o.opKey === "c")?.result).toBe('"c again"');
          await store.putOp({ ...(await store.getOp("r", "g"))!, status: "completed", result: '"g"', now: 1_700_000_001_000 });
          await store.putOp(op("h", 7, "completed"));
          expect((await store.listOps("r")).map((o) => o.resolvedSeq)).toEqual([1, 3, 2, 5, 4, 6, 7, 8]);
        },
        { prefetch: [{ runId: "r", leasing: true }] },
      );
      expect(await numbers()).toEqual({ a: 1, b: 3, c: 2, d: 5, e: 4, f: 6, g: 7, h: 8 });
    } finally {
      await store.close();
    }
  });

  test("a statement that makes the cache forget a run's history first sends the op writes numbered from it: no two outcomes share a number", async () => {
    const store = await createPostgresStore(await freshPostgresDatabase());
    const outcome = (opKey: string, seq: number) => ({
      runId: "r", opKey, seq, kind: "step" as const, name: opKey, status: "completed" as const, attempt: 1, result: "1", error: null, wakeAt: null, meta: null, now: 1_700_000_000_000 + seq,
    });
    try {
      await store.transaction(async () => {
        await store.insertRun(run("r"));
        await store.putOp(outcome("a", 0));
      });
      await store.transaction(
        async () => {
          await store.putOp(outcome("b", 1)); // numbered here, from the history read with the batch
          // Not known to leave runs and ops alone: the cache forgets everything.
          await store.insertInstance({ id: "svc", project: "", snapshotId: null, name: "s", serviceKey: "k", keyInput: null, status: "idle" as never, now: 1 });
          await store.putOp(outcome("c", 2)); // numbered by the database
        },
        { prefetch: [{ runId: "r", leasing: true }] },
      );
      expect((await store.reads.listOps("r")).map((o) => [o.opKey, o.resolvedSeq])).toEqual([["a", 1], ["b", 2], ["c", 3]]);
    } finally {
      await store.close();
    }
  });

  test("a name with half a UTF-16 pair is stored as a parameter would store it, inside a batch as outside one", async () => {
    const store = await createPostgresStore(await freshPostgresDatabase());
    try {
      await store.insertRun({ ...run("outside"), name: "a\ud800b" });
      await store.transaction(async () => {
        await store.insertRun({ ...run("inside"), name: "a\ud800b" });
        await store.appendEvent("inside", "run_started", "c\udc00d", 1);
        await store.appendEvent("inside", "run_started", JSON.stringify({ note: "c\udc00d" }), 2); // escaped by JSON already
      });
      expect((await store.reads.getRun("inside"))?.name).toBe((await store.reads.getRun("outside"))!.name);
      expect((await store.reads.getRun("inside"))?.name).toBe("a\ufffdb");
      expect((await store.reads.listEvents("inside")).map((e) => e.body)).toEqual(["c\ufffdd", '{"note":"c\\udc00d"}']);
    } finally {
      await store.close();
    }
  });

  test("the writer's connection, ended by the server while idle, is made again: the next batch commits", async () => {
    const url = await freshPostgresDatabase();
    const store = await createPostgresStore(url);
    const plain = new SQL(url);
    try {
      await store.transaction(() => store.insertRun(run("before")));
      // The writer keeps its connection between batches: end it, as a server restart or an idle timeout would.
      const ended = await plain`SELECT pg_terminate_backend(pid) AS done FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`;
      expect(ended.length).toBeGreaterThan(0);
      await store.transaction(() => store.insertRun(run("after")));
      expect(await store.reads.getRun("after")).not.toBeNull();
    } finally {
      await plain.close();
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
