/**
 * The look at a PostgreSQL server's port the store takes while its database is away
 * (store/postgres/server-probe.ts): a connection connected to itself (made here on purpose by
 * binding the probe's own end to the port it connects to, as the OS may pick it inside the
 * ephemeral range) is refused and closed, leaving the port free; so are a listener that hangs up,
 * one that never answers, and a port nobody listens on. A listener that answers as PostgreSQL
 * does to an SSLRequest passes.
 */
import { describe, expect, test } from "bun:test";
import { createServer, type Server, type Socket } from "node:net";
import { probeServer, probeTargetOf } from "../../src/store/postgres/server-probe.ts";
import { freeEphemeralPort } from "../helpers/pg-server.ts";

/** The sockets each test listener took: a listener that never reads never sees the other end go, and would keep its server open. */
const taken = new WeakMap<Server, Set<Socket>>();

async function listener(onConnection: (socket: Socket) => void): Promise<{ server: Server; port: number }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    onConnection(socket);
  });
  taken.set(server, sockets);
  await new Promise<void>((resolve) => server.listen({ host: "127.0.0.1", port: 0 }, resolve));
  return { server, port: (server.address() as { port: number }).port };
}
const closed = (server: Server) => {
  for (const socket of taken.get(server) ?? []) socket.destroy();
  return new Promise<void>((resolve) => server.close(() => resolve()));
};

describe("probeServer", () => {
  test("refuses a connection whose local and remote ends are the same, and leaves the port free", async () => {
    const port = await freeEphemeralPort();
    await expect(probeServer({ host: "127.0.0.1", port }, 5_000, port)).rejects.toThrow(/connected to itself/);
    // Closed at once: a server can listen on the port right after.
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen({ host: "127.0.0.1", port, exclusive: true }, resolve);
    });
    await closed(server);
  });

  test("passes a server that answers an SSLRequest as PostgreSQL does", async () => {
    const { server, port } = await listener((socket) => socket.once("data", () => socket.end("N")));
    await probeServer({ host: "127.0.0.1", port }, 5_000);
    await closed(server);
  });

  test("refuses a listener that hangs up, one that answers something else, one that never answers, and a closed port", async () => {
    const hangsUp = await listener((socket) => socket.destroy());
    await expect(probeServer({ host: "127.0.0.1", port: hangsUp.port }, 5_000)).rejects.toThrow(/hung up without answering/);
    const echoes = await listener((socket) => socket.pipe(socket));
    await expect(probeServer({ host: "127.0.0.1", port: echoes.port }, 5_000)).rejects.toThrow(/did not answer as PostgreSQL does/);
    const silent = await listener(() => {});
    await expect(probeServer({ host: "127.0.0.1", port: silent.port }, 200)).rejects.toThrow(/no answer from 127\.0\.0\.1:\d+ within 200 ms/);
    const gone = hangsUp.port;
    await Promise.all([closed(hangsUp.server), closed(echoes.server), closed(silent.server)]);
    await expect(probeServer({ host: "127.0.0.1", port: gone }, 5_000)).rejects.toThrow(/cannot connect to 127\.0\.0\.1:\d+/);
  });
});

describe("probeTargetOf", () => {
  test("reads host and port from a URL; a Unix socket is not probed", () => {
    expect(probeTargetOf("postgres://u:p@db.internal:6543/x")).toEqual({ host: "db.internal", port: 6543 });
    expect(probeTargetOf("postgres://u@127.0.0.1/x")).toEqual({ host: "127.0.0.1", port: 5432 });
    expect(probeTargetOf("postgres://u@[::1]:5433/x")).toEqual({ host: "::1", port: 5433 });
    expect(probeTargetOf("postgres://u@localhost/x?host=/var/run/postgresql")).toBeNull();
  });
});
