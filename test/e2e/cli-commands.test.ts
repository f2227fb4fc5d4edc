/**
 * The CLI as the reference README writes it, through the built executable: unknown and missing
 * subcommands in every group, `--service-key` in help and on the line, `service ensure` with both a
 * key and a key input, `service ask|send --key-json`, and `--json` results of runs that failed or
 * were cancelled (`"ok": false` with the run and its error, the exit code from the code table).
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { cpSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runCli } from "../helpers/binary.ts";
import { testDaemon, type TestDaemon } from "../helpers/daemon.ts";
import { eventually, tempDir } from "../helpers/temp-dir.ts";

/** The exit code of `validation_failed` in the code table. */
const VALIDATION_EXIT = 2;

describe("unknown and missing subcommands", () => {
  const groups: Record<string, string[]> = {
    "": ["daemon", "project", "run", "service", "signal", "workflow", "worker", "version"],
    run: ["start", "list", "result", "inspect", "replay", "explain", "cancel", "logs"],
    project: ["add", "sync", "list", "inspect", "remove"],
    service: ["ensure", "list", "inspect", "send", "ask", "signal", "stop"],
    daemon: ["run", "start", "status", "stop", "logs"],
    signal: ["send"],
    workflow: ["list"],
    worker: ["start"],
  };

  for (const [group, commands] of Object.entries(groups)) {
    const path = group === "" ? [] : [group];
    const name = ["vilano", ...path].join(" ");

    test(`\`${name} history\` says unknown command and lists the commands of \`${name}\``, () => {
      const result = runCli([...path, "history"]);
      expect(result.exitCode).toBe(VALIDATION_EXIT);
      expect(result.stderr).toContain(`unknown command "history" for \`${name}\``);
      for (const command of commands) expect(result.stderr).toMatch(new RegExp(`its commands: [^)]*\\b${command}\\b`));
      expect(result.stdout).toBe("");
    });

    test(`\`${name} history --json\` answers with the JSON error envelope, not an unknown --json`, () => {
      const result = runCli([...path, "history", "--json"]);
      expect(result.exitCode).toBe(VALIDATION_EXIT);
      const { ok, error } = JSON.parse(result.stdout) as { ok: boolean; error: { code: string; message: string } };
      expect(ok).toBe(false);
      expect(error.code).toBe("validation_failed");
      expect(error.message).toContain(`unknown command "history" for \`${name}\``);
      for (const command of commands) expect(error.message).toContain(command);
    });
  }

  test("a group without a command says which commands it has", () => {
    const result = runCli(["service"]);
    expect(result.exitCode).toBe(VALIDATION_EXIT);
    expect(result.stderr).toContain("`vilano service` needs a command");
    expect(result.stderr).toMatch(/its commands: [^)]*\bensure\b/);
  });

  test("a known command still runs", () => {
    const result = runCli(["version", "--json"]);
    expect(result.exitCode).toBe(0);
    expect(JSON.parse(result.stdout).ok).toBe(true);
  });
});

describe("--service-key", () => {
  for (const command of [["service", "ask"], ["service", "send"], ["service", "signal"], ["service", "inspect"], ["service", "stop"], ["service", "ensure"]]) {
    test(`\`vilano ${command.join(" ")} --help\` spells it with two dashes`, () => {
      const help = runCli([...command, "--help"]);
      expect(help.exitCode).toBe(0);
      expect(help.stdout).toContain("--service-key");
      expect(help.stdout).not.toMatch(/(^|[\s,])-service-key/m);
    });
  }

  test("one dash is refused with the spelling that works, not as a bundle of short options", () => {
    const result = runCli(["service", "ask", "a/b", "status", "-service-key", "k"]);
    expect(result.exitCode).toBe(VALIDATION_EXIT);
    expect(result.stderr).toContain("unknown option -service-key for `vilano service ask`");
    expect(result.stderr).toContain("write --service-key");
    expect(result.stderr).not.toContain("unknown option -s ");
  });
});

function starter(): string {
  const dir = tempDir("vilano-project-");
  cpSync(join(import.meta.dir, "..", "..", "starters", "agent"), dir, { recursive: true });
  return dir;
}

/** A project whose workflows fail, and wait for a signal (to be cancelled). */
function endings(d: TestDaemon): string {
  const project = tempDir("vilano-project-");
  mkdirSync(join(project, "src"));
  writeFileSync(
    join(project, "src", "endings.ts"),
    [
      `import { nonRetryable, workflow } from "@vilano/runtime";`,
      `export const breaks = workflow({ name: "breaks", run: async () => { throw nonRetryable(new Error("the job broke")); } });`,
      `export const waits = workflow({ name: "waits", run: async (_i: void, ctx) => ctx.waitForSignal("go") });`,
      "",
    ].join("\n"),
  );
  expect(d.cli("init", project).exitCode).toBe(0);
  return project;
}

describe("against a daemon", () => {
  let d: TestDaemon;
  beforeAll(() => {
    d = testDaemon();
    const added = d.cli("project", "add", starter(), "--name", "agent");
    expect(added.exitCode).toBe(0);
    expect(d.cli("project", "add", endings(d), "--name", "ends").exitCode).toBe(0);
  }, 60_000);

  const reply = (...args: string[]) => d.json<{ ok: boolean; reply: { repoId: string; notes: string[] } }>(...args);

  test("service ensure takes --service-key with --key-json: the key input creates, the key must be the one it gives", () => {
    const ensured = d.json<{ ok: boolean; instance: { id: string }; created: boolean }>(
      "service", "ensure", "agent/reviewer", "--service-key", "both", "--key-json", '{"repoId":"both"}',
    );
    expect(ensured).toMatchObject({ ok: true, created: true, instance: { id: "svc:agent/reviewer:both" } });
    expect(d.json<{ created: boolean }>("service", "ensure", "agent/reviewer", "--key", "both", "--key-json", '{"repoId":"both"}').created).toBe(false);

    const mismatch = d.cli("service", "ensure", "agent/reviewer", "--service-key", "other", "--key-json", '{"repoId":"elsewhere"}');
    expect(mismatch.exitCode).toBe(VALIDATION_EXIT);
    expect(mismatch.stderr).toContain(`{"repoId":"elsewhere"} gives the key "elsewhere"`);
    expect(mismatch.stderr).toContain(`"other"`);
    // Refused before anything was made: neither key has an instance.
    expect(d.cli("service", "inspect", "agent/reviewer", "--key", "elsewhere").exitCode).not.toBe(0);
    expect(d.cli("service", "inspect", "agent/reviewer", "--key", "other").exitCode).not.toBe(0);

    const keyOnly = d.cli("service", "ensure", "agent/reviewer", "--service-key", "lonely");
    expect(keyOnly.exitCode).toBe(VALIDATION_EXIT);
    expect(keyOnly.stderr).toContain("--key-json");
  }, 60_000);

  test("service send|ask --key-json address the instance by its key input, and create it", () => {
    const sent = d.json<{ ok: boolean; serviceRunId: string }>("service", "send", "agent/reviewer", "hint", "--key-json", '{"repoId":"by-input"}', "--input", '{"note":"first"}');
    expect(sent).toEqual({ ok: true, serviceRunId: "svc:agent/reviewer:by-input" });
    expect(reply("service", "ask", "agent/reviewer", "status", "--key-json", '{"repoId":"by-input"}').reply).toEqual({ repoId: "by-input", noteCount: 1, notes: ["first"] } as never);
    // The same instance by its key, and by the key and key input together.
    expect(reply("service", "ask", "agent/reviewer", "status", "--service-key", "by-input").reply.notes).toEqual(["first"]);
    expect(reply("service", "ask", "agent/reviewer", "status", "--key", "by-input", "--key-json", '{"repoId":"by-input"}').reply.notes).toEqual(["first"]);
    // A key input from standard input, as for --input.
    const piped = d.cliWithStdin('{"repoId":"piped-key"}', "service", "ask", "agent/reviewer", "status", "--key-json", "-", "--json");
    expect(JSON.parse(piped.stdout).reply).toMatchObject({ repoId: "piped-key", notes: [] });

    const mismatch = d.cli("service", "ask", "agent/reviewer", "status", "--key", "wrong", "--key-json", '{"repoId":"by-input"}', "--json");
    expect(mismatch.exitCode).toBe(VALIDATION_EXIT);
    expect(JSON.parse(mismatch.stdout).error.message).toContain(`gives the key "by-input"`);

    const neither = d.cli("service", "ask", "agent/reviewer", "status");
    expect(neither.exitCode).toBe(VALIDATION_EXIT);
    expect(neither.stderr).toContain("--key");
    expect(neither.stderr).toContain("--key-json");

    const twoSpellings = d.cli("service", "ask", "agent/reviewer", "status", "--key", "a", "--service-key", "b");
    expect(twoSpellings.exitCode).toBe(VALIDATION_EXIT);
    expect(twoSpellings.stderr).toContain("--service-key");
  }, 60_000);

  test("run start --wait --json of a run that fails prints ok false with the run and its error, exit 6", () => {
    const result = d.cli("run", "start", "ends/breaks", "--wait", "--json");
    expect(result.exitCode).toBe(6);
    const body = JSON.parse(result.stdout) as { ok: boolean; run: { id: string; status: string; error: { message: string } }; error: { code: string; message: string } };
    expect(body.ok).toBe(false);
    expect(body.run.status).toBe("failed");
    expect(body.run.error.message).toContain("the job broke");
    expect(body.error.code).toBe("run_failed");
    expect(body.error.message).toContain("the job broke");

    // run result --json of the same run says the same.
    const later = d.cli("run", "result", body.run.id, "--json");
    expect(later.exitCode).toBe(6);
    expect(JSON.parse(later.stdout)).toEqual(body);
    const waited = d.cli("run", "result", body.run.id, "--wait", "--json");
    expect(waited.exitCode).toBe(6);
    expect(JSON.parse(waited.stdout)).toEqual(body);
  }, 60_000);

  test("a cancelled run's --json result is ok false with status cancelled, exit 8", async () => {
    const { run } = d.json<{ run: { id: string } }>("run", "start", "ends/waits", "--id", "to-cancel");
    await eventually(() => (d.json<{ run: { status: string } }>("run", "inspect", run.id).run.status === "waiting" ? true : undefined), 20_000, "the run to wait");
    expect(d.cli("run", "cancel", run.id, "--reason", "not needed").exitCode).toBe(0);

    const result = d.cli("run", "result", run.id, "--json");
    expect(result.exitCode).toBe(8);
    const body = JSON.parse(result.stdout) as { ok: boolean; run: { id: string; status: string; error: { code: string } }; error: { code: string } };
    expect(body).toMatchObject({ ok: false, run: { id: run.id, status: "cancelled", error: { code: "cancelled" } }, error: { code: "cancelled" } });
    // Starting the same id again with --wait finds the cancelled run.
    const again = d.cli("run", "start", "ends/waits", "--id", "to-cancel", "--wait", "--json");
    expect(again.exitCode).toBe(8);
    expect(JSON.parse(again.stdout)).toEqual(body);
  }, 60_000);

  test("a completed run's --json result is still ok true", () => {
    const result = d.json<{ ok: boolean; run: { status: string } }>("run", "start", "agent/reviewCoordinator", "--input", '{"repoId":"fine","note":"n"}', "--wait");
    expect(result).toMatchObject({ ok: true, run: { status: "completed" } });
  }, 60_000);
});
