import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import * as sync from 'y-protocols/sync';
import * as Y from 'yjs';
import { CLOSE, goodName, LIST_PREFIX, MAX_VALUE_BYTES, MESSAGE, STATE_ROOT, type StoredItem } from './layout.ts';
import { randomId } from './random-id.ts';

// The engine of `@vibe/shared`, without React or the DOM (index.ts wraps it in hooks; tests and
// the bench drive it from Node). One Yjs document per page, kept in sync with the bot's server
// over one WebSocket with y-protocols' sync; writes made offline stay in the document and go
// out in the next sync; a write the server refuses is dropped, with the reason on the console.

export type SharedStatus = 'connecting' | 'live' | 'offline';
export interface SharedItem<T> {
  id: string;
  value: T;
  by: string;
  at: number;
}

/** The part of a browser WebSocket this uses (Node's `ws` has the same). */
export interface SocketLike {
  binaryType: string;
  readonly readyState: number;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
}
export type SocketFactory = new (url: string) => SocketLike;

export interface SharedClientOptions {
  /** ws:// or wss:// address of the app's `/__vibe/shared`. */
  url: string;
  /** This viewer's id: the `by` of what it writes. */
  viewerId: string;
  /** Default: the global WebSocket. */
  WebSocket?: SocketFactory;
  /** Default: console.warn. */
  warn?: (message: string) => void;
  now?: () => number;
  /** Backoff before the first reconnect (default 500 ms; it doubles up to 10 s). */
  retryMs?: number;
}

const LOCAL = Symbol('local');
const OPEN = 1;
/** Marks a key with no value, so hooks can fall back to their `initial` without a new object each time. */
export const MISSING = Symbol('missing');

export class SharedClient {
  doc = new Y.Doc();
  status: SharedStatus = 'connecting';
  /** The reason of the last refusal, if any. */
  refused?: string;
  private readonly listeners = new Set<() => void>();
  private readonly lists = new Map<string, { version: number; items: SharedItem<unknown>[] }>();
  private readonly versions = new Map<string, number>();
  private socket?: SocketLike;
  /** The document this connection syncs into: a fresh one after a refusal or a reset, swapped in once synced. */
  private syncing = this.doc;
  private epoch?: string;
  private offset = 0;
  /** Local changes go out as they happen once the page has sent its own sync step 2. */
  private sending = false;
  private attempt = 0;
  private retry?: ReturnType<typeof setTimeout>;
  private stopped = false;
  private readonly warn: (m: string) => void;
  private readonly now: () => number;

  constructor(private readonly opts: SharedClientOptions) {
    this.warn = opts.warn ?? ((m) => console.warn(m));
    this.now = opts.now ?? Date.now;
    this.bind(this.doc);
  }

  start(): this {
    this.connect();
    return this;
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retry);
    this.socket?.close(1000, 'page closed');
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  /** The server's clock, as well as this page can tell. */
  serverNow(): number {
    return Math.round(this.now() + this.offset);
  }

  /** A state key's value, or MISSING. Stable while it does not change (safe for useSyncExternalStore). */
  getState(key: string): unknown {
    const map = this.doc.getMap(STATE_ROOT);
    return map.has(key) ? map.get(key) : MISSING;
  }

  setState(key: string, next: unknown): void {
    if (!goodName(key)) return this.warn(`[@vibe/shared] "${String(key)}" is not a usable key (1-100 characters)`);
    const value = this.json(next);
    if (value === MISSING) return;
    this.doc.transact(() => this.doc.getMap(STATE_ROOT).set(key, value), LOCAL);
  }

  /** A list's items, oldest first; the same array until the list changes. */
  items(name: string): SharedItem<unknown>[] {
    const version = this.versions.get(LIST_PREFIX + name) ?? 0;
    const cached = this.lists.get(name);
    if (cached && cached.version === version) return cached.items;
    const items: [string, StoredItem][] = [];
    this.doc.getMap<StoredItem>(LIST_PREFIX + name).forEach((v, id) => {
      if (typeof v === 'object' && v !== null) items.push([id, v]);
    });
    items.sort(([a, x], [b, y]) => x.c - y.c || (a < b ? -1 : a > b ? 1 : 0));
    const out = items.map(([id, it]) => ({ id, value: it.v, by: it.by, at: it.at }));
    this.lists.set(name, { version, items: out });
    return out;
  }

  put(name: string, id: string, next: unknown): void {
    if (!goodName(name) || !goodName(id))
      return this.warn(
        `[@vibe/shared] list names and item ids are 1-100 characters (got "${String(name)}", "${String(id)}")`,
      );
    const v = this.json(next);
    if (v === MISSING) return;
    const map = this.doc.getMap<StoredItem>(LIST_PREFIX + name);
    const at = this.serverNow();
    const c = map.get(id)?.c ?? at;
    this.doc.transact(() => map.set(id, { v, by: this.opts.viewerId, at, c }), LOCAL);
  }

  add(name: string, value: unknown): string {
    const id = randomId();
    this.put(name, id, value);
    return id;
  }

  remove(name: string, id: string): void {
    if (!goodName(name) || !goodName(id)) return;
    const map = this.doc.getMap(LIST_PREFIX + name);
    if (map.has(id)) this.doc.transact(() => map.delete(id), LOCAL);
  }

  /** Plain JSON within the size limit, or MISSING (after a warning). */
  private json(value: unknown): unknown {
    const text = value === undefined ? undefined : JSON.stringify(value);
    if (text === undefined) {
      this.warn('[@vibe/shared] a value must be JSON (not undefined or a function); it was not saved');
      return MISSING;
    }
    if (new TextEncoder().encode(text).length > MAX_VALUE_BYTES) {
      this.warn(`[@vibe/shared] a value is larger than ${MAX_VALUE_BYTES / 1024} KB as JSON; it was not saved`);
      return MISSING;
    }
    return JSON.parse(text) as unknown;
  }

  private bind(doc: Y.Doc): void {
    doc.on('update', (update: Uint8Array, origin: unknown) => {
      if (origin === LOCAL && doc === this.syncing && this.sending)
        this.send(syncMessage((e) => sync.writeUpdate(e, update)));
    });
    doc.on('afterTransaction', (tr: Y.Transaction) => {
      if (doc !== this.doc) return;
      let changed = false;
      for (const type of tr.changed.keys())
        if (type._item === null) {
          const name = Y.findRootTypeKey(type);
          this.versions.set(name, (this.versions.get(name) ?? 0) + 1);
          changed = true;
        }
      if (changed) this.notify();
    });
  }

  private notify(): void {
    for (const l of [...this.listeners]) l();
  }

  private setStatus(status: SharedStatus): void {
    if (this.status === status) return;
    this.status = status;
    this.notify();
  }

  private connect(): void {
    if (this.stopped) return;
    const Socket = this.opts.WebSocket ?? (globalThis as unknown as { WebSocket: SocketFactory }).WebSocket;
    const ws = new Socket(this.opts.url);
    this.socket = ws;
    this.sending = false;
    ws.binaryType = 'arraybuffer';
    ws.onopen = () => this.send(syncMessage((e) => sync.writeSyncStep1(e, this.syncing)));
    ws.onmessage = (ev) => {
      if (!(ev.data instanceof ArrayBuffer)) return;
      try {
        this.receive(new Uint8Array(ev.data));
      } catch {
        ws.close(4400, 'a malformed message from the server');
      }
    };
    ws.onerror = () => undefined; // onclose follows
    ws.onclose = (ev) => {
      if (this.socket !== ws) return;
      this.socket = undefined;
      this.sending = false;
      this.closed(ev.code, ev.reason);
    };
  }

  private send(bytes: Uint8Array): void {
    if (this.socket?.readyState === OPEN) this.socket.send(bytes);
  }

  private receive(data: Uint8Array): void {
    const d = decoding.createDecoder(data);
    const kind = decoding.readVarUint(d);
    if (kind === MESSAGE.hello) {
      const hello = JSON.parse(decoding.readVarString(d)) as { time: number; epoch: string };
      this.offset = hello.time - this.now();
      // The data was reset since this page last synced: what it holds is gone.
      if (this.epoch !== undefined && hello.epoch !== this.epoch && this.syncing === this.doc) this.freshSync();
      this.epoch = hello.epoch;
      return;
    }
    if (kind !== MESSAGE.sync) return;
    const step = decoding.readVarUint(d);
    if (step === sync.messageYjsSyncStep1) {
      // The server's state vector: answer with what it lacks (this page's offline writes), then
      // send each change as it is made.
      const sv = decoding.readVarUint8Array(d);
      this.send(
        syncMessage((e) => {
          encoding.writeVarUint(e, sync.messageYjsSyncStep2);
          encoding.writeVarUint8Array(e, Y.encodeStateAsUpdate(this.syncing, sv));
        }),
      );
      this.sending = true;
      return;
    }
    Y.applyUpdate(this.syncing, decoding.readVarUint8Array(d), 'server');
    if (step === sync.messageYjsSyncStep2) {
      if (this.syncing !== this.doc) this.swap();
      this.attempt = 0;
      this.setStatus('live');
    }
  }

  /** Syncs the next connection into an empty document (the current one holds a refused write or reset data). */
  private freshSync(): void {
    if (this.syncing === this.doc) {
      this.syncing = new Y.Doc();
      this.bind(this.syncing);
    }
  }

  private swap(): void {
    const old = this.doc;
    this.doc = this.syncing;
    this.lists.clear();
    for (const name of this.versions.keys()) this.versions.set(name, (this.versions.get(name) ?? 0) + 1);
    old.destroy();
    this.notify();
  }

  private closed(code: number, reason: string): void {
    const refusal =
      code === 1009 ? 'the change was too large' : code >= 4000 && code < 5000 ? reason || `code ${code}` : undefined;
    if (refusal) {
      this.refused = refusal;
      this.warn(code === CLOSE.reset ? `[@vibe/shared] ${refusal}` : `[@vibe/shared] the server refused: ${refusal}`);
      // What this page holds may include the refused write: start over from the server's copy.
      if (code !== CLOSE.full) this.freshSync();
    }
    this.setStatus('offline');
    if (this.stopped) return;
    const base = this.opts.retryMs ?? 500;
    let delay = Math.min(10_000, base * 2 ** this.attempt++);
    if (code === CLOSE.reset) delay = 0;
    else if (code === CLOSE.full) delay = 10_000;
    else if (refusal) delay = Math.max(delay, 4 * base);
    this.retry = setTimeout(() => this.connect(), delay + Math.random() * base);
  }
}

function syncMessage(write: (e: encoding.Encoder) => void): Uint8Array {
  const e = encoding.createEncoder();
  encoding.writeVarUint(e, MESSAGE.sync);
  write(e);
  return encoding.toUint8Array(e);
}
