/**
 * The CLI a user of the SDK expects, through the built executable: big inputs from a file or
 * standard input, unknown flags refused, `--service-key`, `service ensure`, `workflow list
 * <project>`, a closed pipe, recent turns in `service inspect`, the real run id in `explain`.
 */
import { expect, test } from "bun:test";
import { cpSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BINARY } from "../helpers/binary.ts";
import { addApprovalProject, testDaemon } from "../helpers/daemon.ts";
import { eventually, tempDir } from "../helpers/temp-dir.ts";

function starter(): string {
  const dir = tempDir("vilano-project-");
  cpSync(join(import.meta.dir, "..", "..", "starters", "agent"), dir, { recursive: true });
  return dir;
}

test("the CLI: inputs from @file and stdin, strict flags, --service-key, service ensure, workflow list <project>, recent turns", () => {
  const d = testDaemon();
  expect(d.cli("project", "add", starter(), "--name", "agent").exitCode).toBe(0);
  expect(d.cli("project", "add", starter(), "--name", "other").exitCode).toBe(0);

  // 200 KB of input: more than a command line can hold.
  const note = "n".repeat(200_000);
  const file = join(tempDir(), "input.json");
  writeFileSync(file, JSON.stringify({ repoId: "big", note }));
  const fromFile = d.json<{ run: { status: string; output: { status: { notes: string[] } } } }>("run", "start", "agent/reviewCoordinator", "--input", `@${file}`, "--wait");
  expect(fromFile.run.output.status.notes).toEqual([note]);
  const fromStdin = d.cliWithStdin(JSON.stringify({ repoId: "piped", note: "from stdin" }), "run", "start", "agent/reviewCoordinator", "--input", "-", "--wait", "--json");
  expect(JSON.parse(fromStdin.stdout).run.output.status.notes).toEqual(["from stdin"]);
  const missing = d.cli("run", "start", "agent/reviewCoordinator", "--input", "@/nonexistent/input.json");
  expect(missing.exitCode).toBe(3);
  expect(missing.stderr).toContain("--input @/nonexistent/input.json: cannot read /nonexistent/input.json");

  // Flags a command does not know are errors, not silently ignored.
  const bogus = d.cli("workflow", "list", "--bogus-flag");
  expect(bogus.exitCode).toBe(2);
  expect(bogus.stderr).toContain("unknown option --bogus-flag for `vilano workflow list`");
  const misspelt = d.cli("service", "ask", "agent/reviewer", "status", "--key-jsn", "{}", "--json");
  expect(misspelt.exitCode).toBe(2);
  expect(JSON.parse(misspelt.stdout).error.message).toContain("unknown option --key-jsn for `vilano service ask`");

  // service ensure creates from a key input, then finds; --service-key is --key.
  const ensured = d.json<{ instance: { id: string }; created: boolean }>("service", "ensure", "agent/reviewer", "--key-json", '{"repoId":"fresh"}');
  expect(ensured).toMatchObject({ created: true, instance: { id: "svc:agent/reviewer:fresh" } });
  expect(d.json<{ created: boolean }>("service", "ensure", "agent/reviewer", "--key-json", '{"repoId":"fresh"}').created).toBe(false);
  expect(d.cli("service", "send", "agent/reviewer", "hint", "--service-key", "fresh", "--input", '{"note":"via alias"}').exitCode).toBe(0);
  expect(d.json<{ reply: { notes: string[] } }>("service", "ask", "agent/reviewer", "status", "--service-key", "fresh").reply.notes).toEqual(["via alias"]);
  const inspected = d.cli("service", "inspect", "agent/reviewer", "--key", "fresh").stdout;
  expect(inspected).toContain("recent turns");
  expect(inspected).toMatch(/#\d+ send hint \(done\)/);
  expect(inspected).toMatch(/#\d+ ask status \(done\) {2}reply \{"repoId":"fresh"/);

  // workflow list <project> narrows to that project.
  expect(d.json<{ workflows: string[] }>("workflow", "list", "other").workflows).toEqual(["other/reviewCoordinator"]);
}, 60_000);

test("a closed pipe ends the command quietly", async () => {
  const home = tempDir("vilano-home-");
  mkdirSync(join(home, "logs"), { recursive: true });
  writeFileSync(join(home, "logs", "daemon.log"), Array.from({ length: 200_000 }, (_, i) => `line ${i} of a long log`).join("\n"));
  const proc = Bun.spawn(["sh", "-c", `"${BINARY}" daemon logs --lines 200000 | head -1`], {
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home, VILANO_HOME: home, NO_COLOR: "1" },
    stdout: "pipe",
    stderr: "pipe",
  });
  expect(await proc.exited).toBe(0);
  expect(await new Response(proc.stdout).text()).toBe("line 0 of a long log\n");
  expect(await new Response(proc.stderr).text()).toBe("");
});

test("explain names the real run id in the command it suggests", async () => {
  const d = testDaemon();
  addApprovalProject(d);
  const { run } = d.json<{ run: { id: string } }>("run", "start", "w/approval");
  await eventually(() => (d.json<{ run: { status: string } }>("run", "inspect", run.id).run.status === "waiting" ? true : undefined), 10_000, "the run to wait");
  expect(d.cli("run", "explain", run.id).stdout).toContain(`send it with \`vilano signal send ${run.id} approved\``);
}, 30_000);
