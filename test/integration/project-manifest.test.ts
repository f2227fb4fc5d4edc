import { describe, expect, test } from "bun:test";
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildManifest, confinePath, parseManifest, scanDefinitions } from "../../src/project/index.ts";
import { thrownBy } from "../helpers/thrown-by.ts";
import { tempDir } from "../helpers/temp-dir.ts";

const valid = {
  manifestVersion: 1,
  definitions: {
    workflows: [{ kind: "workflow", name: "reviewCoordinator", exportName: "reviewCoordinator", file: "src/agent.ts" }],
    services: [{ kind: "service", name: "reviewer", exportName: "reviewer", file: "src/agent.ts" }],
  },
};

describe("parseManifest", () => {
  test("accepts a valid manifest and fills in the defaults", () => {
    const manifest = parseManifest(JSON.stringify(valid));
    expect(manifest.definitions.workflows[0] as unknown).toEqual({ ...valid.definitions.workflows[0]!, runtimeKind: "javascript", sourceLanguage: "typescript" });
  });

  test("names every invalid field with its path", () => {
    const bad = structuredClone(valid) as { definitions: { workflows: Record<string, unknown>[] } };
    bad.definitions.workflows[0]!.name = "has space";
    bad.definitions.workflows[0]!.exportName = "1nope";
    const error = thrownBy(() => parseManifest(JSON.stringify(bad))) as { code: string; message: string };
    expect(error.code).toBe("validation_failed");
    expect(error.message).toContain("definitions.workflows[0].name:");
    expect(error.message).toContain("definitions.workflows[0].exportName: must be a JavaScript identifier");
  });

  test("refuses malformed JSON, a wrong version and a definition declared twice", () => {
    expect(() => parseManifest("{ nope")).toThrow("vilano.manifest.json is not valid JSON");
    expect(() => parseManifest(JSON.stringify({ ...valid, manifestVersion: 2 }))).toThrow("manifestVersion:");
    const twice = { manifestVersion: 1, definitions: { workflows: [valid.definitions.workflows[0], valid.definitions.workflows[0]] } };
    expect(() => parseManifest(JSON.stringify(twice))).toThrow('declares workflow "reviewCoordinator" twice');
  });
});

describe("confinePath", () => {
  test("resolves a path inside the project", () => {
    const dir = tempDir();
    mkdirSync(join(dir, "src"));
    writeFileSync(join(dir, "src", "a.ts"), "");
    expect(confinePath(dir, "src/a.ts").endsWith(join("src", "a.ts"))).toBe(true);
  });

  test("refuses absolute paths, .. and symlinks that point outside", () => {
    const dir = tempDir();
    const outside = tempDir();
    writeFileSync(join(outside, "secret.ts"), "");
    symlinkSync(join(outside, "secret.ts"), join(dir, "link.ts"));
    expect(() => confinePath(dir, "/etc/passwd")).toThrow('manifest path "/etc/passwd" is absolute');
    expect(() => confinePath(dir, "../x.ts")).toThrow("goes up with ..");
    expect(() => confinePath(dir, "src/../../x.ts")).toThrow("goes up with ..");
    expect(() => confinePath(dir, "link.ts")).toThrow("resolves (through a symlink) outside the project");
    expect(() => confinePath(dir, "missing.ts")).toThrow('manifest path "missing.ts" does not exist in the project');
  });
});

describe("scanDefinitions", () => {
  test("finds exported workflows and services with their names, skipping tests and node_modules", () => {
    const dir = tempDir();
    mkdirSync(join(dir, "src"));
    mkdirSync(join(dir, "node_modules", "lib"), { recursive: true });
    writeFileSync(
      join(dir, "src", "agent.ts"),
      `import { service, workflow } from "@vilano/runtime";
export const reviewer = service({
  name: "reviewer",
  key: (i: { repoId: string }) => i.repoId,
});
export const reviewCoordinator = workflow({ name: 'reviewCoordinator', run: async () => 1 });
const notExported = workflow({ name: "hidden", run: async () => 1 });
`,
    );
    writeFileSync(join(dir, "src", "agent.test.ts"), `export const t = workflow({ name: "inTest", run: async () => 1 });`);
    writeFileSync(join(dir, "node_modules", "lib", "x.ts"), `export const x = workflow({ name: "dep", run: async () => 1 });`);
    const found = scanDefinitions(dir);
    expect(found).toEqual([
      { kind: "service", name: "reviewer", exportName: "reviewer", file: "src/agent.ts" },
      { kind: "workflow", name: "reviewCoordinator", exportName: "reviewCoordinator", file: "src/agent.ts" },
    ]);
    const manifest = buildManifest(found);
    expect(parseManifest(JSON.stringify(manifest))).toEqual(manifest);
    expect(manifest.definitions.services.map((d) => d.name)).toEqual(["reviewer"]);
  });

  test("a definition in a comment is not one; a file that is not code is named", () => {
    const dir = tempDir();
    mkdirSync(join(dir, "src"));
    writeFileSync(
      join(dir, "src", "flows.ts"),
      `import { workflow } from "@vilano/runtime";
// export const old = workflow({ name: "old", run: async () => 1 });
/* export const older = workflow({ name: "older", run: async () => 1 }); */
export const live = workflow({
  name: "live", // the one that counts
  run: async (input: { n: number }) => input.n,
});
`,
    );
    expect(scanDefinitions(dir).map((d) => d.name)).toEqual(["live"]);
    writeFileSync(join(dir, "src", "broken.ts"), "export const x = workflow({ name: ");
    expect(() => scanDefinitions(dir)).toThrow("src/broken.ts could not be read as code");
  });
});
