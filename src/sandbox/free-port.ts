import { createServer } from 'node:net';

/** Asks the OS for a loopback port nobody listens on. Racy by nature: callers retry on EADDRINUSE. */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('could not get a free port'))));
    });
  });
}

/** Below Linux's usual ephemeral range (32768 and up), where `listen(0)` never lands. */
const QUIET_PORTS = { from: 20_000, count: 12_000 };

/**
 * A loopback port for a process that listens on it later (an unisolated sandbox's Vite): one
 * from below the kernel's ephemeral range, so no other process's `listen(0)` or outgoing
 * connection takes it in the meantime (only another pick from this range could, 1 in 12,000).
 */
export async function portToListenOnLater(host = '127.0.0.1'): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const port = QUIET_PORTS.from + Math.floor(Math.random() * QUIET_PORTS.count);
    if (await canListen(port, host)) return port;
  }
  return freePort(host);
}

function canListen(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}
