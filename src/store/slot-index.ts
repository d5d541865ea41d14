import type Keyv from 'keyv';
import type { AppRecord, Page } from '../core/ports/index.ts';
import { decodeCursor, encodeCursor } from './cursor.ts';
import type { IndexName, StoreKeys } from './keys.ts';
import type { StorePrimitives } from './primitives.ts';

interface Slotted {
  slot: number;
  app: AppRecord;
}

/** Loads apps by id in one batch; undefined for missing ones. */
export type LoadApps = (ids: string[]) => Promise<(AppRecord | undefined)[]>;

const MAX_PAGE = 100;
const MAX_BATCH = 64;

/**
 * A newest-first list of app ids (a channel's apps, a user's apps) without scanning keys: an
 * atomic counter hands out slot numbers, each slot key holds one app id and is written once.
 * Pages read slots in bounded batches from a cursor, skipping deleted apps and empty slots
 * (a writer that got a number but has not written yet, or crashed).
 */
export class SlotIndex {
  constructor(
    private readonly keyv: Keyv,
    private readonly primitives: StorePrimitives,
    private readonly keys: StoreKeys,
    private readonly loadApps: LoadApps,
  ) {}

  async append(index: IndexName, appId: string): Promise<void> {
    const n = await this.primitives.incr(this.keys.indexSeq(index));
    await this.keyv.set(this.keys.indexSlot(index, n), appId);
  }

  async page(index: IndexName, pageSize: number, cursor?: string): Promise<Page<AppRecord>> {
    const size = Math.min(MAX_PAGE, Math.max(1, Math.floor(pageSize)));
    const [top = 0] = await this.primitives.read([this.keys.indexSeq(index)]);
    const at = cursor === undefined ? undefined : decodeCursor(cursor);

    if (at?.dir === 'newer') {
      const up = await this.scan(index, at.slot, 1, size + 1, top);
      // Fewer than a page above the cursor: that is the first page, shown whole.
      if (up.length > size) {
        const items = up.slice(0, size).reverse();
        return {
          items: items.map((s) => s.app),
          prev: encodeCursor({ dir: 'newer', slot: up[size]!.slot }),
          next: await this.olderCursor(index, items, top),
        };
      }
    }

    const from = at?.dir === 'older' ? Math.min(at.slot, top) : top;
    const down = await this.scan(index, from, -1, size + 1, top);
    const items = down.slice(0, size);
    const last = items.at(-1);
    const page: Page<AppRecord> = { items: items.map((s) => s.app) };
    if (down.length > size && last) page.next = encodeCursor({ dir: 'older', slot: last.slot - 1 });
    if (at?.dir === 'older') {
      // A page reached by paging: is anything live above it?
      const above = (items[0]?.slot ?? from) + 1;
      const newer = await this.scan(index, above, 1, 1, top);
      if (newer.length > 0) page.prev = encodeCursor({ dir: 'newer', slot: above });
    }
    return page;
  }

  private async olderCursor(index: IndexName, items: Slotted[], top: number): Promise<string | undefined> {
    const below = (items.at(-1)?.slot ?? 1) - 1;
    const older = await this.scan(index, below, -1, 1, top);
    return older.length > 0 ? encodeCursor({ dir: 'older', slot: below }) : undefined;
  }

  /** Live apps from slot `from` stepping by `dir`, until `want` are found or the index ends. */
  private async scan(index: IndexName, from: number, dir: 1 | -1, want: number, top: number): Promise<Slotted[]> {
    const found: Slotted[] = [];
    let slot = from;
    while (found.length < want && slot >= 1 && slot <= top) {
      const batch = Math.min(MAX_BATCH, Math.max(8, 2 * (want - found.length)));
      const slots: number[] = [];
      for (let i = 0; i < batch && slot >= 1 && slot <= top; i++, slot += dir) slots.push(slot);
      const ids = await this.keyv.getMany<string>(slots.map((n) => this.keys.indexSlot(index, n)));
      const present = slots.flatMap((n, i) => (typeof ids[i] === 'string' ? [{ slot: n, id: ids[i] as string }] : []));
      const apps = await this.loadApps(present.map((p) => p.id));
      present.forEach((p, i) => {
        const app = apps[i];
        if (app && !app.deleted && found.length < want) found.push({ slot: p.slot, app });
      });
    }
    return found;
  }
}
