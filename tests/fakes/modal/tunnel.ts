import net from 'node:net';
import tls from 'node:tls';

export interface Tunnel {
  host: string;
  port: number;
  close(): void;
}

/**
 * A loopback listener (TLS when `cert` is given) that carries each connection as raw bytes to a
 * port inside a sandbox, so HTTP and WebSocket upgrades (Vite HMR) both pass.
 */
export async function startTunnel(
  connect: () => Promise<net.Socket | null>,
  cert: { key: string; cert: string } | undefined,
  onOpenChange: (delta: 1 | -1) => void,
): Promise<Tunnel> {
  const open = new Set<net.Socket>();
  const handle = (client: net.Socket): void => {
    open.add(client);
    onOpenChange(1);
    client.once('close', () => {
      open.delete(client);
      onOpenChange(-1);
    });
    client.on('error', () => {});
    client.pause();
    connect().then(
      (upstream) => {
        if (!upstream || client.destroyed) {
          upstream?.destroy();
          client.destroy();
          return;
        }
        open.add(upstream);
        upstream.once('close', () => {
          open.delete(upstream);
          client.destroy();
        });
        upstream.on('error', () => {});
        client.once('close', () => upstream.destroy());
        client.pipe(upstream).pipe(client);
        client.resume();
        upstream.resume();
      },
      () => client.destroy(),
    );
  };
  const server = cert ? tls.createServer({ key: cert.key, cert: cert.cert }, handle) : net.createServer(handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;
  return {
    host: '127.0.0.1',
    port,
    close: () => {
      server.close();
      for (const s of open) s.destroy();
    },
  };
}
