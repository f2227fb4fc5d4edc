import { describe, expect, test } from "bun:test";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildManifest, scanDefinitions } from "../../src/project/index.ts";
import { createDaemonRuntime } from "../../src/runtime/index.ts";
import { createLogger } from "../../src/shared/index.ts";
import { STARTER_INPUT, STARTER_OUTPUT } from "../helpers/reviewer.ts";
import { eventually, tempDir } from "../helpers/temp-dir.ts";

const logger = createLogger("silent");

function starterProject(): string {
  const dir = tempDir("vilano-project-");
  cpSync(join(import.meta.dir, "..", "..", "starters", "agent"), dir, { recursive: true });
  return dir;
}

/** A project whose `versioned` workflow sleeps, then reports the code version it ran. */
function versionedProject(version: string): string {
  const dir = tempDir("vilano-project-");
  mkdirSync(join(dir, "src"));
  writeVersion(dir, version);
  writeFileSync(join(dir, "vilano.manifest.json"), JSON.stringify(buildManifest(scanDefinitions(dir))));
  return dir;
}

function writeVersion(dir: string, version: string): void {
  writeFileSync(
    join(dir, "src", "flow.ts"),
    `import { workflow } from "@vilano/runtime";
export const versioned = workflow({
  name: "versioned",
  run: async (input: { nap: string }, ctx) => {
    await ctx.sleep(input.nap);
    return ${JSON.stringify(version)};
  },
});
`,
  );
}

describe("daemon runtime: projects and runs", () => {
  test("a registered starter project runs the starter walk and its service answers by key input", async () => {
    await using rt = await createDaemonRuntime({ home: tempDir("vilano-home-"), logger });
    const info = await rt.projects.add(starterProject(), "my-agent");
    expect(info).toMatchObject({ name: "my-agent", workflows: ["reviewCoordinator"], services: ["reviewer"] });
    const run = await rt.startRun("my-agent/reviewCoordinator", STARTER_INPUT);
    expect(run).toMatchObject({ created: true, name: "reviewCoordinator" });
    expect(await rt.result(run.id, { timeout: "5s" })).toEqual({ ...STARTER_OUTPUT, reviewerRunId: "svc:my-agent/reviewer:repo_123" });
    const ref = await rt.service("my-agent/reviewer", { repoId: "repo_123" });
    expect(await ref.ask.status!(undefined)).toMatchObject({ noteCount: 1 });
    // The walk has ended; its reviewer instance waits for mail between turns, on the snapshot it started on.
    expect((await rt.inspect("svc:my-agent/reviewer:repo_123")).run.status).toBe("idle");
    expect((await rt.projects.get("my-agent")).snapshots).toEqual([expect.objectContaining({ id: info.snapshotId, current: true, liveRuns: 1 })]);
  });

  test("runs stay pinned to the snapshot they started on; a sync affects only new runs", async () => {
    const project = versionedProject("v1");
    await using rt = await createDaemonRuntime({ home: tempDir("vilano-home-"), logger });
    const added = await rt.projects.add(project, "pinned");
    const old = await rt.startRun("pinned/versioned", { nap: "150ms" });
    writeVersion(project, "v2");
    const synced = await rt.projects.sync("pinned");
    const fresh = await rt.startRun("pinned/versioned", { nap: "1ms" });
    expect(await rt.result(fresh.id, { timeout: "5s" })).toBe("v2");
    expect(await rt.result(old.id, { timeout: "5s" })).toBe("v1");
    expect(synced.snapshotId).not.toBe(added.snapshotId);
    expect((await rt.projects.get("pinned")).snapshotId).toBe(synced.snapshotId);
  });

  test("a project shows every snapshot it had, which is current, and the unfinished runs pinned to each", async () => {
    const project = versionedProject("v1");
    await using rt = await createDaemonRuntime({ home: tempDir("vilano-home-"), logger });
    const first = await rt.projects.add(project, "history");
    const pinned = await rt.startRun("history/versioned", { nap: "1h" });
    writeVersion(project, "v2");
    const second = await rt.projects.sync("history");

    const { snapshots } = await rt.projects.get("history");
    expect(snapshots.map((s) => s.id).sort()).toEqual([first.snapshotId, second.snapshotId].sort());
    expect(snapshots[0]!.id).toBe(second.snapshotId);
    const byId = new Map(snapshots.map((s) => [s.id, s]));
    expect(byId.get(first.snapshotId)).toMatchObject({ current: false, liveRuns: 1, workflows: ["versioned"], services: [] });
    expect(byId.get(second.snapshotId)).toMatchObject({ current: true, liveRuns: 0, workflows: ["versioned"], services: [] });

    await rt.cancel(pinned.id);
    expect((await rt.projects.get("history")).snapshots.map((s) => s.liveRuns)).toEqual([0, 0]);

    // Back to the first code: its snapshot is reused, current, and listed first although older.
    writeVersion(project, "v1");
    expect((await rt.projects.sync("history")).snapshotId).toBe(first.snapshotId);
    expect((await rt.projects.get("history")).snapshots.map((s) => [s.id, s.current])).toEqual([
      [first.snapshotId, true],
      [second.snapshotId, false],
    ]);
  });

  test("after a restart, unfinished runs resume on their own snapshot", async () => {
    const home = tempDir("vilano-home-");
    const project = versionedProject("before");
    await using first = await createDaemonRuntime({ home, logger });
    await first.projects.add(project, "restart");
    // Long enough to be waiting (sleeps fire a little ahead of their due time: timers.ts).
    const run = await first.startRun("restart/versioned", { nap: "1s" }, { id: "nap-1" });
    await eventually(async () => ((await first.inspect("nap-1")).run.status === "waiting" ? true : undefined));
    await first.close();
    writeVersion(project, "after"); // not synced: the run must still use its snapshot

    await using second = await createDaemonRuntime({ home, logger });
    expect(await second.result(run.id, { timeout: "5s" })).toBe("before");
  });
});

describe("daemon runtime: bad input", () => {
  test("a symbolic link that loops, points nowhere or leads back up is a clear error naming it; no snapshot is left", async () => {
    const home = tempDir("vilano-home-");
    await using rt = await createDaemonRuntime({ home, logger });
    const cases: [string, (dir: string) => void, string][] = [
      ["loops", (dir) => symlinkSync(join(dir, "src", "self"), join(dir, "src", "self")), "project file src/self"],
      ["nowhere", (dir) => symlinkSync(join(dir, "missing"), join(dir, "src", "dangling")), "is a symbolic link that points nowhere"],
      ["cycle", (dir) => symlinkSync(dir, join(dir, "src", "up")), "leads back into a folder that contains it"],
    ];
    for (const [name, make, message] of cases) {
      const dir = starterProject();
      make(dir);
      await expect(rt.projects.add(dir, name)).rejects.toMatchObject({ code: "validation_failed", message: expect.stringContaining(message) });
    }
    expect(await rt.projects.list()).toEqual([]);
    expect(existsSync(join(home, "snapshots")) ? readdirSync(join(home, "snapshots")).flatMap((p) => readdirSync(join(home, "snapshots", p))) : []).toEqual([]);
  });

  test("registration errors are clear and record nothing", async () => {
    await using rt = await createDaemonRuntime({ home: tempDir("vilano-home-"), logger });
    await expect(rt.projects.add(starterProject(), "Bad Name")).rejects.toMatchObject({ code: "validation_failed" });
    const noManifest = tempDir();
    await expect(rt.projects.add(noManifest, "empty")).rejects.toMatchObject({ code: "not_found", hint: `create it with \`vilano init ${noManifest}\`` });
    const broken = starterProject();
    const manifest = JSON.parse(readFileSync(join(broken, "vilano.manifest.json"), "utf8"));
    manifest.definitions.services[0].exportName = "critic";
    writeFileSync(join(broken, "vilano.manifest.json"), JSON.stringify(manifest));
    await expect(rt.projects.add(broken, "broken")).rejects.toThrow('src/agent.ts export "critic" is missing; its exports: reviewCoordinator');
    expect(await rt.projects.list()).toEqual([]);
    await rt.projects.add(starterProject(), "twice");
    await expect(rt.projects.add(starterProject(), "twice")).rejects.toMatchObject({ code: "conflict" });
  });

  test("unknown projects, workflows and malformed targets are refused", async () => {
    await using rt = await createDaemonRuntime({ home: tempDir("vilano-home-"), logger });
    await rt.projects.add(starterProject(), "my-agent");
    await expect(rt.startRun("ghost/reviewCoordinator")).rejects.toThrow('no project is named "ghost" (registered: my-agent)');
    await expect(rt.startRun("my-agent/nope")).rejects.toThrow('project my-agent has no workflow "nope" (it has: reviewCoordinator)');
    await expect(rt.startRun("reviewCoordinator")).rejects.toThrow("write it as <project>/<workflow>");
    await expect(rt.service("my-agent/nope", {})).rejects.toMatchObject({ code: "unknown_service" });
  });
});
