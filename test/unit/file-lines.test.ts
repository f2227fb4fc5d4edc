/**
 * test/helpers/lines.ts: a file another process is writing has only the lines it has finished.
 * The file exists before its first write lands (appendFileSync opens, then writes), and a reader
 * in between must see no line at all — never `[""]`, whose `Number("")` is the pid 0.
 */
import { describe, expect, test } from "bun:test";
import { appendFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileLines, filePids } from "../helpers/lines.ts";
import { thrownBy } from "../helpers/thrown-by.ts";
import { tempDir } from "../helpers/temp-dir.ts";

const dir = tempDir("vilano-lines-");
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

describe("fileLines", () => {
  test("a file that does not exist yet has no lines", () => {
    expect(fileLines(join(dir, "missing.log"))).toEqual([]);
  });

  test("an empty file (created, not yet written) has no lines", () => {
    expect(fileLines(file("empty.log", ""))).toEqual([]);
  });

  test("a line still being written is not a line yet", () => {
    expect(fileLines(file("partial.log", "123"))).toEqual([]);
    expect(fileLines(file("one-and-a-half.log", "123\n45"))).toEqual(["123"]);
  });

  test("complete lines, in order, as they were written", () => {
    const path = join(dir, "appended.log");
    appendFileSync(path, "1 100\n");
    appendFileSync(path, "2 200\n");
    expect(fileLines(path)).toEqual(["1 100", "2 200"]);
  });

  test("a finished empty line is a line", () => {
    expect(fileLines(file("blank.log", "a\n\nb\n"))).toEqual(["a", "", "b"]);
  });
});

describe("filePids", () => {
  test("an empty file has no pid, and the pids of complete lines are numbers", () => {
    expect(filePids(file("no-pids.log", ""))).toEqual([]);
    expect(filePids(file("pids.log", "4321\n98"))).toEqual([4321]);
  });

  test("a complete line that is not a pid > 1 is an error naming it", () => {
    for (const text of ["\n", "0\n", "1\n", "x\n", "12 34\n"]) {
      expect(String(thrownBy(() => filePids(file("bad.log", text))))).toContain(`${JSON.stringify(text.slice(0, -1))} is not a pid`);
    }
  });
});
