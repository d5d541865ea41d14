import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';

/**
 * Slack's Socket Mode side, as @slack/socket-mode@3 expects it: `apps.connections.open` hands out a
 * one-time ticket URL; the WebSocket opens with a `hello`; the server pushes envelopes and waits for
 * `{ envelope_id, payload }` acks; `{ type: 'disconnect' }` asks the client to reconnect.
 * It rides on the fake Web API's HTTP server (see web-api.ts), which forwards `upgrade` events here.
 */

export type EnvelopeType = 'slash_commands' | 'events_api' | 'interactive';

export interface EnvelopeInput {
  type: EnvelopeType;
  payload: unknown;
  /** Slack sets this for slash commands and (most) interactive payloads: the ack may carry a response. */
  accepts_response_payload?: boolean;
  retry_attempt?: number;
  retry_reason?: string;
}

/** What the client sends back: @slack/socket-mode always includes `payload` (`{}` when ack() had no body). */
export interface SocketAck {
  envelope_id: string;
  payload?: any;
}

export interface FakeSocketModeOptions {
  appId: string;
  /** How long `sendEnvelope` waits for the ack. Default 3000 (Slack's own ack deadline). */
  ackTimeoutMs?: number;
  /**
   * Send a WebSocket ping this often. Default 5000. Slack pings too; after a first ping the client
   * disconnects if pings stop for its serverPingTimeout (30 s), so they must keep coming.
   */
  pingIntervalMs?: number;
}

export class FakeSocketMode {
  /** Every text frame clients sent, parsed (acks included), in order. */
  readonly received: unknown[] = [];
  /** Connections ever accepted (hello sent), so a reconnect shows as 2. */
  totalConnections = 0;

  private readonly wss = new WebSocketServer({ noServer: true });
  private readonly open = new Set<WebSocket>();
  /** Connections whose client answered the ping sent after `hello`, so it has read the hello. */
  private readonly ready = new WeakSet<WebSocket>();
  private readonly tickets = new Set<string>();
  private readonly pendingAcks = new Map<
    string,
    { resolve: (ack: SocketAck) => void; reject: (err: Error) => void; timer: NodeJS.Timeout }
  >();
  private readonly connectionWaiters = new Set<() => void>();

  constructor(private readonly options: FakeSocketModeOptions) {}

  /** Connections open right now. */
  get connections(): number {
    return this.open.size;
  }

  /** A fresh single-use WebSocket URL, as `apps.connections.open` returns it. */
  issueUrl(httpBase: string): string {
    const ticket = randomUUID();
    this.tickets.add(ticket);
    return `${httpBase.replace(/^http/, 'ws')}/socket?ticket=${ticket}`;
  }

  /** Handles an HTTP upgrade; returns false when the request is not for `/socket`. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname !== '/socket') return false;
    const ticket = url.searchParams.get('ticket') ?? '';
    // Tickets are single use, like Slack's: a client must call apps.connections.open again to reconnect.
    if (!this.tickets.delete(ticket)) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return true;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws));
    return true;
  }

  /**
   * Pushes an envelope to the newest open connection and resolves with the client's ack.
   * Rejects when no connection is open or no ack arrives within the timeout.
   */
  sendEnvelope(input: EnvelopeInput, timeoutMs = this.options.ackTimeoutMs ?? 3000): Promise<SocketAck> {
    const ws = this.current();
    if (!ws) return Promise.reject(new Error('fake socket mode: no open connection'));
    const envelope_id = randomUUID();
    const frame = {
      envelope_id,
      type: input.type,
      payload: input.payload,
      accepts_response_payload: input.accepts_response_payload ?? input.type !== 'events_api',
      retry_attempt: input.retry_attempt ?? 0,
      retry_reason: input.retry_reason ?? '',
    };
    return new Promise<SocketAck>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pendingAcks.delete(envelope_id);
        reject(new Error(`fake socket mode: no ack for ${input.type} envelope ${envelope_id} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pendingAcks.set(envelope_id, { resolve, reject, timer });
      ws.send(JSON.stringify(frame));
    });
  }

  /**
   * Ends the newest connection the way Slack does: `message` sends `{ type: 'disconnect' }` and lets
   * the client close; `close` sends a close frame (1001) itself. Either way the client should reconnect.
   */
  disconnect(how: 'message' | 'close' = 'message'): void {
    const ws = this.current();
    if (!ws) throw new Error('fake socket mode: no open connection to disconnect');
    if (how === 'close') ws.close(1001, 'going away');
    else
      ws.send(
        JSON.stringify({ type: 'disconnect', reason: 'refresh_requested', debug_info: { host: 'applink-fake' } }),
      );
  }

  /**
   * Resolves once `totalConnections >= count` and the newest connection's client has read `hello`
   * (it answered a ping sent after it), e.g. `waitForConnections(2)` after a disconnect. Stopping a
   * SocketModeClient before that point makes its pending start() reject unhandled.
   */
  waitForConnections(count = 1, timeoutMs = 10_000): Promise<void> {
    const done = () => {
      const ws = this.current();
      return this.totalConnections >= count && ws !== undefined && this.ready.has(ws);
    };
    if (done()) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const check = () => {
        if (!done()) return;
        clearTimeout(timer);
        this.connectionWaiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.connectionWaiters.delete(check);
        reject(
          new Error(`fake socket mode: ${this.totalConnections} connection(s) after ${timeoutMs} ms, wanted ${count}`),
        );
      }, timeoutMs);
      this.connectionWaiters.add(check);
    });
  }

  /**
   * Fails pending acks and closes every socket: gracefully first (Bolt's `app.stop()` does not wait
   * for its close handshake, and cutting it short makes the client log a WebSocket error), then
   * terminates whatever is still open after `graceMs`.
   */
  async close(graceMs = 1000): Promise<void> {
    for (const [id, pending] of this.pendingAcks) {
      clearTimeout(pending.timer);
      pending.reject(new Error(`fake socket mode closed before ack of ${id}`));
    }
    this.pendingAcks.clear();
    const sockets = [...this.open];
    await Promise.all(
      sockets.map(
        (ws) =>
          new Promise<void>((resolve) => {
            if (ws.readyState === ws.CLOSED) return resolve();
            const timer = setTimeout(() => {
              ws.terminate();
              resolve();
            }, graceMs);
            ws.once('close', () => {
              clearTimeout(timer);
              resolve();
            });
            if (ws.readyState === ws.OPEN) ws.close(1001, 'going away');
          }),
      ),
    );
    this.open.clear();
    this.wss.close();
  }

  /** The newest open connection (Slack may use any; newest keeps tests deterministic). */
  private current(): WebSocket | undefined {
    return [...this.open].at(-1);
  }

  private accept(ws: WebSocket): void {
    this.open.add(ws);
    this.totalConnections += 1;
    const ping = setInterval(() => ws.ping(), this.options.pingIntervalMs ?? 5000);
    ws.once('pong', () => {
      this.ready.add(ws);
      for (const check of [...this.connectionWaiters]) check();
    });
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      let message: unknown;
      try {
        message = JSON.parse(data.toString());
      } catch {
        message = data.toString();
      }
      this.received.push(message);
      const id = (message as { envelope_id?: unknown } | null)?.envelope_id;
      const pending = typeof id === 'string' ? this.pendingAcks.get(id) : undefined;
      if (pending && typeof id === 'string') {
        clearTimeout(pending.timer);
        this.pendingAcks.delete(id);
        pending.resolve(message as SocketAck);
      }
    });
    ws.on('close', () => {
      clearInterval(ping);
      this.open.delete(ws);
    });
    ws.on('error', () => ws.terminate());
    ws.send(
      JSON.stringify({
        type: 'hello',
        num_connections: this.open.size,
        debug_info: { host: 'applink-fake', build_number: 1, approximate_connection_time: 18060 },
        connection_info: { app_id: this.options.appId },
      }),
    );
    // Frames arrive in order, so the pong to this ping proves the client has processed the hello.
    ws.ping();
  }
}
