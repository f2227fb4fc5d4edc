/**
 * Request guards of the control API: a loopback-only Host (DNS-rebinding defence: a page on an
 * attacker's name that resolves to 127.0.0.1 still sends its own Host), the token from the runtime
 * home (header `X-Vilano-Token` or `Authorization: Bearer`), compared in constant time.
 */
import { timingSafeEqual } from "node:crypto";
import type { MiddlewareHandler } from "hono";
import { VilanoError } from "../shared/index.ts";

const LOOPBACK_HOST = /^(127\.0\.0\.1|localhost|\[::1\])(:\d{1,5})?$/i;

export function isLoopbackHost(host: string | undefined): boolean {
  return host !== undefined && LOOPBACK_HOST.test(host);
}

export const requireLoopbackHost = (): MiddlewareHandler => async (c, next) => {
  const host = c.req.header("host");
  if (!isLoopbackHost(host)) {
    throw new VilanoError("forbidden", `requests must be addressed to a loopback name (127.0.0.1, localhost, [::1]); Host was ${JSON.stringify(host ?? "")}`);
  }
  await next();
};

function presentedToken(header: (name: string) => string | undefined): string | undefined {
  const direct = header("x-vilano-token");
  if (direct) return direct;
  const auth = header("authorization");
  const match = auth ? /^Bearer\s+(.+)$/i.exec(auth) : null;
  return match?.[1];
}

/** Compares two secrets in constant time. */
export function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export const requireToken = (token: string): MiddlewareHandler => async (c, next) => {
  const presented = presentedToken((name) => c.req.header(name));
  if (!presented) throw new VilanoError("unauthorized", "missing token: send X-Vilano-Token or Authorization: Bearer <token>");
  if (!sameSecret(presented, token)) throw new VilanoError("unauthorized", "invalid token");
  await next();
};
