import pino from 'pino';
import WebSocket from 'ws';
import { SharedClient, type SocketFactory } from '../../sandbox-template/vibe-shared/client.ts';
import { AppGateway } from '../../src/sandbox/gateway.ts';
import { sharedOriginPolicy } from '../../src/shared-state/origin-policy.ts';
import { SharedStateServer, type SharedStateDeps } from '../../src/shared-state/server.ts';
import type { PageSocket, ScratchState } from '../../src/core/ports/shared.ts';
import type { KeyvAppStore } from '../../src/store/keyv-app-store.ts';
import { eventually } from './eventually.ts';

const quiet = pino({ level: 'silent' });

/** Stores an app with one version, so the shared-state server takes connections for it. */
export async function storeApp(store: KeyvAppStore, id: string): Promise<void> {
  if (await store.getApp(id)) return;
  await store.createApp({
    id,
    channelId: 'shell:c',
    threadId: `t-${id}`,
    ownerId: 'u1',
    title: id,
    summary: '',
    prompt: 'p',
  });
  await store.addVersion(id, {
    files: { 'src/App.tsx': '' },
    instruction: 'p',
    authorId: 'u1',
    usage: { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 },
    model: 'test',
  });
}

/**
 * The server end as app.ts builds it: the real gateway (apps on `<id>.localhost`), the shared
 * state server behind it, on `store`. `close()` stops both (the store is the caller's).
 */
export async function sharedStack(
  store: KeyvAppStore,
  opts: Partial<Pick<SharedStateDeps, 'limits' | 'catchUpMs' | 'idleMs'>> & { port?: number } = {},
): Promise<{
  server: SharedStateServer;
  port: number;
  url(appId: string): string;
  origin(appId: string): string;
  close(): Promise<void>;
}> {
  const server = new SharedStateServer({
    log: store.shared,
    logger: quiet,
    appExists: async (id) => {
      const app = await store.getApp(id);
      return Boolean(app && !app.deleted && app.latestVersion > 0);
    },
    originAllowed: sharedOriginPolicy({
      appDomain: 'localhost',
      gatewayHosts: ['127.0.0.1'],
      sandboxUrl: async () => undefined,
    }),
    ...(opts.limits ? { limits: opts.limits } : {}),
    ...(opts.catchUpMs ? { catchUpMs: opts.catchUpMs } : {}),
    ...(opts.idleMs ? { idleMs: opts.idleMs } : {}),
  });
  const gateway = new AppGateway({
    resolve: async () => undefined,
    logger: quiet,
    appDomain: 'localhost',
    appOrigin: (id) => `http://${id}.localhost`,
    shared: server,
  });
  const { port } = await gateway.listen(opts.port ?? 0, '127.0.0.1');
  return {
    server,
    port,
    url: (id) => `ws://${id}.localhost:${port}/__vibe/shared`,
    origin: (id) => `http://${id}.localhost:${port}`,
    async close() {
      await gateway.close();
      await server.close();
    },
  };
}

/** A `ws` WebSocket that sends `origin` (as a browser does), or none; from `localAddress` if given. */
export function socketClass(origin?: string, localAddress?: string): SocketFactory {
  return class extends WebSocket {
    constructor(url: string) {
      super(url, { ...(origin ? { origin } : {}), ...(localAddress ? { localAddress } : {}) });
    }
  } as unknown as SocketFactory;
}

/** The real client module (`@vibe/shared`'s engine) in Node: a page, as far as the server can tell. */
export function pageClient(
  url: string,
  viewerId: string,
  origin?: string,
  /** The loopback address it connects from (a viewer of its own, as far as per-client caps go). */
  localAddress?: string,
): { client: SharedClient; warnings: string[] } {
  const warnings: string[] = [];
  const client = new SharedClient({
    url,
    viewerId,
    WebSocket: socketClass(origin, localAddress),
    warn: (m) => warnings.push(m),
    retryMs: 50,
  }).start();
  return { client, warnings };
}

export async function live(...clients: SharedClient[]): Promise<void> {
  await eventually(() => clients.every((c) => c.status === 'live'), 10_000);
}

/**
 * A raw socket speaking the protocol by hand (for input the real client never sends): resolves
 * with the close code and reason once the server ends it, after `send`ing each message.
 */
export async function rawSocket(
  url: string,
  messages: (Uint8Array | string)[],
): Promise<{ code: number; reason: string }> {
  const ws = new WebSocket(url);
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  for (const m of messages) ws.send(m);
  const timer = setTimeout(() => ws.terminate(), 5000);
  const result = await closed;
  clearTimeout(timer);
  return result;
}

/**
 * Sockets that reach a scratch copy in memory, as the check browser's WebSocket route does: the
 * client side is a SocketLike, the server side the PageSocket `scratch.open` answers.
 */
export function scratchSockets(scratch: ScratchState): SocketFactory {
  return class MemorySocket {
    binaryType = 'arraybuffer';
    readyState = 0;
    onopen: ((ev: unknown) => void) | null = null;
    onmessage: ((ev: { data: unknown }) => void) | null = null;
    onclose: ((ev: { code: number; reason: string }) => void) | null = null;
    onerror: ((ev: unknown) => void) | null = null;
    private toServer?: (data: Uint8Array) => void;
    private readonly serverClosed: (() => void)[] = [];

    constructor(_url: string) {
      const end = (code: number, reason: string) => {
        if (this.readyState === 3) return;
        this.readyState = 3;
        for (const l of this.serverClosed) l();
        queueMicrotask(() => this.onclose?.({ code, reason }));
      };
      const server: PageSocket = {
        send: (data) => {
          const copy = data.slice().buffer;
          queueMicrotask(() => this.readyState === 1 && this.onmessage?.({ data: copy }));
        },
        close: end,
        onMessage: (l) => (this.toServer = l),
        onClose: (l) => void this.serverClosed.push(l),
      };
      this.close = (code = 1000, reason = '') => end(code, reason);
      queueMicrotask(() => {
        this.readyState = 1;
        this.onopen?.({});
        scratch.open(server);
      });
    }

    send(data: Uint8Array): void {
      const copy = data.slice();
      queueMicrotask(() => this.readyState === 1 && this.toServer?.(copy));
    }

    close: (code?: number, reason?: string) => void;
  } as unknown as SocketFactory;
}
