import { describe, expect, test } from "bun:test";
import { service, workflow } from "../../src/sdk/index.ts";
import { thrownBy } from "../helpers/thrown-by.ts";

const base = { name: "svc", key: (input: { id: string }) => input.id };

describe("definition options", () => {
  test("an option workflow() does not know is an error naming it", () => {
    const error = thrownBy(() => workflow({ name: "flow", run: async () => 1, retries: 3 } as never));
    expect(error).toMatchObject({ code: "validation_failed" });
    expect(String((error as Error).message)).toBe('workflow "flow": unknown option "retries" (known: name, run)');
  });

  test("an option service() does not know is an error naming it, also inside mailbox and discovery", () => {
    expect((thrownBy(() => service({ ...base, overload: "reject_new" } as never)) as Error).message).toContain('service "svc": unknown option "overload"');
    expect((thrownBy(() => service({ ...base, mailbox: { maxQueued: 2, policy: "drop" } } as never)) as Error).message).toContain(
      'service "svc" mailbox: unknown option "policy"',
    );
    expect((thrownBy(() => service({ ...base, discovery: { role: "x" } } as never)) as Error).message).toContain('service "svc" discovery: unknown option "role"');
    expect((thrownBy(() => service({ ...base, mailbox: { maxQueued: 2, overload: "drop_oldest" } } as never)) as Error).message).toContain(
      'mailbox.overload must be "reject_new"',
    );
    expect((thrownBy(() => service({ ...base, discovery: { singletonRole: "" } })) as Error).message).toContain("discovery.singletonRole must be a non-empty string");
  });

  test("the options of the specification are accepted", () => {
    const defined = service({ ...base, mailbox: { maxQueued: 5, overload: "reject_new" }, discovery: { singletonRole: "reviewer" }, retry: { retries: 1 } });
    expect(defined.discovery).toEqual({ singletonRole: "reviewer" });
  });
});
