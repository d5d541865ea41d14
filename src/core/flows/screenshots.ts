import { createHash } from 'node:crypto';
import type { AppStore } from '../ports/index.ts';

/** How long an app's newest screenshot is kept after its last new one (a link card of a year-old app has none). */
const KEPT_MS = 365 * 24 * 3600_000;

interface ShotNote {
  version: number;
  /** The PNG's blob key (its sha256). */
  hash: string;
}

/**
 * The newest screenshot of each app, for what shows an app outside its thread (link cards, the
 * home tab): the PNG is a content-addressed blob (`AppStore.blobs`), a note says which is newest.
 */
export class Screenshots {
  constructor(private readonly store: AppStore) {}

  /** Keeps `png` as version `version`'s picture, unless a newer version's is kept already. */
  async keep(appId: string, version: number, png: Uint8Array): Promise<void> {
    const hash = createHash('sha256').update(png).digest('hex');
    await this.store.blobs.put(hash, png);
    const kept = await this.store.getNote<ShotNote>(key(appId));
    if (kept && kept.version > version) return;
    await this.store.putNote<ShotNote>(key(appId), { version, hash }, KEPT_MS);
  }

  /** The newest kept picture of the app and the version it shows; undefined when there is none. */
  async latest(appId: string): Promise<{ version: number; png: Uint8Array } | undefined> {
    const kept = await this.store.getNote<ShotNote>(key(appId));
    if (!kept) return undefined;
    const png = await this.store.blobs.get(kept.hash);
    return png ? { version: kept.version, png } : undefined;
  }
}

const key = (appId: string) => `screenshot:${appId}`;
