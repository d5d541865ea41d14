import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { portToListenOnLater } from '../../src/sandbox/free-port.ts';

// An unisolated sandbox's Vite listens on its port a second or so after it was picked. A port
// from the kernel's ephemeral range could be taken meanwhile by any listen(0) or outgoing
// connection on the machine (CI once failed on "Port 37379 is already in use"); this one cannot.

describe('portToListenOnLater', () => {
  it('gives a loopback port below the ephemeral range that can be listened on', async () => {
    const port = await portToListenOnLater();
    expect(port).toBeGreaterThanOrEqual(20_000);
    expect(port).toBeLessThan(32_000);
    const server = createServer();
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', resolve));
    await new Promise((r) => server.close(r));
  });

  it('never gives a port something listens on', async () => {
    const taken = await Promise.all(
      Array.from({ length: 20 }, async () => {
        const server = createServer();
        const port = await portToListenOnLater();
        await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
        return { server, port };
      }),
    );
    try {
      const ports = await Promise.all(Array.from({ length: 20 }, () => portToListenOnLater()));
      for (const p of ports) expect(taken.map((t) => t.port)).not.toContain(p);
    } finally {
      for (const t of taken) t.server.close();
    }
  });
});
