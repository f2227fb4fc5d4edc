/**
 * Values and thrown errors that user code hands the worker must not hurt the daemon: values over
 * the cap are refused in the worker before they cross (the daemon's resident memory stays bounded),
 * a message that cannot be sent fails alone, and a thrown value that cannot be read is still a
 * recorded, retried attempt. Real worker processes of the built executable.
 */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileLines } from "../helpers/lines.ts";
import { writeProject } from "../helpers/project.ts";
import { testDaemon } from "../helpers/daemon.ts";
import { eventually } from "../helpers/temp-dir.ts";

const FLOWS = readFileSync(join(import.meta.dir, "..", "fixtures", "value-flows.ts"), "utf8");
const MIB = 1024 * 1024;

interface RunView {
  status: string;
  output?: unknown;
  error?: { code?: string; message?: string; cause?: Record<string, unknown>; details?: Record<string, unknown> };
}

function daemonWithFlows() {
  const d = testDaemon({ VILANO_WORKERS: "1" });
  expect(d.cli("project", "add", writeProject({ "src/flows.ts": FLOWS }), "--name", "flows").exitCode).toBe(0);
  const start = (workflow: string, input?: unknown) =>
    d.json<{ run: { id: string } }>("run", "start", `flows/${workflow}`, ...(input === undefined ? [] : ["--input", JSON.stringify(input)])).run.id;
  const events = (id: string) => d.json<{ events: { type: string; [k: string]: unknown }[] }>("run", "replay", id).events;
  const attempts = (file: string) => fileLines(join(d.workspaces, "flows", "shared", file));
  return { ...d, start, events, attempts };
}

/** The daemon's resident memory in bytes, from /proc. */
function residentBytes(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, "utf8").split("\n").find((l) => l.startsWith("VmRSS:"));
  if (!line) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(line.replace(/\D+/g, "")) * 1024;
}

/** Waits for the run to end, sampling the daemon's resident memory meanwhile; the largest sample with the run. */
async function endedWatchingMemory(d: ReturnType<typeof daemonWithFlows>, id: string, pid: number): Promise<{ run: RunView; maxRss: number }> {
  let maxRss = residentBytes(pid);
  const run = await eventually(
    () => {
      maxRss = Math.max(maxRss, residentBytes(pid));
      const view = d.json<{ run: RunView }>("run", "inspect", id).run;
      return ["completed", "failed", "cancelled"].includes(view.status) ? view : undefined;
    },
    120_000,
    `run ${id} to end`,
  );
  return { run: d.json<{ run: RunView }>("run", "result", id).run, maxRss: Math.max(maxRss, residentBytes(pid)) };
}

/** A warm daemon (a run went through its worker) and its resident memory then. */
function warmBaseline(d: ReturnType<typeof daemonWithFlows>): { pid: number; baseline: number } {
  const pid = d.pid();
  const warm = d.json<{ run: RunView }>("run", "result", d.start("bigResult", { mib: 0 }), "--wait", "--timeout", "30s").run;
  expect(warm.status).toBe("completed");
  return { pid, baseline: residentBytes(pid) };
}

describe("values crossing from a worker (built executable)", () => {
  test("a step returning 300 MiB fails its step with value_too_large in the worker; the daemon's memory stays bounded", async () => {
    const d = daemonWithFlows();
    const { pid, baseline } = warmBaseline(d);
    const id = d.start("bigResult", { mib: 300 });
    const { run, maxRss } = await endedWatchingMemory(d, id, pid);
    // The step fails (the code could catch it), with the error the daemon's own check gives.
    expect(run.status).toBe("failed");
    expect(run.error).toMatchObject({ code: "step_failed" });
    expect(run.error?.message).toContain('the result of step "big" (op step:big:0) is 314572802 bytes, more than the limit of 4194304 bytes');
    // The step's attempt is recorded with that error, and not retried: the same code gives the same value.
    const failed = d.events(id).filter((e) => e.type === "step_attempt_failed");
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ decision: "non_retryable" });
    const op = d.json<{ ops: { opKey: string; status: string; attempt: number; error: unknown }[] }>("run", "inspect", id).ops[0];
    expect(op).toMatchObject({ opKey: "step:big:0", status: "failed", attempt: 1 });
    expect(JSON.stringify(op?.error)).toContain("value_too_large");
    // Before: the whole value crossed and was parsed in the daemon (several hundred MB more).
    expect(maxRss - baseline).toBeLessThan(200 * MIB);
    expect((await fetch(`http://127.0.0.1:${d.port}/health`)).ok).toBe(true);
  }, 180_000);

  test("a 100 MiB ctx.log line ends the run with value_too_large in the worker; the daemon's memory stays bounded", async () => {
    const d = daemonWithFlows();
    const { pid, baseline } = warmBaseline(d);
    const id = d.start("bigLog", { mib: 100 });
    const { run, maxRss } = await endedWatchingMemory(d, id, pid);
    expect(run.status).toBe("failed");
    expect(run.error?.code).toBe("value_too_large");
    expect(run.error?.message).toContain("the log value");
    expect(maxRss - baseline).toBeLessThan(200 * MIB);
  }, 180_000);

  test("a workflow output of 300 MiB ends the run with value_too_large in the worker; the daemon's memory stays bounded", async () => {
    const d = daemonWithFlows();
    const { pid, baseline } = warmBaseline(d);
    const id = d.start("bigOutput", { mib: 300 });
    const { run, maxRss } = await endedWatchingMemory(d, id, pid);
    expect(run.status).toBe("failed");
    expect(run.error?.code).toBe("value_too_large");
    expect(run.error?.message).toContain('the output of workflow "bigOutput"');
    expect(maxRss - baseline).toBeLessThan(200 * MIB);
  }, 180_000);

  test("log fields go as the data they were when recorded: a getter that throws on a later read costs neither the line nor its flush", () => {
    const d = daemonWithFlows();
    const id = d.start("logThenSleep");
    const run = d.json<{ run: RunView }>("run", "result", id, "--wait", "--timeout", "60s").run;
    expect(run).toMatchObject({ status: "completed", output: "slept" });
    // The log op (recorded from the first serialisation) is in history too.
    const history = d.json<{ ops: { kind: string; status: string }[] }>("run", "inspect", id).ops;
    expect(history.map((op) => op.kind)).toEqual(["log", "sleep"]);
  }, 90_000);
});

describe("a message the worker cannot send (built executable)", () => {
  const UNSENDABLE = readFileSync(join(import.meta.dir, "..", "fixtures", "unsendable-flows.ts"), "utf8");
  function daemonWithUnsendable() {
    const d = testDaemon({ VILANO_WORKERS: "1" });
    expect(d.cli("project", "add", writeProject({ "src/flows.ts": UNSENDABLE }), "--name", "flows").exitCode).toBe(0);
    const start = (workflow: string) => d.json<{ run: { id: string } }>("run", "start", `flows/${workflow}`).run.id;
    return { ...d, start, result: (id: string) => d.json<{ run: RunView }>("run", "result", id, "--wait", "--timeout", "60s").run };
  }

  test("a report that cannot be sent fails its step's attempt, which is recorded and retried", () => {
    const d = daemonWithUnsendable();
    const id = d.start("unsendableReport");
    expect(d.result(id)).toMatchObject({ status: "completed", output: "sent the second time" });
    const failed = d.json<{ events: { type: string; decision?: string; error?: { message?: string } }[] }>("run", "replay", id).events.filter((e) => e.type === "step_attempt_failed");
    expect(failed).toHaveLength(1);
    expect(failed[0]?.decision).toBe("scheduled");
    expect(JSON.stringify(failed[0])).toContain("the report of op step:unsendable:0 (step_completed) could not be sent to the daemon: Error: this message was made unsendable");
  }, 90_000);

  test("an activation's result that cannot be sent goes as the failure it caused; the run ends instead of waiting", () => {
    const d = daemonWithUnsendable();
    const run = d.result(d.start("unsendableOutput"));
    expect(run.status).toBe("failed");
    expect(run.error?.message).toContain("the result of the activation (completed) could not be sent to the daemon: Error: this message was made unsendable");
  }, 90_000);

  test("a post that cannot be sent ends its worker, and the run goes again from history on another", () => {
    const d = daemonWithUnsendable();
    const id = d.start("unsendablePost");
    expect(d.result(id)).toMatchObject({ status: "completed", output: "logged" });
    const firstWorker = Number(readFileSync(join(d.workspaces, "flows", "shared", "post-unsent.pid"), "utf8"));
    expect(firstWorker).toBeGreaterThan(1);
    expect(d.json<{ workers: { pids?: number[] } }>("daemon", "status").workers.pids ?? []).not.toContain(firstWorker);
    expect(d.json<{ ops: { kind: string }[] }>("run", "inspect", id).ops.map((op) => op.kind)).toEqual(["log", "sleep"]);
    expect(d.json<{ events: { type: string }[] }>("run", "replay", id).events.map((e) => e.type).slice(0, 3)).toEqual(["run_started", "worker_crashed", "log"]);
  }, 90_000);
});

describe("names and failure fields from user code are bounded too (built executable)", () => {
  test("a 20 MiB step name is a validation error naming the limit, raised in the worker; nothing of it is stored", () => {
    const d = daemonWithFlows();
    const id = d.start("hugeStepName", { mib: 20 });
    const run = d.json<{ run: RunView }>("run", "result", id, "--wait", "--timeout", "60s").run;
    expect(run.status).toBe("failed");
    expect(run.error?.code).toBe("validation_failed");
    expect(run.error?.message).toContain("the name given to ctx.step is 20971520 characters long, more than the limit of 1024 characters");
    // Before: the name was stored whole (an 84 MB inspect).
    expect(d.cli("run", "inspect", id, "--json").stdout.length).toBeLessThan(64 * 1024);
  }, 90_000);

  test("an Error thrown with a 20 MiB name is recorded with its name cut to a label", () => {
    const d = daemonWithFlows();
    const id = d.start("hugeErrorName", { mib: 20 });
    const run = d.json<{ run: RunView }>("run", "result", id, "--wait", "--timeout", "60s").run;
    expect(run).toMatchObject({ status: "failed", error: { code: "step_failed", message: 'step "named" failed: small message' } });
    const inspected = d.cli("run", "inspect", id, "--json").stdout;
    // Before: 20 MB, stored once per place the failure is kept.
    expect(inspected.length).toBeLessThan(64 * 1024);
    const op = (JSON.parse(inspected) as { ops: { error: { name: string } }[] }).ops[0];
    expect(op?.error.name).toEndWith(`… [${20 * MIB - 256} more characters not kept]`);
  }, 90_000);

  test("ctx.exec capture.maxBytes over the value cap is refused, naming the limit; within it the exec runs", () => {
    const d = daemonWithFlows();
    const over = d.json<{ run: RunView }>("run", "result", d.start("bigCapture", { maxBytes: 8 * MIB }), "--wait", "--timeout", "60s").run;
    expect(over.status).toBe("failed");
    expect(over.error?.code).toBe("validation_failed");
    expect(over.error?.message).toContain("capture.maxBytes is 8388608 bytes, more than the limit of 4194304 bytes (VILANO_MAX_VALUE_BYTES)");
    const within = d.json<{ run: RunView }>("run", "result", d.start("bigCapture", { maxBytes: 4 * MIB }), "--wait", "--timeout", "60s").run;
    expect(within).toMatchObject({ status: "completed", output: "hello\n" });
  }, 90_000);
});

describe("thrown values that cannot be read (built executable)", () => {
  test("a step throwing a Proxy whose every read throws records each attempt and fails the run only after its retries", () => {
    const d = daemonWithFlows();
    const id = d.start("throwsProxy");
    const run = d.json<{ run: RunView }>("run", "result", id, "--wait", "--timeout", "60s").run;
    expect(run.status).toBe("failed");
    expect(JSON.stringify(run.error)).toContain("a thrown value that could not be read");
    expect(d.attempts("proxy-attempts.log")).toEqual(["1", "2", "3"]);
    const failed = d.events(id).filter((e) => e.type === "step_attempt_failed");
    expect(failed.map((e) => e.decision)).toEqual(["scheduled", "scheduled", "attempts_exhausted"]);
  }, 90_000);

  test("a step throwing an Error whose message getter throws is retried, and its third attempt's result stands", () => {
    const d = daemonWithFlows();
    const id = d.start("throwsUnreadable");
    const run = d.json<{ run: RunView }>("run", "result", id, "--wait", "--timeout", "60s").run;
    expect(run).toMatchObject({ status: "completed", output: "third time" });
    expect(d.attempts("unreadable-attempts.log")).toEqual(["1", "2", "3"]);
    expect(d.events(id).filter((e) => e.type === "step_attempt_failed")).toHaveLength(2);
  }, 90_000);
});
