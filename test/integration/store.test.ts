import { thrownBy } from "../helpers/thrown-by.ts";
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { VilanoError } from "../../src/shared/errors.ts";
import { createStore, LATEST_SCHEMA_VERSION, type Store } from "../../src/store/index.ts";
import { openDatabase } from "../../src/store/open.ts";


function insert(store: Store, id: string): Promise<void> {
  return store.insertRun({ id, kind: "workflow", name: "w", status: "pending", input: null, parentId: null, project: "", snapshotId: null, now: 1 });
}

/** Everything that defines the database's state: its schema and its meta table. */
function snapshot(path: string): { schema: unknown[]; meta: unknown[] } {
  const db = new Database(path, { readonly: true });
  try {
    return {
      schema: db.query("SELECT type, name, sql FROM sqlite_master ORDER BY name").all(),
      meta: db.query("SELECT key, value FROM meta ORDER BY key").all(),
    };
  } finally {
    db.close();
  }
}

describe("store", () => {
  let dir: string;
  const open: { close(): unknown }[] = [];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "vilano-store-"));
  });

  afterEach(async () => {
    for (const handle of open.splice(0)) await handle.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function track<T extends { close(): unknown }>(handle: T): T {
    open.push(handle);
    return handle;
  }

  describe("migrations", () => {
    test("record the latest schema version in meta", async () => {
      const store = track(createStore(":memory:"));
      expect(await store.getMeta("schema_version")).toBe(String(LATEST_SCHEMA_VERSION));
    });

    test("report the schema version reached", () => {
      expect(track(createStore(":memory:")).schemaVersion).toBe(LATEST_SCHEMA_VERSION);
    });

    test("record when and what each migration applied", async () => {
      const store = track(createStore(":memory:"));
      for (let v = 1; v <= LATEST_SCHEMA_VERSION; v++) {
        expect(await store.getMeta(`migration_${v}`)).toMatch(/^\d{4}-\d{2}-\d{2}T\S+Z \S/);
      }
    });

    test("create the tables the store uses", async () => {
      const path = join(dir, "v.db");
      await createStore(path).close();
      const tables = snapshot(path).schema.filter((row) => (row as { type: string }).type === "table").map((row) => (row as { name: string }).name);
      expect(tables).toEqual(expect.arrayContaining(["events", "meta", "ops", "runs", "signals"]));
    });

    test("leave an up-to-date database unchanged on reopen", async () => {
      const path = join(dir, "v.db");
      const first = createStore(path);
      await insert(first, "r1");
      await first.close();
      const before = snapshot(path);
      const again = track(createStore(path));
      expect(again.schemaVersion).toBe(LATEST_SCHEMA_VERSION);
      expect((await again.getRun("r1"))?.id).toBe("r1");
      expect(snapshot(path)).toEqual(before);
    });
  });

  describe("a database newer than the code", () => {
    test("is refused with schema_too_new", async () => {
      const path = join(dir, "new.db");
      await createStore(path).close();
      const db = new Database(path);
      db.run("UPDATE meta SET value = ? WHERE key = 'schema_version'", [String(LATEST_SCHEMA_VERSION + 1)]);
      db.close();

      const error = thrownBy(() => createStore(path));
      expect(error).toBeInstanceOf(VilanoError);
      expect((error as VilanoError).code).toBe("schema_too_new");
      expect((error as VilanoError).details).toEqual({
        databaseVersion: LATEST_SCHEMA_VERSION + 1,
        supportedVersion: LATEST_SCHEMA_VERSION,
      });
    });

    test("is left exactly as it was", async () => {
      const path = join(dir, "new.db");
      await createStore(path).close();
      const db = new Database(path);
      db.run("UPDATE meta SET value = ? WHERE key = 'schema_version'", [String(LATEST_SCHEMA_VERSION + 1)]);
      db.close();
      const before = snapshot(path);

      expect(() => createStore(path)).toThrow(VilanoError);
      expect(snapshot(path)).toEqual(before);
    });

    test("gets no migration applied", () => {
      // A database holding only meta: migrating it would create the runs table.
      const path = join(dir, "meta-only.db");
      const db = new Database(path);
      db.run("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
      db.run("INSERT INTO meta (key, value) VALUES ('schema_version', ?)", [String(LATEST_SCHEMA_VERSION + 5)]);
      db.close();

      expect(() => createStore(path)).toThrow(VilanoError);
      const after = snapshot(path);
      expect(after.schema.map((row) => (row as { name: string }).name)).toEqual(["meta", "sqlite_autoindex_meta_1"]);
      expect(after.meta).toEqual([{ key: "schema_version", value: String(LATEST_SCHEMA_VERSION + 5) }]);
    });

    test("is released so it can be written again", async () => {
      const path = join(dir, "new.db");
      await createStore(path).close();
      const db = new Database(path);
      db.run("UPDATE meta SET value = ? WHERE key = 'schema_version'", [String(LATEST_SCHEMA_VERSION + 1)]);
      db.close();
      expect(() => createStore(path)).toThrow(VilanoError);

      const writer = new Database(path);
      writer.run("PRAGMA busy_timeout = 0");
      writer.run("BEGIN IMMEDIATE");
      writer.run("UPDATE meta SET value = ? WHERE key = 'schema_version'", [String(LATEST_SCHEMA_VERSION)]);
      writer.run("COMMIT");
      writer.close();
      expect(track(createStore(path)).schemaVersion).toBe(LATEST_SCHEMA_VERSION);
    });
  });

  describe("a file database", () => {
    test("is created with mode 0600", () => {
      const path = join(dir, "mode.db");
      track(createStore(path));
      expect(statSync(path).mode & 0o777).toBe(0o600);
    });

    test("has owner-only WAL and SHM side files", async () => {
      const path = join(dir, "mode.db");
      const store = track(createStore(path));
      await insert(store, "r1");
      const sideFiles = [`${path}-wal`, `${path}-shm`].filter((file) => existsSync(file));
      expect(sideFiles.length).toBeGreaterThan(0);
      expect(sideFiles.map((file) => statSync(file).mode & 0o777)).toEqual(sideFiles.map(() => 0o600));
    });

    test("is tightened to 0600 when it existed with looser permissions", () => {
      const path = join(dir, "loose.db");
      writeFileSync(path, "", { mode: 0o644 });
      track(createStore(path));
      expect(statSync(path).mode & 0o777).toBe(0o600);
    });

    test("gets its missing parent directory created owner-only", () => {
      const path = join(dir, "nested", "deeper", "v.db");
      track(createStore(path));
      expect([statSync(join(dir, "nested")).mode & 0o777, statSync(join(dir, "nested", "deeper")).mode & 0o777]).toEqual([
        0o700, 0o700,
      ]);
    });

    test("uses journal_mode wal", () => {
      const path = join(dir, "wal.db");
      track(createStore(path));
      const reader = track(new Database(path, { readonly: true }));
      expect(reader.query<{ journal_mode: string }, []>("PRAGMA journal_mode").get()?.journal_mode).toBe("wal");
    });

    test("opens with synchronous FULL", () => {
      const db = track(openDatabase(join(dir, "sync.db")));
      expect(db.query<{ synchronous: number }, []>("PRAGMA synchronous").get()?.synchronous).toBe(2);
    });

    test("opens with synchronous NORMAL when asked", () => {
      const db = track(openDatabase(join(dir, "sync.db"), { synchronous: "NORMAL" }));
      expect(db.query<{ synchronous: number }, []>("PRAGMA synchronous").get()?.synchronous).toBe(1);
    });

    test("opens with foreign keys on", () => {
      const db = track(openDatabase(join(dir, "fk.db")));
      expect(db.query<{ foreign_keys: number }, []>("PRAGMA foreign_keys").get()?.foreign_keys).toBe(1);
    });

    test("opens with the busy timeout set", () => {
      const db = track(openDatabase(join(dir, "busy.db"), { busyTimeoutMs: 1234 }));
      expect(db.query<{ timeout: number }, []>("PRAGMA busy_timeout").get()?.timeout).toBe(1234);
    });

    test("enforces foreign keys through the store", async () => {
      const store = track(createStore(join(dir, "fk.db")));
      await expect(
        store.putOp({
          runId: "missing",
          opKey: "step:a:0",
          seq: 0,
          kind: "step",
          name: "a",
          status: "completed",
          attempt: 1,
          result: null,
          error: null,
          wakeAt: null,
          meta: null,
          now: 1,
        }),
      ).rejects.toThrow(/FOREIGN KEY/);
    });

    test("keeps committed rows across a reopen", async () => {
      const path = join(dir, "durable.db");
      const first = createStore(path);
      await first.transaction(() => insert(first, "r1"));
      await first.close();
      expect((await track(createStore(path)).getRun("r1"))?.status).toBe("pending");
    });

    test("passes its integrity check", async () => {
      expect(await track(createStore(join(dir, "ok.db"))).integrityCheck()).toBe("ok");
    });

    test("is refused with storage_failed when the file is not a database", () => {
      const path = join(dir, "garbage.db");
      writeFileSync(path, "this is not a sqlite database, just some text that is long enough to fill a header".repeat(20));
      const error = thrownBy(() => createStore(path));
      expect(error).toBeInstanceOf(VilanoError);
      expect((error as VilanoError).code).toBe("storage_failed");
    });
  });
});
