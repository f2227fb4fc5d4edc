import { expect, test } from "bun:test";
import { createRuntime } from "../helpers/stores.ts";
import { service } from "../../src/sdk/index.ts";

test("a service with an invalid retry policy is refused up front or fails its turns; it never sticks in active", async () => {
  let svc;
  try {
    svc = service({
      name: "badretry",
      key: (i: { id: string }) => i.id,
      retry: { retries: -1 },
      onAsk: { ping: async (_p: void) => ({ reply: "pong" }) },
    });
  } catch {
    return; // refused at definition time: fine
  }
  await using rt = await createRuntime({ definitions: [svc], logLevel: "silent" });
  const ref = await rt.connect(svc, { id: "x" });
  // Either a reply or a failure is fine; hanging with the instance "active" forever is not.
  const outcome = await ref.ask.ping(undefined, { timeout: "1s" }).then(
    (v) => ({ ok: v }),
    (e: { code?: string }) => ({ err: e.code }),
  );
  expect(outcome).not.toEqual({ err: "ask_timeout" });
  expect(await ref.status()).not.toBe("active");
});
