import { describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createCaptureSink } from "../../src/core/index.ts";
import { tempDir } from "../helpers/temp-dir.ts";

describe("capture sink", () => {
  test("writes output and artifacts under captures/<run>/<op key>.<attempt>, and tells watchers", () => {
    const home = tempDir();
    const sink = createCaptureSink(home);
    const heard: string[] = [];
    const stop = sink.watch("run_1", (o) => heard.push(`${o.stream}:${o.text}`));
    sink.output("run_1", { opKey: "exec:a:0", attempt: 1, stream: "stdout", text: "one\n" });
    stop();
    sink.output("run_1", { opKey: "exec:a:0", attempt: 1, stream: "stdout", text: "two\n" });
    sink.artifact("run_1", { opKey: "exec:a:0", attempt: 1, path: "out/report.txt", content: new TextEncoder().encode("hello"), bytes: 9 });
    const dir = join(home, "captures", "run_1", "exec%3Aa%3A0.1");
    expect(readFileSync(join(dir, "stdout"), "utf8")).toBe("one\ntwo\n");
    expect(readFileSync(join(dir, "artifacts", "out", "report.txt"), "utf8")).toBe("hello\n[vilano: output truncated, 4 more bytes not kept]");
    expect(heard).toEqual(["stdout:one\n"]);
  });

  test("an artifact path from a worker cannot leave its capture folder", () => {
    const home = tempDir();
    const errors: unknown[] = [];
    const sink = createCaptureSink(join(home, "home"), (error) => errors.push(error));
    sink.artifact("run_1", { opKey: "exec:a:0", attempt: 1, path: "../../../../escaped.txt", content: new Uint8Array([1]), bytes: 1 });
    expect(existsSync(join(home, "escaped.txt"))).toBe(false);
    expect(readdirSync(home)).toEqual(["home"]);
    expect(String(errors[0])).toContain("leaves its capture folder");
  });
});
