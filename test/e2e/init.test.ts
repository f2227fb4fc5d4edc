import { describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createRuntime } from "../../src/embedded/index.ts";
import { createSnapshot, loadDefinitions, parseManifest } from "../../src/project/index.ts";
import { runCli } from "../helpers/binary.ts";
import { STARTER_INPUT, STARTER_OUTPUT } from "../helpers/reviewer.ts";
import { tempDir } from "../helpers/temp-dir.ts";

const TSC = join(import.meta.dir, "..", "..", "node_modules", ".bin", "tsc");

function typeCheck(project: string): { exitCode: number; output: string } {
  const proc = Bun.spawnSync([TSC, "-p", project], { stdout: "pipe", stderr: "pipe" });
  return { exitCode: proc.exitCode ?? -1, output: `${proc.stdout}${proc.stderr}` };
}

describe("vilano init (built executable)", () => {
  test("--starter writes the starter agent, which type-checks offline with the written SDK types", () => {
    const project = join(tempDir(), "my-agent");
    const result = runCli(["init", project, "--starter", "--json"]);
    expect(result.exitCode).toBe(0);
    const out = JSON.parse(result.stdout);
    expect(out).toMatchObject({ ok: true, starter: true, path: project });
    expect(out.definitions.map((d: { kind: string; name: string }) => `${d.kind}:${d.name}`).sort()).toEqual([
      "service:reviewer",
      "workflow:reviewCoordinator",
    ]);
    expect(existsSync(join(project, "node_modules"))).toBe(false);
    expect(existsSync(join(project, ".vilano", "types", "sdk", "index.d.ts"))).toBe(true);
    expect(typeCheck(project)).toEqual({ exitCode: 0, output: "" });

    // The types are real: a wrong use of the SDK is caught.
    writeFileSync(join(project, "src", "wrong.ts"), `import { reviewer } from "./agent.ts";\nexport const n: number = reviewer.name;\n`);
    const checked = typeCheck(project);
    expect(checked.exitCode).not.toBe(0);
    expect(checked.output).toContain("Type 'string' is not assignable to type 'number'");
  });

  test("the starter it writes loads from a snapshot without node_modules and runs the starter walk", async () => {
    const project = join(tempDir(), "my-agent");
    expect(runCli(["init", project, "--starter"]).exitCode).toBe(0);
    const snapshot = createSnapshot(project, join(tempDir(), "snapshots"), "my-agent");
    const manifest = parseManifest(readFileSync(join(snapshot.dir, "vilano.manifest.json"), "utf8"));
    const loaded = await loadDefinitions(snapshot.dir, manifest);
    await using rt = await createRuntime({ definitions: [...loaded.workflows, ...loaded.services], logLevel: "silent" });
    const run = await rt.start("reviewCoordinator", STARTER_INPUT);
    expect(await run.result()).toEqual(STARTER_OUTPUT);
  });

  test("--starter refuses a folder that is not empty and changes nothing", () => {
    const project = tempDir();
    writeFileSync(join(project, "mine.txt"), "keep me");
    const result = runCli(["init", project, "--starter"]);
    expect(result.exitCode).toBe(4);
    expect(result.stderr).toContain("is not empty; choose a new folder for the starter, or pass --force");
    expect(readdirSync(project)).toEqual(["mine.txt"]);
  });

  test("on an existing project it writes a manifest from the exported definitions", () => {
    const project = tempDir();
    mkdirSync(join(project, "src"));
    writeFileSync(
      join(project, "src", "flows.ts"),
      `import { workflow } from "@vilano/runtime";\nexport const nightly = workflow({ name: "nightly", run: async () => "ok" });\n`,
    );
    writeFileSync(join(project, "tsconfig.json"), "{}\n");
    const result = runCli(["init", project, "--json"]);
    expect(result.exitCode).toBe(0);
    const out = JSON.parse(result.stdout);
    expect(out.tsconfigHint).toContain('add "paths": { "@vilano/runtime"');
    expect(readFileSync(join(project, "tsconfig.json"), "utf8")).toBe("{}\n");
    const manifest = parseManifest(readFileSync(join(project, "vilano.manifest.json"), "utf8"));
    expect(manifest.definitions.workflows.map((w) => [w.name, w.exportName, w.file])).toEqual([["nightly", "nightly", "src/flows.ts"]]);

    const again = runCli(["init", project, "--json"]);
    expect(again.exitCode).toBe(4);
    expect(JSON.parse(again.stdout)).toEqual({
      ok: false,
      error: { code: "conflict", message: `${join(project, "vilano.manifest.json")} already exists; pass --force to regenerate it` },
    });
  });

  test("a project without definitions is a clear error", () => {
    const project = tempDir();
    writeFileSync(join(project, "index.ts"), "export const x = 1;\n");
    const result = runCli(["init", project]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain("no definitions found");
    expect(existsSync(join(project, "vilano.manifest.json"))).toBe(false);
  });
});
