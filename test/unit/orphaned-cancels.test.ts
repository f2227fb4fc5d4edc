/**
 * The listener that drops Bun's orphaned rejections for cancelled PostgreSQL statements drops only
 * those: any other unhandled rejection still ends the process, and a program's own listeners still
 * decide. Each case runs in a process of its own (bun test hears unhandled rejections first).
 */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { isOrphanedCancel } from "../../src/store/postgres/orphaned-cancels.ts";

const MODULE = join(import.meta.dir, "..", "..", "src", "store", "postgres", "orphaned-cancels.ts");

async function runScript(body: string): Promise<{ code: number; out: string }> {
  const script = `import { dropOrphanedCancels } from ${JSON.stringify(MODULE)};\n${body}`;
  const child = Bun.spawn(["bun", "-e", script], { stdout: "pipe", stderr: "pipe" });
  const [out, code] = await Promise.all([new Response(child.stdout).text(), child.exited]);
  return { code, out: out.trim() };
}

const CANCEL = `Object.assign(new Error("canceling statement due to user request"), { name: "PostgresError", errno: "57014" })`;

describe("dropOrphanedCancels", () => {
  test("knows a cancelled statement's rejection from others", () => {
    expect(isOrphanedCancel(Object.assign(new Error("x"), { name: "PostgresError", errno: "57014" }))).toBe(true);
    expect(isOrphanedCancel(Object.assign(new Error("x"), { name: "PostgresError", errno: "23505" }))).toBe(false);
    expect(isOrphanedCancel(new Error("57014"))).toBe(false);
    expect(isOrphanedCancel(undefined)).toBe(false);
  });

  test("while held, a cancelled statement's orphaned rejection leaves the process alive", async () => {
    const { code, out } = await runScript(`dropOrphanedCancels(); Promise.reject(${CANCEL}); setTimeout(() => console.log("alive"), 50);`);
    expect({ code, out }).toEqual({ code: 0, out: "alive" });
  });

  test("any other unhandled rejection still ends the process, held or released", async () => {
    const held = await runScript(`dropOrphanedCancels(); Promise.reject(new Error("a bug")); setTimeout(() => console.log("alive"), 200);`);
    expect(held.code).not.toBe(0);
    expect(held.out).toBe("");
    const released = await runScript(`dropOrphanedCancels()(); Promise.reject(${CANCEL}); setTimeout(() => console.log("alive"), 200);`);
    expect(released.code).not.toBe(0);
  });

  test("a program's own listener still decides", async () => {
    const { code, out } = await runScript(
      `process.on("unhandledRejection", (r) => console.log("mine: " + r.message)); dropOrphanedCancels(); Promise.reject(new Error("a bug")); setTimeout(() => console.log("alive"), 50);`,
    );
    expect({ code, out }).toEqual({ code: 0, out: "mine: a bug\nalive" });
  });
});
