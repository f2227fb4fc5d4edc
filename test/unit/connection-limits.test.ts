import { describe, expect, test } from "bun:test";
import { resolveConnectionLimits, readDescriptorLimit, DESCRIPTOR_HEADROOM, RESERVED_FOR_REQUESTS } from "../../src/runtime/connection-limits.ts";
import { isHealthPath } from "../../src/runtime/admission.ts";
import { loadConfig } from "../../src/shared/index.ts";

const unset = { maxConnections: null, maxStreams: null };

describe("connection limits", () => {
  test("the defaults: 1024 requests and 256 streams, fitted under a low open-file limit", () => {
    expect(resolveConnectionLimits(unset, 20_000)).toEqual({ maxConnections: 1024, maxStreams: 256, descriptorLimit: 20_000 });
    expect(resolveConnectionLimits(unset, 1024)).toEqual({ maxConnections: 1024 - DESCRIPTOR_HEADROOM, maxStreams: 192, descriptorLimit: 1024 });
    expect(resolveConnectionLimits(unset, null)).toEqual({ maxConnections: 1024, maxStreams: 256, descriptorLimit: null });
    expect(resolveConnectionLimits({ maxConnections: 64, maxStreams: null }, 20_000).maxStreams).toBe(16);
  });

  test("a connection cap the open files cannot back is refused, naming the variable, the limit and the most it can be", () => {
    expect(() => resolveConnectionLimits({ maxConnections: 20_000, maxStreams: null }, 20_000)).toThrow(
      `invalid environment variable VILANO_MAX_CONNECTIONS: 20000 is more than the open-file limit can back (ulimit -n is 20000, and the daemon keeps ${DESCRIPTOR_HEADROOM} for its database, log and workers); use at most ${20_000 - DESCRIPTOR_HEADROOM}`,
    );
    expect(() => resolveConnectionLimits(unset, 100)).toThrow("the limit on open files (ulimit -n) is 100");
  });

  test("streams must leave room for other requests, so /health and the CLI always get through", () => {
    expect(resolveConnectionLimits({ maxConnections: 40, maxStreams: 40 - RESERVED_FOR_REQUESTS }, 20_000).maxStreams).toBe(24);
    expect(() => resolveConnectionLimits({ maxConnections: 40, maxStreams: 30 }, 20_000)).toThrow(
      `invalid environment variable VILANO_MAX_STREAMS: 30 would leave fewer than ${RESERVED_FOR_REQUESTS} of the 40 connections (VILANO_MAX_CONNECTIONS) for other requests`,
    );
    expect(() => resolveConnectionLimits({ maxConnections: null, maxStreams: 5000 }, 20_000)).toThrow("use at most 1008");
  });

  test("the environment's values are whole numbers in range, refused by name otherwise", () => {
    expect(() => loadConfig({ VILANO_MAX_CONNECTIONS: "lots" })).toThrow("invalid environment variable VILANO_MAX_CONNECTIONS: must be a whole number of requests");
    expect(() => loadConfig({ VILANO_MAX_CONNECTIONS: "8" })).toThrow("invalid environment variable VILANO_MAX_CONNECTIONS: must be at least 32");
    expect(() => loadConfig({ VILANO_MAX_STREAMS: "0" })).toThrow("invalid environment variable VILANO_MAX_STREAMS: must be at least 1");
    expect(loadConfig({})).toMatchObject({ maxConnections: null, maxStreams: null });
  });

  test("this process's open-file limit is read from /proc", () => {
    expect(readDescriptorLimit()).toBeGreaterThan(0);
  });

  test("/health is recognised with or without a query, and nothing else is", () => {
    expect(isHealthPath("http://127.0.0.1:4141/health")).toBe(true);
    expect(isHealthPath("http://127.0.0.1:4141/health?x=1")).toBe(true);
    expect(isHealthPath("http://127.0.0.1:4141/healthz")).toBe(false);
    expect(isHealthPath("http://127.0.0.1:4141/v1/health")).toBe(false);
  });
});
