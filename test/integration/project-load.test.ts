import { describe, expect, test } from "bun:test";
import { existsSync, lstatSync, mkdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createRuntime } from "../../src/embedded/index.ts";
import { buildManifest, createSnapshot, loadDefinitions, parseManifest, scanDefinitions } from "../../src/project/index.ts";
import { tempDir } from "../helpers/temp-dir.ts";

const AGENT = `import { service, workflow } from "@vilano/runtime";

export const reviewer = service({
  name: "reviewer",
  key: (input: { repoId: string }) => input.repoId,
  init: async (input) => ({ repoId: input.repoId, notes: [] as string[] }),
  onSend: { hint: async (p: { note: string }, state) => ({ state: { ...state, notes: [...state.notes, p.note] } }) },
  onAsk: { status: async (_p: void, state) => ({ reply: { repoId: state.repoId, noteCount: state.notes.length, notes: state.notes } }) },
});

export const reviewCoordinator = workflow({
  name: "reviewCoordinator",
  run: async (input: { repoId: string; note: string }, ctx) => {
    const ref = await ctx.connect(reviewer, { repoId: input.repoId });
    await ref.send.hint({ note: input.note });
    return { reviewerRunId: ref.id, status: await ref.ask.status() };
  },
});

export const helper = 42;
`;

/** A project folder with no node_modules: @vilano/runtime must come from this process. */
function makeProject(agent = AGENT): string {
  const dir = tempDir("vilano-project-");
  mkdirSync(join(dir, "src"));
  writeFileSync(join(dir, "src", "agent.ts"), agent);
  writeFileSync(join(dir, "vilano.manifest.json"), JSON.stringify(buildManifest(scanDefinitions(dir)), null, 2));
  return dir;
}

describe("project snapshots", () => {
  test("a snapshot is sealed read-only and named by its content", () => {
    const project = makeProject();
    const home = tempDir("vilano-home-");
    const first = createSnapshot(project, join(home, "snapshots"), "agent");
    expect(createSnapshot(project, join(home, "snapshots"), "agent")).toEqual(first);
    expect(statSync(join(first.dir, "src", "agent.ts")).mode & 0o777).toBe(0o444);
    expect(statSync(first.dir).mode & 0o777).toBe(0o555);
    writeFileSync(join(project, "src", "agent.ts"), `${AGENT}\n// changed\n`);
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
    const rt = await createRuntime({ definitions: [...loaded.workflows, ...loaded.services], logLevel: "silent" });
    const run = await rt.start("reviewCoordinator", { repoId: "repo_123", note: "Ship 0.1" });
    expect(await run.result()).toEqual({
      reviewerRunId: "svc:reviewer:repo_123",
      status: { repoId: "repo_123", noteCount: 1, notes: ["Ship 0.1"] },
    });
    await rt.close();
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
    const exportsList = 'its exports: helper, reviewCoordinator (workflow "reviewCoordinator"), reviewer (service "reviewer")';
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
