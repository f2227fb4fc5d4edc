/**
 * A snapshot made on one machine and stored in the database is made again on another from its
 * files: the same content and name, sealed, node_modules linked to the project folder's; stored
 * files that do not hash to the snapshot's name, or that would land outside it, are refused.
 */
import { describe, expect, test } from "bun:test";
import { existsSync, lstatSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createSnapshot, hashProject, restoreSnapshot, snapshotFiles } from "../../src/project/index.ts";
import { tempDir } from "../helpers/temp-dir.ts";

function project(): string {
  const dir = tempDir();
  mkdirSync(join(dir, "src"), { recursive: true });
  mkdirSync(join(dir, "node_modules", "dep"), { recursive: true });
  writeFileSync(join(dir, "vilano.manifest.json"), '{"version":1}');
  writeFileSync(join(dir, "src", "agent.ts"), "export const x = 1;\n");
  writeFileSync(join(dir, "node_modules", "dep", "index.js"), "module.exports = 1;\n");
  return dir;
}

describe("snapshots made again from stored files", () => {
  test("the same files and name, sealed, with node_modules linked to the project's", () => {
    const dir = project();
    const made = createSnapshot(dir, join(tempDir(), "snapshots"), "p");
    const stored = snapshotFiles(made.dir);
    expect(stored.map((f) => f.path).sort()).toEqual(["src/agent.ts", "vilano.manifest.json"]);
    const elsewhere = join(tempDir(), "snapshots");
    const again = restoreSnapshot(stored, elsewhere, "p", made.id, dir);
    expect(again).toBe(join(elsewhere, "p", made.id));
    expect(hashProject(again)).toBe(made.id);
    expect(readFileSync(join(again, "src", "agent.ts"), "utf8")).toBe("export const x = 1;\n");
    expect(lstatSync(join(again, "node_modules")).isSymbolicLink()).toBe(true);
    expect(statSync(join(again, "src", "agent.ts")).mode & 0o777).toBe(0o444);
    // Without the project folder on this machine, there is no node_modules to link.
    const bare = restoreSnapshot(stored, join(tempDir(), "snapshots"), "p", made.id, null);
    expect(existsSync(join(bare, "node_modules"))).toBe(false);
  });

  test("files that do not hash to the name, or that would land outside the folder, are refused and leave nothing", () => {
    const made = createSnapshot(project(), join(tempDir(), "snapshots"), "p");
    const stored = snapshotFiles(made.dir);
    const elsewhere = join(tempDir(), "snapshots");
    const tampered = stored.map((f) => (f.path === "src/agent.ts" ? { ...f, content: new TextEncoder().encode("export const x = 2;\n") } : f));
    expect(() => restoreSnapshot(tampered, elsewhere, "p", made.id, null)).toThrow("does not match its content");
    expect(existsSync(join(elsewhere, "p", made.id))).toBe(false);
    expect(() => restoreSnapshot([...stored, { path: "../escape.ts", content: new Uint8Array() }], elsewhere, "p", made.id, null)).toThrow("outside its folder");
    expect(existsSync(join(elsewhere, "p", "escape.ts"))).toBe(false);
  });
});
