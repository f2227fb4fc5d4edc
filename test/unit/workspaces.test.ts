import { describe, expect, test } from "bun:test";
import { chmodSync, existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { activationDirName, codeWorkspace, ensureWorkspacesBase, prepareWorkspace, pruneEmptyWorkspaces, removeWorkspace, sweepLeftoverWorkspaces } from "../../src/core/workspaces.ts";
import { tempDir } from "../helpers/temp-dir.ts";

describe("workspaces", () => {
  test("an activation's directory name is safe for any run id, readable, and apart for ids that read alike", () => {
    expect(activationDirName("run_01abc", 3)).toMatch(/^run_01abc-[0-9a-f]{8}\.3$/);
    const service = activationDirName("svc:proj/reviewer:../../etc", 1);
    expect(service).not.toContain("/");
    expect(service.startsWith("svc_proj_reviewer_..")).toBe(true);
    expect(activationDirName("a/b", 1)).not.toBe(activationDirName("a:b", 1));
    expect(activationDirName("x".repeat(500), 7).length).toBeLessThan(100);
  });

  test("per activation: a directory under the project's runs, removed after; shared: the project's one folder, kept", () => {
    const perActivation = codeWorkspace("/w", "proj", { mode: "activation", keep: false });
    expect(perActivation.activation("r1", 2)).toMatch(/^\/w\/proj\/runs\/r1-[0-9a-f]{8}\.2$/);
    expect(perActivation.activation("r1", 3)).not.toBe(perActivation.activation("r1", 2));
    expect(perActivation).toMatchObject({ shared: "/w/proj/shared", removeAfter: true, managed: true });
    const kept = codeWorkspace("/w", "proj", { mode: "activation", keep: true });
    expect(kept.removeAfter).toBe(false);
    expect(kept.activation("r1", 2)).toMatch(/^\/w\/proj\/kept\/r1-[0-9a-f]{8}\.2$/);
    const shared = codeWorkspace("/w", "proj", { mode: "shared", keep: false });
    expect(shared.activation("r1", 2)).toBe("/w/proj/shared");
    expect(shared.removeAfter).toBe(false);
  });

  // With a `[worker] user` a root process walks the folders without following links; both ways make the same.
  test.each([false, true])("preparing links the code's node_modules in; removing deletes the directory, never what the link points to (below a worker user: %p)", async (belowWorkerUser) => {
    const code = tempDir("vilano-code-");
    mkdirSync(join(code, "node_modules", "pkg"), { recursive: true });
    writeFileSync(join(code, "node_modules", "pkg", "index.js"), "module.exports = 1;\n");
    const dir = join(tempDir("vilano-ws-"), "runs", "a.1");
    prepareWorkspace(dir, code, belowWorkerUser);
    prepareWorkspace(dir, code, belowWorkerUser); // twice is harmless
    expect(lstatSync(join(dir, "node_modules")).isSymbolicLink()).toBe(true);
    expect(readlinkSync(join(dir, "node_modules"))).toBe(join(code, "node_modules"));
    expect(lstatSync(dir).mode & 0o777).toBe(0o700);
    // What code leaves behind, read-only folders included, goes; the project's packages stay.
    mkdirSync(join(dir, "locked", "deep"), { recursive: true });
    writeFileSync(join(dir, "locked", "deep", "f"), "x");
    chmodSync(join(dir, "locked", "deep"), 0o500);
    chmodSync(join(dir, "locked"), 0o500);
    await removeWorkspace(dir);
    expect(existsSync(dir)).toBe(false);
    expect(existsSync(join(code, "node_modules", "pkg", "index.js"))).toBe(true);
  });

  test.each([false, true])("a shared directory's link follows the snapshot in use; a node_modules folder of the code's own is left alone (below a worker user: %p)", (belowWorkerUser) => {
    const [older, newer] = [tempDir("vilano-code-"), tempDir("vilano-code-")];
    for (const code of [older, newer]) mkdirSync(join(code, "node_modules"));
    const shared = join(tempDir("vilano-ws-"), "shared");
    prepareWorkspace(shared, older, belowWorkerUser);
    prepareWorkspace(shared, newer, belowWorkerUser);
    expect(readlinkSync(join(shared, "node_modules"))).toBe(join(newer, "node_modules"));
    const own = tempDir("vilano-ws-");
    mkdirSync(join(own, "node_modules"));
    prepareWorkspace(own, newer, belowWorkerUser);
    expect(lstatSync(join(own, "node_modules")).isDirectory()).toBe(true);
  });

  test("closing prunes empty folders only; the default base must be the user's alone", async () => {
    const root = join(tempDir("vilano-ws-"), "root");
    mkdirSync(join(root, "empty", "runs"), { recursive: true });
    mkdirSync(join(root, "kept", "runs", "a.1"), { recursive: true });
    writeFileSync(join(root, "kept", "runs", "a.1", "f"), "x");
    await pruneEmptyWorkspaces(root);
    expect(existsSync(join(root, "empty"))).toBe(false);
    expect(existsSync(join(root, "kept", "runs", "a.1", "f"))).toBe(true);

    const open = join(tempDir("vilano-base-"), "vilano-x");
    mkdirSync(open, { mode: 0o777 });
    chmodSync(open, 0o777);
    expect(() => ensureWorkspacesBase(open, true)).toThrow("is not a folder of this user's alone");
    expect(ensureWorkspacesBase(open, false)).toBe(open);
  });

  test("a starting daemon sweeps what its killed predecessor left under runs/, and keeps kept/ and shared/", async () => {
    const root = join(tempDir("vilano-ws-"), "root");
    for (const dir of ["p/runs/r-1.3/deep", "p/kept/r-2.4", "p/shared", "q/runs/s-1.1"]) mkdirSync(join(root, dir), { recursive: true });
    writeFileSync(join(root, "p", "kept", "r-2.4", "f"), "x");
    writeFileSync(join(root, "p", "shared", "g"), "y");
    await sweepLeftoverWorkspaces(root);
    expect(existsSync(join(root, "p", "runs"))).toBe(false);
    expect(existsSync(join(root, "q", "runs"))).toBe(false);
    expect(readFileSync(join(root, "p", "kept", "r-2.4", "f"), "utf8")).toBe("x");
    expect(readFileSync(join(root, "p", "shared", "g"), "utf8")).toBe("y");
    await sweepLeftoverWorkspaces(join(root, "missing")); // no root yet: nothing to do
  });
});
