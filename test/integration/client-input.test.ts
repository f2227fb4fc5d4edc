/** The typed client refuses ids and targets that would send a request to another route. */
import { describe, expect, test } from "bun:test";
import { createClient } from "../../src/client/index.ts";

// Nothing listens here: every call below must be refused before any request is made.
const client = createClient({ baseUrl: "http://127.0.0.1:9", token: "t", timeout: "1s" });
const refused = (work: () => Promise<unknown>) => work().then(() => null, (e: { code?: string; message?: string }) => e);

describe("the client's own checks", () => {
  test("an empty run id or project name is refused, not sent to the list route", async () => {
    for (const call of [() => client.runs.inspect(""), () => client.runs.cancel(""), () => client.projects.get(""), () => client.runs.result("")]) {
      const error = await refused(call);
      expect(error).toMatchObject({ code: "validation_failed" });
      expect(error?.message).toContain("must be a non-empty string");
    }
  });

  test("a service target must be <project>/<service>", async () => {
    for (const target of ["agent", "a/b/c", "/x", "a/"]) {
      const error = await refused(() => client.services.call(target, { kind: "send", handler: "h", key: "k" }));
      expect(error).toMatchObject({ code: "validation_failed", message: `service ${JSON.stringify(target)} must be written <project>/<service>` });
    }
  });
});
