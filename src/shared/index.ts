/** Leaf helpers shared by every layer: errors, durations, ids, clock, config, logger, JSON checks. */
export * from "./error-codes.ts";
export * from "./errors.ts";
export * from "./failure.ts";
export * from "./duration.ts";
export * from "./ids.ts";
export * from "./clock.ts";
export * from "./json.ts";
export * from "./retry-policy.ts";
export * from "./config.ts";
export * from "./logger.ts";
export * from "./protocol.ts";
export * from "./version.ts";
export * from "./describe-value.ts";
export * from "./process-state.ts";
export * from "./lines.ts";
