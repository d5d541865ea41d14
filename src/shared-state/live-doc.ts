import * as Y from 'yjs';
import type { Logger } from '../core/ports/index.ts';
import type { SharedLog, SharedLogRead } from '../core/ports/shared.ts';
import { CLOSE, type SharedLimits } from './limits.ts';
import { rootOf } from './layout.ts';
import { vetUpdate, type Refused } from './vet-update.ts';

/** What a LiveDoc tells the pages connected to it. */
export interface DocPeer {
  /** A change made elsewhere (another page, another process). */
  update(update: Uint8Array): void;
  close(code: number, reason: string): void;
}

/** A message between bot processes about one app's state (JSON on the store's bus). */
export type BusMessage =
  | { a: string; o: string; n: number; e: string; u?: string }
  | { a: string; o: string; reset: string }
  | { a: string; o: string; gone: true };

/** Updates since the last compaction that make this process compact the log. */
const COMPACT_EVERY = 100;
/** Base64 of an update longer than this is not put in a bus message (PostgreSQL's NOTIFY limit): the receiver reads the log. */
const INLINE_MAX = 6000;
const REMOTE = Symbol('remote');

export interface LiveDocDeps {
  appId: string;
  /** Undefined for a scratch copy: nothing is stored or sent to other processes. */
  log?: SharedLog;
  limits: SharedLimits;
  logger: Pick<Logger, 'warn'>;
  now: () => number;
  /** This process's id on the bus. */
  processId: string;
}

/**
 * One app's shared state in this process while pages use it: a Yjs document loaded from the
 * log, every accepted viewer update applied, told to the other pages here at once, then
 * appended to the log and published to the other processes (in order, one append at a time).
 * Updates from other processes arrive through `remote` (the bus) and `catchUp` (the log).
 */
export class LiveDoc {
  readonly doc = new Y.Doc();
  readonly peers = new Set<DocPeer>();
  epoch: string;
  private gen: number;
  private seq: number;
  /** Bytes of the state, at most (exact after each measure, plus what came since). */
  private bytesBound = 0;
  private appends: Promise<void> = Promise.resolve();
  private sinceCompact = 0;
  private compacting?: Promise<void>;
  /** A write that could not be stored: the next compaction stores the whole state from memory. */
  private unsaved = false;
  /** No page may connect any more (the owner loads a new document for the next one). */
  closed = false;
  /** What this document holds must not be stored again (the data was reset, or the app deleted). */
  private stale = false;

  private constructor(
    private readonly deps: LiveDocDeps,
    read: SharedLogRead,
  ) {
    this.epoch = read.epoch;
    this.gen = read.gen;
    this.seq = read.seq;
    for (const u of read.updates) Y.applyUpdate(this.doc, u, REMOTE);
    this.measure();
    this.doc.on('update', (update: Uint8Array, origin: unknown) => {
      for (const p of this.peers) if (p !== origin) p.update(update);
    });
  }

  static async load(deps: LiveDocDeps): Promise<LiveDoc> {
    const read = deps.log
      ? await deps.log.read(deps.appId)
      : { epoch: 'scratch', gen: 0, seq: 0, updates: [] as Uint8Array[] };
    return new LiveDoc(deps, read);
  }

  /** A copy for the browser check: the same state, under an epoch of its own, stored nowhere. */
  scratchCopy(processId: string): LiveDoc {
    return new LiveDoc(
      { ...this.deps, log: undefined, processId },
      { epoch: 'scratch', gen: 0, seq: 0, updates: [Y.encodeStateAsUpdate(this.doc)] },
    );
  }

  /**
   * A viewer's update: checked (vet-update.ts, then the limits), applied and stored; or refused
   * with the reason, and nothing of it kept. `take` spends the connection's write allowance.
   */
  accept(update: Uint8Array, from: DocPeer, take: (writes: number) => boolean): Refused | undefined {
    const { limits, now } = this.deps;
    if (this.closed) return { ok: false, code: CLOSE.gone, reason: 'this app is gone' };
    const verdict = vetUpdate(this.doc, update, { valueBytes: limits.valueBytes, now: now() });
    if (!verdict.ok) return verdict;
    if (verdict.writes === 0) return undefined; // a sync with nothing new
    if (!take(verdict.writes))
      return {
        ok: false,
        code: CLOSE.rateLimited,
        reason: `too many writes from this page (at most ${limits.writesPerMinute} a minute); wait a moment`,
      };
    if (verdict.newItems > 0 && this.itemCount() + verdict.newItems > limits.listItems)
      return { ok: false, code: CLOSE.tooLarge, reason: `the app's lists are full (${limits.listItems} items)` };
    if (this.bytesBound + update.length > limits.stateBytes && this.measure() + update.length > limits.stateBytes)
      return {
        ok: false,
        code: CLOSE.tooLarge,
        reason: `the app's shared data is full (${Math.round(limits.stateBytes / 1024)} KB)`,
      };
    Y.applyUpdate(this.doc, update, from);
    this.bytesBound += update.length;
    this.store(update);
    return undefined;
  }

  /** An update from another process (already checked there). */
  remote(update: Uint8Array): void {
    Y.applyUpdate(this.doc, update, REMOTE);
    this.bytesBound += update.length;
  }

  /** A message from the bus about this app. */
  onMessage(m: BusMessage, catchUp: () => void): void {
    if ('gone' in m) return this.end(CLOSE.gone, 'this app was deleted', true);
    if ('reset' in m) return m.reset === this.epoch ? undefined : this.resetTo(m.reset);
    if (m.e !== this.epoch || m.u === undefined) return catchUp();
    this.remote(Buffer.from(m.u, 'base64'));
  }

  /** Reads what the log holds since the last read (other processes' writes, if a message was missed). */
  async catchUp(): Promise<void> {
    const log = this.deps.log;
    if (!log || this.closed) return;
    const read = await log.read(this.deps.appId, { gen: this.gen, seq: this.seq, epoch: this.epoch });
    if (this.closed) return;
    if (read.epoch !== this.epoch) this.resetTo(read.epoch);
    for (const u of read.updates) this.remote(u);
    this.gen = read.gen;
    this.seq = Math.max(this.seq, read.seq);
  }

  /**
   * The data was reset (here or elsewhere): every page starts again from empty. A document
   * cannot be emptied in place, so this one is finished; the server loads a new one.
   */
  resetTo(epoch: string): void {
    this.epoch = epoch;
    this.end(CLOSE.reset, 'the app data was reset', true);
  }

  /** Closes every page with `code`; `stale`: nothing of it is stored again (reset, deleted). */
  end(code: number, reason: string, stale = false): void {
    this.closed = true;
    if (stale) this.stale = true;
    for (const p of [...this.peers]) p.close(code, reason);
    this.peers.clear();
  }

  /** Resolves once the appends under way are done. */
  settled(): Promise<void> {
    return this.appends;
  }

  itemCount(): number {
    let n = 0;
    for (const [name, type] of this.doc.share)
      if (rootOf(name)?.kind === 'list') for (const item of type._map.values()) if (!item.deleted) n++;
    return n;
  }

  /** The state's exact encoded size (also resets the bound the limit check uses). */
  measure(): number {
    this.bytesBound = Y.encodeStateAsUpdate(this.doc).length;
    return this.bytesBound;
  }

  /** Waits for the appends under way, then compacts if anything was written since the last compaction. */
  async flush(): Promise<void> {
    await this.appends;
    if (!this.stale && (this.sinceCompact > 0 || this.unsaved)) await this.compact();
  }

  private store(update: Uint8Array): void {
    const { log, appId, processId, logger } = this.deps;
    if (!log || this.stale) return;
    const epoch = this.epoch;
    this.appends = this.appends.then(async () => {
      try {
        const n = await log.append(appId, epoch, update);
        const b64 = Buffer.from(update).toString('base64');
        const message: BusMessage = {
          a: appId,
          o: processId,
          n,
          e: epoch,
          ...(b64.length <= INLINE_MAX ? { u: b64 } : {}),
        };
        await log.bus.publish(JSON.stringify(message)).catch((err: unknown) => {
          logger.warn({ err, appId }, 'shared state: a change was stored but not announced to other processes');
        });
        if (++this.sinceCompact >= COMPACT_EVERY) void this.compact();
      } catch (err) {
        this.unsaved = true;
        logger.warn(
          { err, appId },
          'shared state: a change could not be stored; it is kept in memory and stored later',
        );
      }
    });
  }

  /** Folds the log into one snapshot that also holds this process's state (so a failed append is stored now). */
  compact(): Promise<void> {
    const log = this.deps.log;
    if (!log) return Promise.resolve();
    this.compacting ??= (async () => {
      try {
        this.sinceCompact = 0;
        const done = await log.compact(this.deps.appId, (read) => this.merge(read));
        if (done) this.unsaved = false;
      } catch (err) {
        this.deps.logger.warn({ err, appId: this.deps.appId }, 'shared state: compaction failed');
      } finally {
        this.compacting = undefined;
      }
    })();
    return this.compacting;
  }

  private merge(read: SharedLogRead): Uint8Array {
    const d = new Y.Doc();
    for (const u of read.updates) Y.applyUpdate(d, u);
    if (read.epoch === this.epoch && !this.stale) Y.applyUpdate(d, Y.encodeStateAsUpdate(this.doc));
    const merged = Y.encodeStateAsUpdate(d);
    d.destroy();
    return merged;
  }
}
