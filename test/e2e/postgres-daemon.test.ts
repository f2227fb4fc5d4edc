/**
 * The built executable's daemon on PostgreSQL (VILANO_DATABASE_URL): the starter walk, what
 * `daemon status` says about the store, a second daemon on the same database refused while the
 * first holds it, and runs still there for the next daemon.
 */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { testDaemon } from "../helpers/daemon.ts";
import { freshPostgresDatabase, hasPostgres } from "../helpers/postgres.ts";
import { STARTER_INPUT } from "../helpers/reviewer.ts";
import { tempDir } from "../helpers/temp-dir.ts";

describe.skipIf(!hasPostgres)("the daemon on PostgreSQL", () => {
  test("runs the starter walk, says which store it uses, refuses a second writer, and keeps its runs for the next daemon", async () => {
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
    expect(status.store).toEqual({ kind: "postgres", location: database });
    expect(d.cli("daemon", "status").stdout).toContain(`store: PostgreSQL at ${database}`);

    // Another home, the same database: refused while this daemon writes to it.
    const other = testDaemon({ VILANO_DATABASE_URL: database });
    const refused = other.cli("daemon", "start", "--json");
    expect(refused.exitCode).not.toBe(0);
    expect(refused.stdout + refused.stderr).toContain("has a writer already");

    expect(d.cli("daemon", "stop").exitCode).toBe(0);
    // The next daemon (another home) finds the runs in the database.
    expect(other.cli("daemon", "start").exitCode).toBe(0);
    expect(other.json<{ run: { status: string } }>("run", "inspect", walk.run.id).run.status).toBe("completed");
    expect(other.cli("daemon", "stop").exitCode).toBe(0);
  }, 60_000);
});
