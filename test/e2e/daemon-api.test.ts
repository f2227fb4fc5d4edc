import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { networkInterfaces } from "node:os";
import { join } from "node:path";
import { signalProcess } from "../../src/shared/index.ts";
import { runCli } from "../helpers/binary.ts";
import { tempDir } from "../helpers/temp-dir.ts";
import { freePort } from "../helpers/daemon.ts";

const home = tempDir("vilano-home-");
const port = freePort();
const cli = (...args: string[]) => runCli(args, { home, env: { VILANO_PORT: String(port) } });
let token = "";
let pid: number | undefined;
const base = `http://127.0.0.1:${port}`;

beforeAll(() => {
  const started = cli("daemon", "start", "--json");
  expect(started.exitCode).toBe(0);
  pid = JSON.parse(started.stdout).daemon.pid;
  token = readFileSync(join(home, "token"), "utf8").trim();
}, 60_000);

afterAll(() => {
  if (pid !== undefined) signalProcess(pid, "SIGTERM");
});

describe("the daemon's control API over HTTP", () => {
  test("it listens on 127.0.0.1 only", async () => {
    const others = Object.values(networkInterfaces())
      .flat()
      .filter((a) => a && a.family === "IPv4" && !a.internal)
      .map((a) => a!.address);
    for (const address of others) {
      const reached = await fetch(`http://${address}:${port}/health`, { signal: AbortSignal.timeout(1_000) }).then(
        () => true,
        () => false,
      );
      expect(`${address}: ${reached}`).toBe(`${address}: false`);
    }
    expect((await fetch(`${base}/health`)).status).toBe(200);
  }, 60_000);

  test("401 without a token or with a wrong one; 403 for a foreign Host; 413 over the limit; 400 with the issues", async () => {
    expect((await fetch(`${base}/v1/status`)).status).toBe(401);
    expect((await fetch(`${base}/v1/status`, { headers: { "x-vilano-token": "wrong" } })).status).toBe(401);
    expect((await fetch(`${base}/v1/status`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    const foreign = await fetch(`${base}/v1/status`, { headers: { "x-vilano-token": token, host: "evil.example" } });
    expect(foreign.status).toBe(403);
    const big = await fetch(`${base}/v1/runs`, {
      method: "POST",
      headers: { "x-vilano-token": token, "content-type": "application/json" },
      body: JSON.stringify({ target: "a/b", input: "x".repeat(2 * 1024 * 1024) }),
    });
    expect(big.status).toBe(413);
    const invalid = await fetch(`${base}/v1/runs`, {
      method: "POST",
      headers: { "x-vilano-token": token, "content-type": "application/json" },
      body: JSON.stringify({ target: 42 }),
    });
    expect(invalid.status).toBe(400);
    const body = (await invalid.json()) as { error: { details: { issues: { path: string }[] } } };
    expect(body.error.details.issues.map((i) => i.path)).toEqual(["target"]);
  }, 60_000);

  test("a script using createClient() starts a run and awaits its result", () => {
    const project = join(tempDir(), "agent");
    expect(cli("init", project, "--starter").exitCode).toBe(0);
    expect(cli("project", "add", project, "--name", "agent").exitCode).toBe(0);
    const script = join(tempDir(), "script.ts");
    const client = join(import.meta.dir, "..", "..", "src", "client", "index.ts");
    writeFileSync(
      script,
      `import { createClient } from ${JSON.stringify(client)};
const vl = createClient();
const run = await vl.runs.start("agent/reviewCoordinator", { repoId: "scripted", note: "from a script" });
console.log(JSON.stringify(await vl.runs.result(run.id, { timeout: "10s" })));
`,
    );
    const proc = Bun.spawnSync([process.execPath, script], { env: { ...process.env, VILANO_HOME: home }, stdout: "pipe", stderr: "pipe" });
    expect(proc.stderr.toString()).toBe("");
    expect(JSON.parse(proc.stdout.toString())).toMatchObject({ status: { repoId: "scripted", noteCount: 1, notes: ["from a script"] } });
  }, 60_000);

  test("a manifest path that escapes the project, or an export of the wrong kind, is refused and nothing changes", () => {
    const project = tempDir();
    mkdirSync(join(project, "src"));
    writeFileSync(join(project, "src", "a.ts"), `import { workflow } from "@vilano/runtime";\nexport const a = workflow({ name: "a", run: async () => 1 });\n`);
    const manifest = (file: string, kind = "workflow") =>
      writeFileSync(
        join(project, "vilano.manifest.json"),
        JSON.stringify({ manifestVersion: 1, definitions: { [kind === "workflow" ? "workflows" : "services"]: [{ kind, name: "a", exportName: "a", file }] } }),
      );
    manifest("../outside.ts");
    const escaped = cli("project", "add", project, "--name", "escape", "--json");
    expect(escaped.exitCode).toBe(2);
    expect(JSON.parse(escaped.stdout).error.message).toContain('manifest path "../outside.ts" goes up with ..');
    manifest("src/a.ts", "service");
    const wrongKind = cli("project", "add", project, "--name", "wrongkind", "--json");
    expect(wrongKind.exitCode).toBe(2);
    expect(JSON.parse(wrongKind.stdout).error.message).toBe('src/a.ts export "a" is not a service() definition; its exports: a (workflow "a")');
    const listed = JSON.parse(cli("project", "list", "--json").stdout).projects.map((p: { name: string }) => p.name);
    expect(listed).not.toContain("escape");
    expect(listed).not.toContain("wrongkind");
    const unknownRun = cli("run", "inspect", "run_missing", "--json");
    expect(unknownRun.exitCode).toBe(3);
  }, 60_000);
});

describe("run logs", () => {
  test("--follow prints ctx.log lines as they are recorded and ends with the run", () => {
    const project = tempDir();
    mkdirSync(join(project, "src"));
    writeFileSync(
      join(project, "src", "chatty.ts"),
      `import { workflow } from "@vilano/runtime";
export const chatty = workflow({ name: "chatty", run: async (_: void, ctx) => {
  ctx.log("first", { n: 1 });
  await ctx.sleep("300ms");
  ctx.log("second");
  return "done";
} });
`,
    );
    expect(cli("init", project).exitCode).toBe(0);
    expect(cli("project", "add", project, "--name", "chatty").exitCode).toBe(0);
    const run = JSON.parse(cli("run", "start", "chatty/chatty", "--json").stdout).run;
    const logs = cli("run", "logs", run.id, "--follow");
    expect(logs.exitCode).toBe(0);
    const lines = logs.stdout.trim().split("\n").map((line) => line.replace(/^\S+\s+/, ""));
    expect(lines).toEqual(['first  {"n":1}', "second"]);
  }, 60_000);
});
