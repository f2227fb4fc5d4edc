import { describe, expect, test } from "bun:test";
import { judgeCrash } from "../../src/worker/crash-blame.ts";
import { held } from "../helpers/held-activations.ts";

describe("judgeCrash", () => {
  test("a worker that held one run's activation crashed alone: that run is charged", () => {
    expect(judgeCrash([held(1, "r1")], null)).toEqual(new Map([["r1", "charged"]]));
  });
  test("several runs and no word of whose code it was: nobody is charged, every run is a suspect", () => {
    expect(judgeCrash([held(1, "r1"), held(2, "r2"), held(3, "r3")], null)).toEqual(
      new Map([["r1", "suspect"], ["r2", "suspect"], ["r3", "suspect"]]),
    );
  });
  test("an exit marker names the culprit: it alone is charged, the others are bystanders", () => {
    expect(judgeCrash([held(1, "r1"), held(2, "r2")], "r2")).toEqual(new Map([["r1", "bystander"], ["r2", "charged"]]));
  });
  test("a culprit the worker no longer held charges nobody it held", () => {
    expect(judgeCrash([held(1, "r1")], "gone")).toEqual(new Map([["r1", "bystander"]]));
  });
});
