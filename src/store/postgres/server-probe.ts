/**
 * Is a PostgreSQL server there? One TCP connection, with a bounded time, that asks the server
 * whether it speaks TLS (an SSLRequest, 8 bytes) and expects its one-byte answer ("S" or "N"),
 * then hangs up. Cheaper and surer than letting the client library connect: Bun's client retries
 * on its own, about ten connections a second for its whole connect timeout, when something accepts
 * and hangs up (a proxy with no server behind it), and waits out that timeout on a socket connected
 * to itself.
 *
 * A socket connected to itself: a connect to 127.0.0.1:P, where P is inside the OS's ephemeral
 * range and nobody listens, can be given P as its own local port, and then it is connected to
 * itself (TCP's simultaneous open) — and holds P, so the server cannot bind it when it comes back.
 * Such a connection has equal local and remote addresses: it is closed at once and counts as a
 * failure (it would also echo the request back, which is not an answer).
 */
import { connect } from "node:net";

/** SSLRequest: length 8, then the code 80877103. */
const SSL_REQUEST = Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]);
const SPEAKS_TLS = 0x53; // "S"
const NO_TLS = 0x4e; // "N"

export interface ProbeTarget {
  host: string;
  port: number;
}

/**
 * Where a `postgres://` URL's server listens over TCP; null when it is not TCP (a Unix socket
 * named by `?host=/dir`), and then only the client itself can tell.
 */
export function probeTargetOf(url: string): ProbeTarget | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  const hostParam = parsed.searchParams.get("host");
  if (hostParam?.startsWith("/")) return null;
  const host = (hostParam || parsed.hostname || "localhost").replace(/^\[(.*)\]$/, "$1");
  const port = parsed.port === "" ? 5432 : Number(parsed.port);
  if (!Number.isInteger(port) || port <= 0 || port > 65_535) return null;
  return { host, port };
}

/**
 * Resolves when a PostgreSQL server answers at `target` within `timeoutMs`; rejects with why not
 * (refused, no answer in time, connected to itself, hung up, not PostgreSQL's answer).
 * `localPort` binds the probe's own end (a test uses it to make a connection to itself on purpose).
 */
export function probeServer(target: ProbeTarget, timeoutMs: number, localPort?: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const where = `${target.host}:${target.port}`;
    const socket = connect({ host: target.host, port: target.port, ...(localPort !== undefined ? { localAddress: target.host, localPort } : {}) });
    let settled = false;
    let connected = false;
    const settle = (error: Error | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else resolve();
    };
    const timer = setTimeout(() => settle(new Error(`no answer from ${where} within ${timeoutMs} ms`)), timeoutMs);
    socket.once("connect", () => {
      connected = true;
      if (socket.localAddress === socket.remoteAddress && socket.localPort === socket.remotePort) {
        settle(new Error(`the connection to ${where} was connected to itself (nobody listens on that port, which is inside the ephemeral range); closed`));
        return;
      }
      socket.write(SSL_REQUEST);
    });
    socket.once("data", (chunk: Buffer) => {
      const answer = chunk[0];
      settle(answer === SPEAKS_TLS || answer === NO_TLS ? null : new Error(`${where} did not answer as PostgreSQL does`));
    });
    socket.once("error", (error) => settle(new Error(connected ? `${where} hung up without answering (${error.message})` : `cannot connect to ${where}: ${error.message}`)));
    socket.once("close", () => settle(new Error(`${where} hung up without answering`)));
  });
}
