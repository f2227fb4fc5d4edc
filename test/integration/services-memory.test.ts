import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { tempDatabase } from "../helpers/temp-dir.ts";

describe("services: idle instances hold no memory", () => {
  test("10,000 idle instances grow resident memory by less than 50 MB", async () => {
    // Measured in a fresh process: this one's resident memory carries every earlier test file's.
    const child = Bun.spawn([process.execPath, join(import.meta.dir, "services-memory-child.ts"), tempDatabase()], { stdout: "pipe", stderr: "inherit" });
    const [out, code] = await Promise.all([new Response(child.stdout).text(), child.exited]);
    expect(code).toBe(0);
    const { grownMb, last } = JSON.parse(out.trim().split("\n").at(-1)!) as { grownMb: number; last: unknown };
    console.log(`10,000 idle instances: resident memory grew by ${grownMb.toFixed(1)} MB`);
    expect(last).toMatchObject({ user: "u9999", visits: 1 });
    expect(grownMb).toBeLessThan(50);
  }, 60_000);
});
