/**
 * The built executable's daemon on PostgreSQL (VILANO_DATABASE_URL): the starter walk, what
 * `daemon status` says about the store, a second daemon (another home) sharing the database and
 * running the first one's project, runs still there when one of them stops, and a third daemon
 * that makes the project's snapshot from the database once the first one's home is gone.
 */
import { describe, expect, test } from "bun:test";
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { testDaemon } from "../helpers/daemon.ts";
import { freshPostgresDatabase, hasPostgres } from "../helpers/postgres.ts";
import { STARTER_INPUT } from "../helpers/reviewer.ts";
import { tempDir } from "../helpers/temp-dir.ts";

describe.skipIf(!hasPostgres)("the daemon on PostgreSQL", () => {
  test("runs the starter walk, says which store it uses, shares the database with a second daemon, and keeps its runs when one stops", async () => {
    const database = await freshPostgresDatabase();
    const d = testDaemon({ VILANO_DATABASE_URL: database });
    const agent = join(tempDir(), "my-agent");
    expect(d.cli("init", agent, "--starter").exitCode).toBe(0);
    expect(d.cli("project", "add", agent, "--name", "my-agent").exitCode).toBe(0);
    const walk = d.json<{ run: { id: string; status: string; output: { status: { noteCount: number } } } }>(
      "run", "start", "my-agent/reviewCoordinator", "--input", JSON.stringify(STARTER_INPUT), "--wait",
    );
    expect(walk.run).toMatchObject({ status: "completed", output: { status: { noteCount: 1 } } });

    const status = d.json<{ store: { kind: string; location: string } }>("daemon", "status");
    expect(status.store).toMatchObject({ kind: "postgres", location: database });
    expect(d.cli("daemon", "status").stdout).toContain(`store: PostgreSQL at ${database}`);

    // Another home, the same database: a second daemon joins, and each lists both.
    const other = testDaemon({ VILANO_DATABASE_URL: database });
    expect(other.cli("daemon", "start").exitCode).toBe(0);
    const shared = other.json<{ store: { daemons: { pid: number; self: boolean }[] } }>("daemon", "status").store.daemons;
    expect(shared.map((x) => x.pid).sort()).toEqual([d.pid(), other.pid()].sort());
    expect(shared.find((x) => x.self)?.pid).toBe(other.pid());
    expect(d.cli("daemon", "status").stdout).toContain("daemons sharing it (2)");

    // A run started through the second daemon, of the project added through the first: either
    // daemon may run it (the second finds the snapshot in the first one's home). The reviewer
    // instance is the same one, with the note of the first walk: a second note now.
    const second = other.json<{ run: { status: string; output: { status: { noteCount: number } } } }>(
      "run", "start", "my-agent/reviewCoordinator", "--input", JSON.stringify(STARTER_INPUT), "--wait",
    );
    expect(second.run).toMatchObject({ status: "completed", output: { status: { noteCount: 2 } } });

    expect(d.cli("daemon", "stop").exitCode).toBe(0);
    // The daemon that goes on finds every run in the database, and is alone again.
    expect(other.json<{ run: { status: string } }>("run", "inspect", walk.run.id).run.status).toBe("completed");
    expect(other.json<{ store: { daemons: unknown[] } }>("daemon", "status").store.daemons.length).toBe(1);
    expect(other.cli("daemon", "stop").exitCode).toBe(0);

    // As on another machine: the first daemon's home is gone, and a new daemon has none of its
    // snapshots. It makes the project's snapshot from the files stored in the database.
    Bun.spawnSync(["chmod", "-R", "u+w", d.home]);
    rmSync(join(d.home, "snapshots"), { recursive: true, force: true });
    const third = testDaemon({ VILANO_DATABASE_URL: database });
    expect(third.cli("daemon", "start").exitCode).toBe(0);
    const elsewhere = third.json<{ run: { status: string; output: { status: { noteCount: number } } } }>(
      "run", "start", "my-agent/reviewCoordinator", "--input", JSON.stringify(STARTER_INPUT), "--wait",
    );
    expect(elsewhere.run).toMatchObject({ status: "completed", output: { status: { noteCount: 3 } } });
    expect(existsSync(join(third.home, "snapshots", "my-agent"))).toBe(true);
    expect(third.cli("daemon", "stop").exitCode).toBe(0);
  }, 60_000);
});
