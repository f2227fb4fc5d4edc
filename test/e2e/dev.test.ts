import { afterAll, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { signalChild } from "../../src/shared/index.ts";
import { BINARY, runCli } from "../helpers/binary.ts";
import { readLines } from "../helpers/lines.ts";
import { tempDir } from "../helpers/temp-dir.ts";
import { freePort } from "../helpers/daemon.ts";

const home = tempDir("vilano-home-");
const port = String(freePort());
const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home, VILANO_HOME: home, VILANO_PORT: port, NO_COLOR: "1", TZ: "UTC" };
let dev: ReturnType<typeof Bun.spawn> | undefined;

afterAll(() => {
  if (dev) signalChild(dev, "SIGKILL");
});

test("vilano dev registers the project, syncs it when a file changes, and new runs use the new code", async () => {
  const project = join(tempDir(), "dev-agent");
  expect(runCli(["init", project, "--starter"], { home, env: { VILANO_PORT: port } }).exitCode).toBe(0);
  dev = Bun.spawn([BINARY, "dev", project], { env, stdout: "pipe", stderr: "pipe" });
  const output: string[] = [];
  const seen = (text: string) => output.some((line) => line.includes(text));
  void readLines(dev.stderr as ReadableStream<Uint8Array>, (line) => output.push(line));
  void readLines(dev.stdout as ReadableStream<Uint8Array>, (line) => output.push(line));
  const waitFor = async (text: string, count = 1) => {
    const deadline = Date.now() + 10_000;
    while (output.filter((line) => line.includes(text)).length < count) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for "${text}"; output so far:\n${output.join("\n")}`);
      await Bun.sleep(20);
    }
  };
  await waitFor("watching");
  expect(seen("project dev-agent registered")).toBe(true);

  const agent = join(project, "src", "agent.ts");
  writeFileSync(agent, readFileSync(agent, "utf8").replace("noteCount: state.notes.length", "noteCount: state.notes.length * 10"));
  await waitFor("project dev-agent synced");

  const run = runCli(["run", "start", "dev-agent/reviewCoordinator", "--input", '{"repoId":"d","note":"x"}', "--wait", "--json"], { home, env: { VILANO_PORT: port } });
  expect(JSON.parse(run.stdout).run.output.status.noteCount).toBe(10);
  signalChild(dev, "SIGTERM");
  expect(await dev.exited).toBe(0);
}, 30_000);
