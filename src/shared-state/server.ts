import { randomBytes } from 'node:crypto';
import type http from 'node:http';
import type net from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import * as Y from 'yjs';
import type { Logger } from '../core/ports/index.ts';
import type {
  PageSocket,
  ScratchState,
  SharedData,
  SharedDataExport,
  SharedDataStats,
  SharedLog,
} from '../core/ports/shared.ts';
import { SharedConnection } from './connection.ts';
import { CLOSE, SHARED_LIMITS, type SharedLimits } from './limits.ts';
import { LiveDoc, type BusMessage } from './live-doc.ts';
import { exportOf, statsOf } from './to-json.ts';
import { wsSocket } from './ws-socket.ts';

export interface SharedStateDeps {
  log: SharedLog;
  logger: Pick<Logger, 'warn' | 'info'>;
  /** True for an app that exists and is not deleted (the only ones that get a connection). */
  appExists(appId: string): Promise<boolean>;
  /**
   * Whether a page of `origin` (the handshake's Origin header) may use app `appId`'s state:
   * its own origin, never another app's. No Origin (not a browser) is the caller's call too.
   */
  originAllowed(appId: string, origin: string | undefined): Promise<boolean>;
  limits?: Partial<SharedLimits>;
  now?: () => number;
  /** How long a document nobody uses stays loaded (default 30 s), and how often open ones read the log (default 5 s, or 30 s with a cross-process bus). */
  idleMs?: number;
  catchUpMs?: number;
}

/** Largest WebSocket message: a whole state's worth, plus framing. */
const MAX_MESSAGE = (1 << 20) + (64 << 10);
const PING_MS = 30_000;

/**
 * The server end of `@vibe/shared`: WebSockets the gateway hands over from
 * `/apps/<id>/__vibe/shared` (on the app's own origin, light and live views alike, no sandbox),
 * one LiveDoc per app in use, the store's log behind it and its bus between processes. Also
 * what the core asks of an app's state (SharedData): stats, reset, remove, export, a scratch copy.
 */
export class SharedStateServer implements SharedData {
  readonly limits: SharedLimits;
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE, perMessageDeflate: false });
  private readonly docs = new Map<string, Promise<LiveDoc>>();
  private readonly idle = new Map<string, NodeJS.Timeout>();
  private readonly processId = randomBytes(8).toString('hex');
  private readonly now: () => number;
  private readonly unsubscribe: () => void;
  private readonly catchUpTimer: NodeJS.Timeout;
  private readonly pingTimer: NodeJS.Timeout;
  private readonly alive = new WeakSet<WebSocket>();

  constructor(private readonly deps: SharedStateDeps) {
    this.limits = { ...SHARED_LIMITS, ...deps.limits };
    this.now = deps.now ?? Date.now;
    this.unsubscribe = deps.log.bus.subscribe(
      (raw) => this.onBus(raw),
      () => void this.catchUpAll(),
    );
    this.catchUpTimer = setInterval(
      () => void this.catchUpAll(),
      deps.catchUpMs ?? (deps.log.bus.crossProcess ? 30_000 : 5000),
    );
    this.catchUpTimer.unref();
    // A page that vanished without closing (a laptop lid) is dropped after a ping goes unanswered.
    this.pingTimer = setInterval(() => {
      for (const ws of this.wss.clients) {
        if (!this.alive.has(ws)) ws.terminate();
        else {
          this.alive.delete(ws);
          ws.ping();
        }
      }
    }, PING_MS);
    this.pingTimer.unref();
  }

  /** The gateway's upgrade of `/apps/<appId>/__vibe/shared`: refused before the handshake, or a connection. */
  async upgrade(req: http.IncomingMessage, socket: net.Socket, head: Buffer, appId: string): Promise<void> {
    const refuse = (status: string) =>
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    const origin = typeof req.headers.origin === 'string' ? req.headers.origin : undefined;
    if (!(await this.deps.originAllowed(appId, origin))) return void refuse('403 Forbidden');
    if (!(await this.deps.appExists(appId))) return void refuse('404 Not Found');
    // Loaded before the handshake ends: the page's first message comes right after it.
    let doc: LiveDoc;
    try {
      doc = await this.open(appId);
    } catch (err) {
      this.deps.logger.warn({ err, appId }, 'shared state: the data could not be loaded');
      return void refuse('503 Service Unavailable');
    }
    if (doc.peers.size === 0) this.startIdle(appId); // unloaded later if the handshake never ends
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      this.alive.add(ws);
      ws.on('pong', () => this.alive.add(ws));
      this.attach(appId, wsSocket(ws), doc, false);
    });
  }

  /** Connects a page socket to a document, within the connection cap. */
  private attach(appId: string, socket: PageSocket, doc: LiveDoc, scratch: boolean): void {
    if (doc.closed) return socket.close(CLOSE.reset, 'the app data changed; reconnecting');
    if (doc.peers.size >= this.limits.connectionsPerApp)
      return socket.close(CLOSE.full, `too many pages of this app are open (${this.limits.connectionsPerApp})`);
    if (!scratch) this.stopIdle(appId);
    new SharedConnection(doc, socket, this.limits, this.now);
    socket.onClose(() => {
      if (!scratch && doc.peers.size === 0 && this.docs.has(appId)) this.startIdle(appId);
    });
  }

  /** The app's live document in this process, loaded on first use (and again after a reset). */
  private async open(appId: string): Promise<LiveDoc> {
    const have = this.docs.get(appId);
    const doc = have ? await have.catch(() => undefined) : undefined;
    if (doc && !doc.closed) return doc;
    if (have && this.docs.get(appId) !== have) return this.open(appId);
    const loading = LiveDoc.load({
      appId,
      log: this.deps.log,
      limits: this.limits,
      logger: this.deps.logger,
      now: this.now,
      processId: this.processId,
    });
    this.docs.set(appId, loading);
    loading.catch(() => {
      if (this.docs.get(appId) === loading) this.docs.delete(appId);
    });
    return loading;
  }

  private startIdle(appId: string): void {
    this.stopIdle(appId);
    const timer = setTimeout(() => void this.unload(appId), this.deps.idleMs ?? 30_000);
    timer.unref();
    this.idle.set(appId, timer);
  }

  private stopIdle(appId: string): void {
    clearTimeout(this.idle.get(appId));
    this.idle.delete(appId);
  }

  /** Drops a document nobody uses, after storing it compacted. */
  private async unload(appId: string): Promise<void> {
    this.idle.delete(appId);
    const loading = this.docs.get(appId);
    const doc = await loading?.catch(() => undefined);
    if (!doc || doc.peers.size > 0) return;
    if (this.docs.get(appId) === loading) this.docs.delete(appId);
    await doc.flush();
    doc.doc.destroy();
  }

  private onBus(raw: string): void {
    let m: BusMessage;
    try {
      m = JSON.parse(raw) as BusMessage;
    } catch {
      return;
    }
    if (typeof m?.a !== 'string' || m.o === this.processId) return;
    const loading = this.docs.get(m.a);
    void loading
      ?.then((doc) => doc.onMessage(m, () => void this.catchUp(doc)))
      .catch((err: unknown) => this.deps.logger.warn({ err, appId: m.a }, 'shared state: a message was not applied'));
  }

  private async catchUp(doc: LiveDoc): Promise<void> {
    await doc.catchUp().catch((err: unknown) => this.deps.logger.warn({ err }, 'shared state: could not read the log'));
  }

  private async catchUpAll(): Promise<void> {
    for (const loading of [...this.docs.values()]) {
      const doc = await loading.catch(() => undefined);
      if (doc) await this.catchUp(doc);
    }
  }

  /** The state as stored, with this process's unsaved part (a fresh read: exact across processes). */
  private async current(appId: string): Promise<Y.Doc> {
    const read = await this.deps.log.read(appId);
    const d = new Y.Doc();
    for (const u of read.updates) Y.applyUpdate(d, u);
    const live = await this.docs.get(appId)?.catch(() => undefined);
    if (live && !live.closed && live.epoch === read.epoch) Y.applyUpdate(d, Y.encodeStateAsUpdate(live.doc));
    return d;
  }

  async stats(appId: string): Promise<SharedDataStats> {
    const d = await this.current(appId);
    const live = await this.docs.get(appId)?.catch(() => undefined);
    const stats = statsOf(d, live?.closed ? 0 : (live?.peers.size ?? 0), {
      bytes: this.limits.stateBytes,
      items: this.limits.listItems,
    });
    d.destroy();
    return stats;
  }

  async exportData(appId: string): Promise<SharedDataExport | undefined> {
    const d = await this.current(appId);
    const data = exportOf(d);
    d.destroy();
    return Object.keys(data.state).length === 0 && Object.keys(data.lists).length === 0 ? undefined : data;
  }

  async reset(appId: string): Promise<void> {
    const epoch = await this.deps.log.reset(appId);
    await this.tell({ a: appId, o: this.processId, reset: epoch });
    const doc = await this.docs.get(appId)?.catch(() => undefined);
    doc?.resetTo(epoch);
    this.deps.logger.info({ appId }, 'shared state reset');
  }

  async remove(appId: string): Promise<void> {
    // Pages here are closed and their writes finished first, so none lands after the removal.
    const doc = await this.docs.get(appId)?.catch(() => undefined);
    this.docs.delete(appId);
    this.stopIdle(appId);
    doc?.end(CLOSE.gone, 'this app was deleted', true);
    await doc?.settled();
    await this.deps.log.remove(appId);
    await this.tell({ a: appId, o: this.processId, gone: true });
  }

  async scratch(appId: string): Promise<ScratchState> {
    const real = await this.current(appId);
    const source = await LiveDoc.load({
      appId,
      limits: this.limits,
      logger: this.deps.logger,
      now: this.now,
      processId: this.processId,
    });
    source.remote(Y.encodeStateAsUpdate(real));
    real.destroy();
    let pages = 0;
    return {
      open: (socket) => {
        pages++;
        this.attach(appId, socket, source, true);
      },
      close: () => {
        // What the check's page did to its copy, for the log; all of it is dropped now.
        this.deps.logger.info(
          { appId, pages, items: source.itemCount(), bytes: source.measure() },
          'shared state: the browser check used a scratch copy',
        );
        source.end(CLOSE.gone, 'the check is over', true);
        source.doc.destroy();
      },
    };
  }

  private async tell(m: BusMessage): Promise<void> {
    await this.deps.log.bus
      .publish(JSON.stringify(m))
      .catch((err: unknown) =>
        this.deps.logger.warn({ err, appId: m.a }, 'shared state: other processes were not told'),
      );
  }

  /** Stores every open document compacted and closes every page (shutdown). */
  async close(): Promise<void> {
    this.unsubscribe();
    clearInterval(this.catchUpTimer);
    clearInterval(this.pingTimer);
    for (const t of this.idle.values()) clearTimeout(t);
    this.idle.clear();
    const docs = await Promise.all([...this.docs.values()].map((p) => p.catch(() => undefined)));
    this.docs.clear();
    for (const doc of docs) {
      if (!doc) continue;
      doc.end(1001, 'the server is restarting');
      await doc.flush();
    }
    for (const ws of this.wss.clients) ws.terminate();
    this.wss.close();
  }
}
