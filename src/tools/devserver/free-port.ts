import { createServer, type Server } from 'node:net';

/**
 * Asks the OS for a currently unused TCP port on `host` (by binding port 0) and releases it.
 * Another process could grab it before the dev server binds it; that is rare enough on a
 * developer machine that a failed start with a clear message is the right answer.
 */
export async function findFreePort(host = '127.0.0.1'): Promise<number> {
  const [port] = await findFreePorts(1, host);
  return port!;
}

/**
 * `count` distinct unused ports: each is held until all are found, so none is handed out twice
 * (separate {@link findFreePort} calls may return the same port once it is released).
 */
export async function findFreePorts(count: number, host = '127.0.0.1'): Promise<number[]> {
  const servers: Server[] = [];
  try {
    const ports: number[] = [];
    for (let i = 0; i < count; i++) {
      const server = createServer();
      servers.push(server);
      ports.push(await listenOnFreePort(server, host));
    }
    return ports;
  } finally {
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  }
}

function listenOnFreePort(server: Server, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.unref();
    server.once('error', reject);
    server.listen({ host, port: 0, exclusive: true }, () => {
      const address = server.address();
      if (typeof address === 'object' && address && address.port > 0) resolve(address.port);
      else reject(new Error(`could not obtain a free port on ${host}`));
    });
  });
}
