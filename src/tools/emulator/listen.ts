/**
 * Binding an HTTP server to a port and naming the URL clients reach it at.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

function urlHost(address: AddressInfo): string {
  // A wildcard bind is reachable via loopback; IPv6 literals need brackets in URLs.
  if (address.address === '0.0.0.0') return '127.0.0.1';
  if (address.address === '::') return '[::1]';
  return address.family === 'IPv6' ? `[${address.address}]` : address.address;
}

/** Listens on `host:port` (0 = a free port); resolves with the bound port and root URL. */
export function listen(server: Server, port: number, host: string): Promise<{ port: number; url: string }> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const address = server.address() as AddressInfo; // listening on TCP, so never a pipe name
      resolve({ port: address.port, url: `http://${urlHost(address)}:${address.port}` });
    });
  });
}

/** Stops accepting connections and drops open ones (keep-alive and hung requests would delay close). */
export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    if (!server.listening) {
      resolve();
      return;
    }
    server.close((error) => (error ? reject(error) : resolve()));
    server.closeAllConnections();
  });
}
