import { createServer } from 'node:net';

/**
 * Asks the OS for a currently unused TCP port on `host` (by binding port 0) and releases it.
 * Another process could grab it before the dev server binds it; that is rare enough on a
 * developer machine that a failed start with a clear message is the right answer.
 */
export function findFreePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ host, port: 0, exclusive: true }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error(`could not obtain a free port on ${host}`))));
    });
  });
}
