/**
 * The README's examples of children, relationships, supervision, pubsub, singletons and turn
 * attempts: each region of examples/primitives.ts must appear verbatim in the README, and runs here.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createRuntime, type Runtime } from "../../src/embedded/index.ts";
import { installSdkModule } from "../../src/project/index.ts";
import { createLogger } from "../../src/shared/index.ts";
import { writeProject } from "../helpers/project.ts";

const ROOT = join(import.meta.dir, "..", "..");
const EXAMPLES = readFileSync(join(ROOT, "examples", "primitives.ts"), "utf8");
const README = readFileSync(join(ROOT, "README.md"), "utf8");
const project = writeProject({ "src/primitives.ts": EXAMPLES });
const opened: Runtime[] = [];
afterAll(async () => {
  for (const rt of opened) await rt.close();
});

function regions(text: string): Map<string, string> {
  const found = new Map<string, string>();
  for (const match of text.matchAll(/\/\/ #region (\w+)\n([\s\S]*?)\/\/ #endregion/g)) found.set(match[1]!, match[2]!.trimEnd());
  return found;
}

async function open() {
  installSdkModule();
  const flows = await import(join(project, "src", "primitives.ts"));
  const rt = await createRuntime({ definitions: Object.values(flows), logger: createLogger("silent") });
  opened.push(rt);
  return { rt, flows: flows as Record<string, never> };
}

describe("README examples", () => {
  test("each example region is in the README as written", () => {
    const found = regions(EXAMPLES);
    expect([...found.keys()]).toEqual(["spawn", "links", "supervise", "pubsub", "attempts"]);
    for (const [name, code] of found) expect(README.includes(code), `README lacks the "${name}" example`).toBe(true);
  });

  test("spawn: a keyed fan-out", async () => {
    const { rt } = await open();
    const out = (await (await rt.start("crawl", { urls: ["https://a.example/x", "https://b.example/y"] })).result({ timeout: "10s" })) as { bytes: number; children: string[] };
    expect(out.bytes).toBe(3_800);
    expect(out.children).toHaveLength(2);
  });

  test("links: trapped exits and a monitor", async () => {
    const { rt } = await open();
    expect(await (await rt.start("watchdog")).result({ timeout: "10s" })).toEqual(["link failed", "monitor completed"]);
  });

  test("supervise: members restarted until they complete", async () => {
    const { rt } = await open();
    expect(await (await rt.start("jobRunner", { jobs: ["a", "b"] })).result({ timeout: "10s" })).toEqual({
      done: [
        { job: "a", attempt: 3 },
        { job: "b", attempt: 3 },
      ],
      restarts: [2, 2],
    });
  });

  test("pubsub and lookupSingleton", async () => {
    const { rt, flows } = await open();
    const board = (await rt.connect(flows.dashboard as never, { team: "core" } as never)) as unknown as { ask: { follow(): Promise<string> } };
    expect(await board.ask.follow()).toBe("following");
    expect(await (await rt.start("release", { version: "1.4.2" })).result({ timeout: "10s" })).toEqual({ enqueued: 1, seen: ["1.4.2"] });
  });

  test("turnAttempt and reject reasons", async () => {
    const { rt } = await open();
    expect(await (await rt.start("notify", { to: "ana@example.com" })).result({ timeout: "10s" })).toEqual({ sent: "ana@example.com", attempt: 2 });
    expect(await (await rt.start("notify", { to: "nobody" })).result({ timeout: "10s" })).toEqual({ failed: "invalid_recipient" });
  });
});
