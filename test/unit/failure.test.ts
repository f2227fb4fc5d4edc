import { describe, expect, test } from "bun:test";
import { NonRetryableError, VilanoError } from "../../src/shared/errors.ts";
import { boundFailure, toFailureBody } from "../../src/shared/failure.ts";

class PaymentError extends Error {
  override name = "PaymentError";
  code = "card_declined";
}

describe("toFailureBody", () => {
  test("turns an Error into a retryable application failure", () => {
    expect(toFailureBody(new Error("boom"))).toEqual({ name: "Error", message: "boom", family: "application", retryable: true });
  });

  test("keeps the name of an Error subclass", () => {
    expect(toFailureBody(new TypeError("bad")).name).toBe("TypeError");
  });

  test("keeps a string code", () => {
    expect(toFailureBody(new PaymentError("declined"))).toEqual({
      name: "PaymentError",
      message: "declined",
      code: "card_declined",
      family: "application",
      retryable: true,
    });
  });

  test("ignores a code that is not a string", () => {
    expect(toFailureBody({ message: "x", code: 42 })).not.toHaveProperty("code");
  });

  test("uses the given family for errors that name none", () => {
    expect(toFailureBody(new Error("slow"), "timeout").family).toBe("timeout");
  });

  test("prefers a family the error names", () => {
    expect(toFailureBody({ message: "exit", family: "process_exit" }, "application").family).toBe("process_exit");
  });

  test("ignores an unknown family the error names", () => {
    expect(toFailureBody({ message: "x", family: "network" }, "timeout").family).toBe("timeout");
  });

  test("marks a failure non-retryable when the error says retryable false", () => {
    expect(toFailureBody({ message: "no", retryable: false }).retryable).toBe(false);
  });

  test("treats a retryable value other than false as retryable", () => {
    expect(toFailureBody({ message: "maybe", retryable: 0 }).retryable).toBe(true);
  });

  test("reads a NonRetryableError as non-retryable with its code and details", () => {
    const body = toFailureBody(new NonRetryableError("stop", { code: "bad_input", details: { field: "email" } }));
    expect(body).toEqual({
      name: "NonRetryableError",
      message: "stop",
      code: "bad_input",
      family: "application",
      retryable: false,
      details: { field: "email" },
    });
  });

  test("keeps the code and details of a VilanoError", () => {
    const body = toFailureBody(new VilanoError("validation_failed", "bad", { details: { value: "5x" } }));
    expect(body).toEqual({
      name: "VilanoError",
      message: "bad",
      code: "validation_failed",
      family: "application",
      retryable: true,
      details: { value: "5x" },
    });
  });

  test("keeps the content of a thrown plain object instead of [object Object]", () => {
    const body = toFailureBody({ status: 404, path: "/users/7" });
    expect(body.message).toBe('a non-Error value was thrown: {"status":404,"path":"/users/7"}');
    expect(body.details).toEqual({ status: 404, path: "/users/7" });
    expect(toFailureBody({ blob: "x".repeat(2_000) }).message.length).toBeLessThan(600);
  });

  test("reads a plain object with every field", () => {
    expect(
      toFailureBody({ name: "Custom", message: "m", code: "c", family: "timeout", retryable: false, details: [1, "a"] }),
    ).toEqual({ name: "Custom", message: "m", code: "c", family: "timeout", retryable: false, details: [1, "a"] });
  });

  test("names a plain object without a name Error", () => {
    expect(toFailureBody({ message: "m" }).name).toBe("Error");
  });

  test("names an error with an empty name Error", () => {
    expect(toFailureBody({ name: "", message: "m" }).name).toBe("Error");
  });

  test("shows an object without a string message as JSON, not [object Object]", () => {
    expect(toFailureBody({ code: "x" }).message).toBe('a non-Error value was thrown: {"code":"x"}');
  });

  test("turns a thrown string into its message", () => {
    expect(toFailureBody("it broke")).toEqual({ name: "Error", message: "it broke", family: "application", retryable: true });
  });

  test("turns a thrown number into its message", () => {
    expect(toFailureBody(404).message).toBe("404");
  });

  test("turns thrown null into a failure", () => {
    expect(toFailureBody(null)).toEqual({ name: "Error", message: "null", family: "application", retryable: true });
  });

  test("turns thrown undefined into a failure", () => {
    expect(toFailureBody(undefined).message).toBe("undefined");
  });

  test("turns a thrown object without a prototype into a failure", () => {
    // String() of such an object throws a TypeError; toFailureBody must take anything thrown.
    const thrown = Object.assign(Object.create(null) as object, { code: "odd" });
    const body = toFailureBody(thrown);
    expect(body.family).toBe("application");
    expect(body.code).toBe("odd");
    expect(typeof body.message).toBe("string");
  });

  test("turns a thrown symbol into its description", () => {
    expect(toFailureBody(Symbol("gone")).message).toBe("Symbol(gone)");
  });

  test("uses the given family for thrown primitives", () => {
    expect(toFailureBody("late", "timeout").family).toBe("timeout");
  });

  test("leaves out details the error does not carry", () => {
    expect(toFailureBody(new Error("x"))).not.toHaveProperty("details");
  });

  test("copies details rather than sharing them", () => {
    const details = { nested: { n: 1 } };
    const body = toFailureBody({ message: "x", details });
    expect(body.details).toEqual(details);
    expect(body.details).not.toBe(details);
  });

  test("replaces circular details with a note", () => {
    const details: Record<string, unknown> = {};
    details.self = details;
    expect(toFailureBody({ message: "x", details }).details).toEqual({
      note: "details were not JSON-serialisable and were dropped",
    });
  });

  test("replaces bigint details with a note", () => {
    expect(toFailureBody({ message: "x", details: { n: 1n } }).details).toEqual({
      note: "details were not JSON-serialisable and were dropped",
    });
  });

  test("keeps failures to a size history can carry: long messages cut, huge details dropped with a note", () => {
    const body = toFailureBody({ message: "m".repeat(20_000), details: { blob: "d".repeat(100_000) } });
    expect(body.message).toEndWith("… [11808 more characters not kept]");
    expect(body.details).toEqual({ note: "details of 100011 characters were dropped (more than 65536)" });
  });

  test("replaces function details with a note", () => {
    expect(toFailureBody({ message: "x", details: () => 1 }).details).toEqual({
      note: "details were not JSON-serialisable and were dropped",
    });
  });

  test("produces a body that survives JSON", () => {
    const body = toFailureBody(new PaymentError("declined"));
    expect(JSON.parse(JSON.stringify(body))).toEqual(body);
  });
  test("describes a thrown Proxy whose every trap throws instead of throwing itself", () => {
    const hostile = new Proxy({}, {
      get() {
        throw new Error("no reading me");
      },
      getPrototypeOf() {
        throw new Error("no prototype either");
      },
    });
    const body = toFailureBody(hostile);
    expect(body).toMatchObject({ name: "Error", family: "application", retryable: true });
    expect(body.message).toContain("a thrown value that could not be read");
    expect(body.message).toContain("no reading me");
    expect(JSON.parse(JSON.stringify(body))).toEqual(body);
  });

  test("keeps the readable fields of an Error whose message getter throws", () => {
    const error = new TypeError("hidden");
    Object.defineProperty(error, "message", {
      get() {
        throw new Error("message getter throws");
      },
    });
    const body = toFailureBody(error);
    expect(body.name).toBe("TypeError");
    expect(body.message).toBe("a thrown value that could not be read (reading its message threw: message getter throws)");
  });

  test("survives a getter that throws a value which itself cannot be read", () => {
    const unshowable = new Proxy({}, {
      get() {
        throw unshowable;
      },
    });
    const body = toFailureBody({ get message() { throw unshowable; }, code: "kept" });
    expect(body.code).toBe("kept");
    expect(body.message).toContain("a thrown value that could not be read");
  });

  test("cuts a name, code or reason of megabytes to a label, saying how much was cut", () => {
    const huge = "n".repeat(20 * 1024 * 1024);
    const error = Object.assign(new Error("small"), { name: huge, code: huge, reason: huge });
    const body = toFailureBody(error);
    for (const field of [body.name, body.code!, body.reason!]) {
      expect(field.length).toBeLessThan(400);
      expect(field).toEndWith(`… [${huge.length - 256} more characters not kept]`);
    }
    expect(body.message).toBe("small");
  });
});

describe("boundFailure", () => {
  test("cuts every field of a failure made elsewhere to the sizes toFailureBody keeps", () => {
    const huge = "r".repeat(5 * 1024 * 1024);
    const body = boundFailure({ name: huge, message: huge, code: huge, reason: huge, family: "application", retryable: false, details: { huge } });
    expect(JSON.stringify(body).length).toBeLessThan(10 * 1024);
    expect(body.message).toContain("more characters not kept");
    expect(body.details).toEqual({ note: `details of ${JSON.stringify({ huge }).length} characters were dropped (more than 65536)` });
    expect(body).toMatchObject({ family: "application", retryable: false });
  });

  test("keeps a failure it already cut as it is (the daemon bounds what a worker bounded)", () => {
    const huge = "c".repeat(1024 * 1024);
    const once = boundFailure({ name: huge, message: huge, code: huge, reason: huge, family: "timeout", retryable: true });
    expect(boundFailure(once)).toEqual(once);
    expect(once.name).toEndWith(`… [${huge.length - 256} more characters not kept]`);
  });

  test("leaves a failure of ordinary size as it is", () => {
    const body = { name: "PaymentError", message: "declined", code: "card_declined", family: "application" as const, retryable: true, details: { field: "card" } };
    expect(boundFailure(body)).toEqual(body);
  });
});
