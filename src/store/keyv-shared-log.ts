import { randomBytes } from 'node:crypto';
import type Keyv from 'keyv';
import type { SharedBus, SharedLog, SharedLogRead } from '../core/ports/shared.ts';
import type { StoreKeys } from './keys.ts';
import type { StorePrimitives } from './primitives.ts';

/**
 * Where the log starts: updates `from` on, after snapshot `gen` when `snap` (a new epoch per
 * reset; updates written under another epoch are ignored).
 */
interface Head {
  epoch: string;
  gen: number;
  from: number;
  snap: boolean;
}

/** One stored update: its epoch and its bytes in base64. */
interface Stored {
  e: string;
  u: string;
}

const FIRST: Head = { epoch: 'initial', gen: 0, from: 1, snap: false };
/** A number taken but never written this far behind the newest is a crashed writer's: stepped over. */
const GAP_UPDATES = 1000;
/** Keys read or deleted per Keyv call. */
const BATCH = 500;
const LEASE_MS = 30_000;

/**
 * An app's shared state in the store: each accepted update is appended under a number from an
 * atomic counter (so processes never overwrite each other), and `compact` folds the log into a
 * snapshot under a lease. Readers read the head, the snapshot and the updates, then the head
 * again: a compaction or reset in between makes them read again, so nothing is missed.
 */
export class KeyvSharedLog implements SharedLog {
  constructor(
    private readonly keyv: Keyv,
    private readonly primitives: StorePrimitives,
    private readonly keys: StoreKeys,
    readonly bus: SharedBus,
  ) {}

  async read(appId: string, after?: { gen: number; seq: number; epoch: string }): Promise<SharedLogRead> {
    for (let attempt = 0; attempt < 10; attempt++) {
      const head = await this.head(appId);
      const seq = await this.seq(appId);
      const full = !after || after.gen !== head.gen || after.epoch !== head.epoch;
      const start = full ? head.from : Math.max(head.from, after.seq + 1);
      const snapshot =
        full && head.snap ? await this.keyv.get<string>(this.keys.shared(appId, `s:${head.gen}`)) : undefined;
      const records = await this.getRange(appId, start, seq);
      const again = await this.head(appId);
      // A compaction or reset ran meanwhile (it may have deleted what this read missed): again.
      if (again.gen !== head.gen || again.epoch !== head.epoch) continue;
      if (full && head.snap && typeof snapshot !== 'string') continue;
      const updates = records.flatMap(([, r]) => (r.e === head.epoch ? [Buffer.from(r.u, 'base64')] : []));
      if (typeof snapshot === 'string') updates.unshift(Buffer.from(snapshot, 'base64'));
      // A number taken but not written yet is read again next time: `seq` stops before it.
      return { epoch: head.epoch, gen: head.gen, seq: readUpTo(records, start, seq), updates };
    }
    throw new Error(`the shared state of ${appId} kept changing while it was read`);
  }

  async append(appId: string, epoch: string, update: Uint8Array): Promise<number> {
    const n = await this.primitives.incr(this.keys.shared(appId, 'seq'));
    const record: Stored = { e: epoch, u: Buffer.from(update).toString('base64') };
    await this.keyv.set(this.keys.shared(appId, `u:${n}`), record);
    return n;
  }

  async compact(appId: string, merge: (read: SharedLogRead) => Uint8Array): Promise<boolean> {
    return (
      (await this.leased(appId, false, async () => {
        const head = await this.head(appId);
        const seq = await this.seq(appId);
        const snapshot = head.snap ? await this.keyv.get<string>(this.keys.shared(appId, `s:${head.gen}`)) : undefined;
        const records = await this.getRange(appId, head.from, seq);
        // An update whose number was taken but not yet written (its writer is between the two)
        // stays in the log: the next read or compaction picks it up.
        const from = readUpTo(records, head.from, seq) + 1;
        const updates = records.flatMap(([, r]) => (r.e === head.epoch ? [Buffer.from(r.u, 'base64')] : []));
        if (typeof snapshot === 'string') updates.unshift(Buffer.from(snapshot, 'base64'));
        const merged = merge({ epoch: head.epoch, gen: head.gen, seq, updates });
        const gen = head.gen + 1;
        // The new snapshot, then the head that points at it, then the old parts: a reader that
        // read the old head sees the head change and reads again.
        await this.keyv.set(this.keys.shared(appId, `s:${gen}`), Buffer.from(merged).toString('base64'));
        await this.setHead(appId, { epoch: head.epoch, gen, from, snap: true });
        await this.deleteKeys([
          ...records.map(([n]) => this.keys.shared(appId, `u:${n}`)),
          ...(head.snap ? [this.keys.shared(appId, `s:${head.gen}`)] : []),
        ]);
        return true;
      })) ?? false
    );
  }

  async reset(appId: string): Promise<string> {
    const epoch = randomBytes(9).toString('base64url');
    const done = await this.leased(appId, true, async () => {
      const head = await this.head(appId);
      const seq = await this.seq(appId);
      await this.setHead(appId, { epoch, gen: head.gen + 1, from: seq + 1, snap: false });
      await this.deleteAll(appId, head, seq);
      return epoch;
    });
    if (!done) throw new Error(`the shared state of ${appId} is busy; try again`);
    return done;
  }

  async remove(appId: string): Promise<void> {
    const done = await this.leased(appId, true, async () => {
      const head = await this.head(appId);
      await this.deleteAll(appId, head, await this.seq(appId));
      await this.keyv.delete(this.keys.shared(appId, 'head'));
      return true;
    });
    if (!done) throw new Error(`the shared state of ${appId} is busy; try again`);
  }

  private async head(appId: string): Promise<Head> {
    return (await this.keyv.get<Head>(this.keys.shared(appId, 'head'))) ?? FIRST;
  }

  private async setHead(appId: string, head: Head): Promise<void> {
    await this.keyv.set(this.keys.shared(appId, 'head'), head);
  }

  private async seq(appId: string): Promise<number> {
    const [n = 0] = await this.primitives.read([this.keys.shared(appId, 'seq')]);
    return n;
  }

  /** The updates numbered `from`..`to` that are there, in order. */
  private async getRange(appId: string, from: number, to: number): Promise<[number, Stored][]> {
    const out: [number, Stored][] = [];
    for (let start = from; start <= to; start += BATCH) {
      const numbers = Array.from({ length: Math.min(BATCH, to - start + 1) }, (_, i) => start + i);
      const values = await this.keyv.getMany<Stored>(numbers.map((n) => this.keys.shared(appId, `u:${n}`)));
      values.forEach((v, i) => {
        if (v && typeof v.u === 'string' && typeof v.e === 'string') out.push([numbers[i]!, v]);
      });
    }
    return out;
  }

  private async deleteAll(appId: string, head: Head, seq: number): Promise<void> {
    const updates = await this.getRange(appId, head.from, seq);
    await this.deleteKeys([
      ...updates.map(([n]) => this.keys.shared(appId, `u:${n}`)),
      ...(head.snap ? [this.keys.shared(appId, `s:${head.gen}`)] : []),
    ]);
  }

  private async deleteKeys(keys: string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += BATCH) await this.keyv.deleteMany(keys.slice(i, i + BATCH));
  }

  /**
   * Runs `task` holding the app's shared-state lease (compaction, reset and removal exclude each
   * other); undefined when it is held elsewhere (after waiting up to 10 s when `wait`).
   */
  private async leased<T>(appId: string, wait: boolean, task: () => Promise<T>): Promise<T | undefined> {
    const key = this.keys.lease(`shared:${appId}`);
    const token = String(await this.primitives.incr(this.keys.leaseSeq()));
    const deadline = Date.now() + (wait ? 10_000 : 0);
    while (!(await this.primitives.lease(key, token, LEASE_MS))) {
      if (Date.now() >= deadline) return undefined;
      await new Promise((r) => setTimeout(r, 50));
    }
    try {
      return await task();
    } finally {
      await this.primitives.releaseLease(key, token);
    }
  }
}

/**
 * The highest number up to which every update from `start` on was read, save numbers so far
 * behind `seq` that their writer must have died (GAP_UPDATES).
 */
function readUpTo(records: [number, Stored][], start: number, seq: number): number {
  const present = new Set(records.map(([n]) => n));
  for (let n = Math.max(start, seq - GAP_UPDATES + 1); n <= seq; n++) if (!present.has(n)) return n - 1;
  return seq;
}
