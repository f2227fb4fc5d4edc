import { describe, expect, test } from "bun:test";
import { createChangeFeed } from "../../src/kernel/change-feed.ts";

const noErrors = (error: unknown) => {
  throw error;
};

describe("the kernel's change feed", () => {
  test("listeners hear the runs each commit touched, once per commit, and nothing for a commit that touched none", () => {
    const feed = createChangeFeed(noErrors);
    const heard: string[][] = [];
    const stop = feed.subscribe((runIds) => heard.push([...runIds].sort()));
    feed.touched("b");
    feed.touched("a");
    feed.touched("a");
    feed.committed();
    feed.committed();
    feed.touched("c");
    feed.committed();
    stop();
    feed.touched("d");
    feed.committed();
    expect(heard).toEqual([["a", "b"], ["c"]]);
  });

  test("the version counts commits that touched runs, whether anyone listened or not", () => {
    const feed = createChangeFeed(noErrors);
    expect(feed.version()).toBe(0);
    feed.touched("a");
    feed.committed();
    feed.committed(); // touched nothing
    expect(feed.version()).toBe(1);
    const heard: number[] = [];
    feed.subscribe(() => heard.push(feed.version()));
    feed.touched("b");
    feed.committed();
    // A listener already sees the version of the commit it hears about.
    expect(heard).toEqual([2]);
    expect(feed.version()).toBe(2);
  });

  test("a listener that throws is reported and does not keep the others from hearing", () => {
    const errors: unknown[] = [];
    const feed = createChangeFeed((error) => errors.push(error));
    const heard: string[] = [];
    feed.subscribe(() => {
      throw new Error("listener broke");
    });
    feed.subscribe((runIds) => heard.push(...runIds));
    feed.touched("a");
    feed.committed();
    expect(heard).toEqual(["a"]);
    expect(errors).toEqual([new Error("listener broke")]);
  });
});
