/**
 * `workflow()`: defines durable orchestration code. The definition is a plain object tagged
 * `kind: "workflow"`, so it works across copies of the SDK (no class identity).
 */
import { isValidName, VilanoError } from "../shared/index.ts";
import { refuseUnknownOptions } from "./options.ts";
import type { WorkflowContext } from "./context.ts";

export interface WorkflowOptions<I, O> {
  /** Unique within a project; used to start runs by name. */
  name: string;
  /** Replayed from the top on every activation: keep side effects inside `ctx.step`. */
  run: (input: I, ctx: WorkflowContext) => Promise<O>;
}

export interface WorkflowDefinition<I = unknown, O = unknown> {
  readonly kind: "workflow";
  readonly name: string;
  readonly run: (input: I, ctx: WorkflowContext) => Promise<O>;
}

/**
 * Defines a workflow.
 * @example
 * export const greet = workflow({
 *   name: "greet",
 *   run: async (input: { name: string }, ctx) => {
 *     const text = await ctx.step("compose", () => `Hello, ${input.name}`);
 *     await ctx.sleep("1s");
 *     return { text };
 *   },
 * });
 */
export function workflow<I, O>(options: WorkflowOptions<I, O>): WorkflowDefinition<I, O> {
  if (!options || typeof options !== "object") {
    throw new VilanoError("validation_failed", "workflow() needs an options object { name, run }");
  }
  if (typeof options.name !== "string" || !isValidName(options.name)) {
    throw new VilanoError(
      "validation_failed",
      `invalid workflow name ${JSON.stringify(options.name)}: use letters, digits, "_", "." or "-", starting with a letter or "_"`,
    );
  }
  if (typeof options.run !== "function") {
    throw new VilanoError("validation_failed", `workflow "${options.name}" needs a run function`);
  }
  refuseUnknownOptions(`workflow "${options.name}"`, options, ["name", "run"]);
  return Object.freeze({ kind: "workflow", name: options.name, run: options.run });
}

/** Whether a value looks like a workflow definition (by shape, not class). */
export function isWorkflowDefinition(value: unknown): value is WorkflowDefinition {
  if (!value || typeof value !== "object") return false;
  const v = value as { kind?: unknown; name?: unknown; run?: unknown };
  return v.kind === "workflow" && typeof v.name === "string" && typeof v.run === "function";
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyWorkflowDefinition = WorkflowDefinition<any, any>;

/** The input and output types of a workflow definition. */
export type WorkflowInput<W> = W extends WorkflowDefinition<infer I, unknown> ? I : never;
export type WorkflowOutput<W> = W extends WorkflowDefinition<never, infer O> ? O : never;
