/**
 * An example workflow run end to end through the embedded runtime (README command 1): steps with
 * a retry, a durable sleep and a signal, then its result and its event timeline.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createRuntime } from "../src/embedded/index.ts";
import { workflow } from "../src/sdk/index.ts";

export const fulfilOrder = workflow({
  name: "fulfilOrder",
  run: async (input: { orderId: string; items: string[] }, ctx) => {
    ctx.log("fulfilling order", { orderId: input.orderId });
    const reserved = await ctx.step("reserve-stock", () => input.items.map((item) => `${item}:reserved`));
    // The payment provider fails on the first attempt; the retry policy handles it durably.
    const payment = await ctx.step(
      "charge-card",
      (step) => {
        if (step.attempt === 1) throw new Error("payment provider timed out");
        return { paymentId: `pay_${input.orderId}`, attempt: step.attempt };
      },
      { retry: { retries: 3, backoff: { kind: "exponential", initial: "20ms", max: "200ms", jitter: "half" } } },
    );
    await ctx.sleep("50ms");
    const approval = await ctx.waitForSignal<{ by: string }>("approved", { timeout: "10s" });
    return { orderId: input.orderId, reserved, payment, approvedBy: approval.by };
  },
});

const dir = mkdtempSync(join(tmpdir(), "vilano-example-"));
try {
  const rt = await createRuntime({ database: join(dir, "example.sqlite"), definitions: [fulfilOrder], logLevel: "warn" });
  const run = await rt.start(fulfilOrder, { orderId: "o-1001", items: ["book", "lamp"] });
  await rt.signal(run.id, "approved", { by: "ana" }); // buffered until the workflow waits for it
  const output = await run.result({ timeout: "30s" });
  console.log(`run ${run.id} completed:\n${JSON.stringify(output, null, 2)}\n\ntimeline:`);
  const { events } = await rt.inspect(run.id);
  const started = events[0]!.at;
  for (const { seq, type, at, ...facts } of events) {
    const shown = Object.entries(facts)
      .filter(([key]) => key !== "wakeAt")
      .map(([key, value]) => `${key}=${typeof value === "string" ? value : JSON.stringify(value)}`)
      .join(" ");
    console.log(`${String(seq).padStart(3)}  +${String(at - started).padStart(4)}ms  ${type.padEnd(20)} ${shown}`);
  }
  await rt.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
