/**
 * A working directory per activation in the embedded runtime, in this process and through worker
 * processes: runs never see each other's relative files, each directory is gone once its activation
 * ends unless kept, `workspace` names one shared folder instead, and closing removes the rest.
 */
import { describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, readFileSync, realpathSync, rmSync, symlinkSync } from "node:fs";
import { dirname, join } from "node:path";
import type { RuntimeOptions } from "../../src/embedded/index.ts";
import { writeProject } from "../helpers/project.ts";
import { runtimeModes } from "../helpers/runtime-modes.ts";
import { eventually, tempDir } from "../helpers/temp-dir.ts";

const FLOWS = readFileSync(join(import.meta.dir, "..", "fixtures", "workspace-flows.ts"), "utf8");
const project = writeProject({ "src/flows.ts": FLOWS, "node_modules/greeting/index.js": 'module.exports = "hi";\n' });
const modes = runtimeModes(project);

describe.each(modes)("workspaces (%s)", (mode, make) => {
  async function open(options: RuntimeOptions = {}) {
    const rt = await make(options);
    const run = async (workflow: string, input?: unknown) => (await rt.start(workflow, input as never)).result({ timeout: "20s" }) as Promise<any>;
    return { rt, run };
  }

  test("concurrent runs writing the same relative file each read their own; a later run starts fresh; each directory is removed when its activation ends", async () => {
    const { run } = await open();
    const sync = tempDir("vilano-sync-");
    const [a, b] = await Promise.all([run("collide", { tag: "a", sync, peers: ["a", "b"] }), run("collide", { tag: "b", sync, peers: ["a", "b"] })]);
    expect([a.content, b.content]).toEqual(["a", "b"]);
    expect(a.dir).not.toBe(b.dir);
    expect(a.workspace).toBe(a.dir);
    const [first, second] = [await run("leave"), await run("leave")];
    expect([first.seen, second.seen]).toEqual(["fresh", "fresh"]);
    // Workers link the code's node_modules in; code in this process has no snapshot to link.
    expect(first.link).toBe(mode === "workers" ? "link" : "none");
    for (const r of [a, b, first, second]) await eventually(() => (existsSync(r.dir) ? undefined : true), 10_000, `${r.dir} to be removed`);
  });

  test("a run's next activation (after a sleep) works in another fresh directory", async () => {
    const { run } = await open();
    const { firstDir, seen, dir } = await run("twoActivations");
    expect(seen).toBe("fresh");
    expect(dir).not.toBe(firstDir);
  });

  test("keepWorkspaces keeps each activation's directory until the runtime closes", async () => {
    const { rt, run } = await open({ keepWorkspaces: true });
    const [first, second] = [await run("leave"), await run("leave")];
    expect([first.seen, second.seen]).toEqual(["fresh", "fresh"]);
    for (const r of [first, second]) expect(readFileSync(join(r.dir, "leftover.txt"), "utf8")).toBe("left\n");
    await rt.close();
    expect(existsSync(first.dir)).toBe(true);
    // Kept means kept: this test removes what it asked to keep.
    rmSync(dirname(dirname(dirname(first.dir))), { recursive: true, force: true });
  });

  test("`workspace` names one folder every activation shares", async () => {
    const workspace = tempDir("vilano-workspace-");
    const { run } = await open({ workspace });
    const [first, second] = [await run("leave"), await run("leave")];
    expect([first.seen, second.seen]).toEqual(["fresh", "seen"]);
    expect(first.dir).toBe(workspace);
    expect(readFileSync(join(workspace, "leftover.txt"), "utf8")).toBe("left\n");
  });

  test("a `workspace` reached through a link in a folder everyone may write to (1777, like /tmp) is used, also by a root process", async () => {
    // As root, links on the way were refused unless root's alone; that walk is for `[worker] user` folders only.
    const open1777 = tempDir("vilano-open-");
    chmodSync(open1777, 0o1777);
    mkdirSync(join(open1777, "real"));
    symlinkSync(join(open1777, "real"), join(open1777, "link"));
    const { run } = await open({ workspace: join(open1777, "link", "ws") });
    const first = await run("leave");
    expect(first.seen).toBe("fresh");
    expect(first.dir).toBe(join(realpathSync(join(open1777, "real")), "ws"));
    expect(readFileSync(join(open1777, "real", "ws", "leftover.txt"), "utf8")).toBe("left\n");
  }, 30_000);

  test("closing the runtime removes the folder its workspaces were made in", async () => {
    const { rt, run } = await open();
    const { workspace } = await run("where");
    const root = dirname(dirname(dirname(workspace)));
    expect(existsSync(root)).toBe(true);
    await rt.close();
    expect(existsSync(root)).toBe(false);
  });
});
