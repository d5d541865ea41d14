import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';

/**
 * Discord's gateway v10, JSON encoding, no compression (discord.js only asks for zlib-stream when
 * the optional `zlib-sync` is installed; without it the URL is `?v=10&encoding=json`).
 * HELLO -> IDENTIFY -> READY + GUILD_CREATE; heartbeats are ACKed; a dropped connection can RESUME
 * and gets the dispatches it missed, then RESUMED. Events are filtered by the session's intents.
 */

const Op = {
  Dispatch: 0,
  Heartbeat: 1,
  Identify: 2,
  Resume: 6,
  Reconnect: 7,
  InvalidSession: 9,
  Hello: 10,
  HeartbeatAck: 11,
} as const;

export const Intents = { Guilds: 1 << 0, GuildMessages: 1 << 9, MessageContent: 1 << 15 } as const;

export interface GatewayOptions {
  token: string;
  botUserId: string;
  heartbeatIntervalMs: number;
  /** READY's `d` for a new session (the gateway adds session_id and resume_gateway_url). */
  readyData: () => Record<string, unknown>;
  /** Dispatches sent right after READY (GUILD_CREATE). */
  afterReady: () => { t: string; d: unknown }[];
  /** The URL clients reconnect to (READY's resume_gateway_url). */
  url: () => string;
}

interface Dispatch {
  op: 0;
  s: number;
  t: string;
  d: unknown;
}

interface Session {
  id: string;
  intents: number;
  seq: number;
  /** Every dispatch of the session, for replay on RESUME. */
  log: Dispatch[];
  socket?: WebSocket;
  /** The client closed it with 1000/1001: Discord forgets the session. */
  ended: boolean;
}

interface Connection {
  socket: WebSocket;
  query: Record<string, string>;
  session?: Session;
  closedByServer: boolean;
}

export class FakeGateway {
  /** Every frame clients sent, parsed, in order. */
  readonly received: { op: number; d: any }[] = [];
  /** The query string of every connection (`v`, `encoding`, maybe `compress`). */
  readonly connectionQueries: Record<string, string>[] = [];
  identifies = 0;
  resumes = 0;
  heartbeats = 0;
  heartbeatAcks = 0;
  /** Set false to stop ACKing heartbeats (discord.js then treats the link as a zombie and resumes). */
  ackHeartbeats = true;

  private readonly wss = new WebSocketServer({ noServer: true });
  private readonly connections = new Set<Connection>();
  private readonly sessions = new Map<string, Session>();

  constructor(private readonly options: GatewayOptions) {}

  /** Identified connections open right now. */
  get openSessions(): number {
    return [...this.sessions.values()].filter((s) => s.socket && !s.ended).length;
  }

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, req));
  }

  /**
   * Sends a dispatch to every live session that has the intent for it; a session that is
   * disconnected but resumable keeps it for replay.
   */
  dispatch(t: string, d: unknown): void {
    for (const session of this.sessions.values()) {
      if (session.ended || !wants(session.intents, t, d)) continue;
      this.send(session, t, visibleTo(session.intents, t, d, this.options.botUserId));
    }
  }

  /**
   * Closes the open connections from the server side. 4000 (default) or 'terminate' (a cut TCP
   * link, which the client sees as 1006) leave the session resumable: discord.js RESUMEs. A 1000
   * makes discord.js start over with a new IDENTIFY.
   */
  dropConnection(code: number | 'terminate' = 4000): void {
    const open = [...this.connections];
    if (open.length === 0) throw new Error('fake discord gateway: no open connection to drop');
    for (const c of open) {
      c.closedByServer = true;
      if (code === 'terminate') c.socket.terminate();
      else c.socket.close(code, 'fake discord: connection dropped');
    }
  }

  /** op 7 RECONNECT: Discord asks the client to reconnect and resume. */
  requestReconnect(): void {
    for (const c of this.connections) c.socket.send(JSON.stringify({ op: Op.Reconnect, d: null }));
  }

  async close(): Promise<void> {
    for (const c of this.connections) c.socket.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }

  private accept(socket: WebSocket, req: IncomingMessage): void {
    const query = Object.fromEntries(new URL(req.url ?? '/', 'http://127.0.0.1').searchParams);
    this.connectionQueries.push(query);
    const connection: Connection = { socket, query, closedByServer: false };
    this.connections.add(connection);
    socket.on('message', (raw, isBinary) => this.onFrame(connection, raw.toString(), isBinary));
    socket.on('close', (code) => this.onClose(connection, code));
    socket.on('error', () => socket.terminate());
    if (query.v !== '10') return void socket.close(4012, 'Invalid API version');
    if (query.encoding !== 'json') return void socket.close(4002, 'Error while decoding payload.');
    // zlib-stream is not implemented: refusing it beats sending frames the client cannot read.
    if (query.compress) return void socket.close(4002, 'fake discord: compression is not supported');
    socket.send(JSON.stringify({ op: Op.Hello, d: { heartbeat_interval: this.options.heartbeatIntervalMs } }));
  }

  private onFrame(c: Connection, raw: string, isBinary: boolean): void {
    let frame: { op: number; d: any };
    try {
      if (isBinary) throw new Error('binary');
      frame = JSON.parse(raw);
    } catch {
      return void c.socket.close(4002, 'Error while decoding payload.');
    }
    this.received.push(frame);
    switch (frame.op) {
      case Op.Heartbeat:
        this.heartbeats += 1;
        if (this.ackHeartbeats) {
          this.heartbeatAcks += 1;
          c.socket.send(JSON.stringify({ op: Op.HeartbeatAck }));
        }
        return;
      case Op.Identify:
        return this.identify(c, frame.d);
      case Op.Resume:
        return this.resume(c, frame.d);
      default:
        if (!c.session) c.socket.close(4003, 'Not authenticated.');
    }
  }

  private identify(c: Connection, d: any): void {
    if (c.session) return void c.socket.close(4005, 'Already authenticated.');
    if (d?.token !== this.options.token) return void c.socket.close(4004, 'Authentication failed.');
    this.identifies += 1;
    const session: Session = {
      id: randomBytes(16).toString('hex'),
      intents: Number(d.intents ?? 0),
      seq: 0,
      log: [],
      socket: c.socket,
      ended: false,
    };
    this.sessions.set(session.id, session);
    c.session = session;
    this.send(session, 'READY', {
      v: 10,
      ...this.options.readyData(),
      session_id: session.id,
      session_type: 'normal',
      resume_gateway_url: this.options.url(),
      shard: d.shard ?? [0, 1],
    });
    for (const { t, d: data } of this.options.afterReady()) this.send(session, t, data);
  }

  private resume(c: Connection, d: any): void {
    const session = this.sessions.get(d?.session_id);
    if (d?.token !== this.options.token) return void c.socket.close(4004, 'Authentication failed.');
    if (!session || session.ended) {
      // Not resumable: the client must IDENTIFY again.
      return void c.socket.send(JSON.stringify({ op: Op.InvalidSession, d: false }));
    }
    if (typeof d.seq !== 'number' || d.seq > session.seq) return void c.socket.close(4007, 'Invalid seq.');
    this.resumes += 1;
    session.socket = c.socket;
    c.session = session;
    for (const missed of session.log.filter((e) => e.s > d.seq)) c.socket.send(JSON.stringify(missed));
    this.send(session, 'RESUMED', {});
  }

  private send(session: Session, t: string, d: unknown): void {
    const payload: Dispatch = { op: Op.Dispatch, s: ++session.seq, t, d };
    session.log.push(payload);
    const socket = session.socket;
    if (socket && socket.readyState === socket.OPEN) socket.send(JSON.stringify(payload));
  }

  private onClose(c: Connection, code: number): void {
    this.connections.delete(c);
    const session = c.session;
    if (!session || session.socket !== c.socket) return;
    session.socket = undefined;
    // A client that closes with 1000/1001 ends its session; any other close keeps it resumable.
    if (!c.closedByServer && (code === 1000 || code === 1001)) session.ended = true;
  }
}

const GUILD_EVENTS = /^(GUILD_|CHANNEL_|THREAD_)/;
const MESSAGE_EVENTS = /^MESSAGE_(CREATE|UPDATE|DELETE|DELETE_BULK)$/;

/** Whether a session's intents cover the event (interactions and session events need none). */
function wants(intents: number, t: string, d: any): boolean {
  if (MESSAGE_EVENTS.test(t)) return d?.guild_id ? (intents & Intents.GuildMessages) !== 0 : true;
  if (GUILD_EVENTS.test(t)) return (intents & Intents.Guilds) !== 0;
  return true;
}

/**
 * Without MESSAGE_CONTENT, Discord blanks content, embeds, attachments and components of guild
 * messages that are neither the bot's own nor mention it.
 */
function visibleTo(intents: number, t: string, d: any, botUserId: string): unknown {
  if (!/^MESSAGE_(CREATE|UPDATE)$/.test(t) || intents & Intents.MessageContent || !d?.guild_id) return d;
  if (d.author?.id === botUserId || (d.mentions ?? []).some((u: { id: string }) => u.id === botUserId)) return d;
  return { ...d, content: '', embeds: [], attachments: [], components: [] };
}
