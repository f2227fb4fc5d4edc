import { describe, expect, test } from "bun:test";
import { cpSync, existsSync, lstatSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createRuntime } from "../../src/embedded/index.ts";
import { buildManifest, createSnapshot, loadDefinitions, parseManifest, scanDefinitions } from "../../src/project/index.ts";
import { STARTER_INPUT, STARTER_OUTPUT } from "../helpers/reviewer.ts";
import { tempDir } from "../helpers/temp-dir.ts";

/** A project folder with no node_modules: @vilano/runtime must come from this process. */
function makeProject(): string {
  const dir = tempDir("vilano-project-");
  cpSync(join(import.meta.dir, "..", "..", "starters", "agent"), dir, { recursive: true });
  writeFileSync(join(dir, "vilano.manifest.json"), JSON.stringify(buildManifest(scanDefinitions(dir)), null, 2));
  return dir;
}

describe("project snapshots", () => {
  test("a snapshot is sealed read-only and named by its content", () => {
    const project = makeProject();
    const home = tempDir("vilano-home-");
    const first = createSnapshot(project, join(home, "snapshots"), "agent");
    expect(first.created).toBe(true);
    expect(createSnapshot(project, join(home, "snapshots"), "agent")).toEqual({ ...first, created: false });
    expect(statSync(join(first.dir, "src", "agent.ts")).mode & 0o777).toBe(0o444);
    expect(statSync(first.dir).mode & 0o777).toBe(0o555);
    writeFileSync(join(project, "src", "agent.ts"), `${readFileSync(join(project, "src", "agent.ts"), "utf8")}\n// changed\n`);
    expect(createSnapshot(project, join(home, "snapshots"), "agent").id).not.toBe(first.id);
  });

  test("node_modules is linked, not copied, and .git is left out", () => {
    const project = makeProject();
    mkdirSync(join(project, "node_modules", "dep"), { recursive: true });
    mkdirSync(join(project, ".git"));
    const snapshot = createSnapshot(project, join(tempDir(), "snapshots"), "agent");
    expect(lstatSync(join(snapshot.dir, "node_modules")).isSymbolicLink()).toBe(true);
    expect(existsSync(join(snapshot.dir, ".git"))).toBe(false);
  });
});

describe("loading definitions", () => {
  test("definitions load from a snapshot without node_modules and run the starter walk", async () => {
    const project = makeProject();
    const snapshot = createSnapshot(project, join(tempDir(), "snapshots"), "agent");
    const manifest = parseManifest(await Bun.file(join(snapshot.dir, "vilano.manifest.json")).text());
    const loaded = await loadDefinitions(snapshot.dir, manifest);
    expect(loaded.workflows.map((w) => w.name)).toEqual(["reviewCoordinator"]);
    expect(loaded.services.map((s) => s.name)).toEqual(["reviewer"]);
    await using rt = await createRuntime({ definitions: [...loaded.workflows, ...loaded.services], logLevel: "silent" });
    const run = await rt.start("reviewCoordinator", STARTER_INPUT);
    expect(await run.result()).toEqual(STARTER_OUTPUT);
  });

  test("a missing export, a wrong kind and a wrong name are refused, listing the module's exports", async () => {
    const project = makeProject();
    const snapshot = createSnapshot(project, join(tempDir(), "snapshots"), "agent");
    const declare = (exportName: string, kind: "workflow" | "service", name: string) =>
      parseManifest(
        JSON.stringify({
          manifestVersion: 1,
          definitions: { [kind === "workflow" ? "workflows" : "services"]: [{ kind, name, exportName, file: "src/agent.ts" }] },
        }),
      );
    const exportsList = 'its exports: reviewCoordinator (workflow "reviewCoordinator"), reviewer (service "reviewer")';
    await expect(loadDefinitions(snapshot.dir, declare("nope", "workflow", "nope"))).rejects.toThrow(
      `src/agent.ts export "nope" is missing; ${exportsList}`,
    );
    await expect(loadDefinitions(snapshot.dir, declare("reviewer", "workflow", "reviewer"))).rejects.toThrow(
      `src/agent.ts export "reviewer" is not a workflow() definition; ${exportsList}`,
    );
    await expect(loadDefinitions(snapshot.dir, declare("reviewer", "service", "critic"))).rejects.toThrow(
      'src/agent.ts export "reviewer" is service "reviewer", but the manifest declares "critic"',
    );
  });
});
