import type Keyv from 'keyv';
import type { AppRecord } from '../core/ports/index.ts';
import type { StoreKeys } from './keys.ts';
import type { StorePrimitives } from './primitives.ts';

/** What sits under `app:<id>`: the counters (latest version, deleted, last activity) live apart. */
export type StoredApp = Omit<AppRecord, 'latestVersion' | 'deleted' | 'publishedVersion'>;

/** The record's fields updateApp sets, each under a key of its own. */
export const UPDATABLE = ['title', 'summary', 'sandboxId', 'sandboxUrl', 'threadId'] as const;

/** App records plus their counters and separately stored fields: two batched reads whatever the number of ids. */
export async function loadAppRecords(
  keyv: Keyv,
  primitives: StorePrimitives,
  keys: StoreKeys,
  ids: string[],
): Promise<(AppRecord | undefined)[]> {
  if (ids.length === 0) return [];
  const counterKeys = ids.flatMap((id) => [keys.latest(id), keys.deleted(id), keys.touched(id), keys.published(id)]);
  const fieldKeys = ids.flatMap((id) => UPDATABLE.map((f) => keys.appField(id, f)));
  const [records, fieldValues, counters] = await Promise.all([
    keyv.getMany<StoredApp>(ids.map((id) => keys.app(id))),
    keyv.getMany<string | null>(fieldKeys),
    primitives.read(counterKeys),
  ]);
  return ids.map((_, i) => {
    const record = records[i];
    if (!record) return undefined;
    const stored: StoredApp = { ...record };
    UPDATABLE.forEach((f, k) => {
      const v = fieldValues[i * UPDATABLE.length + k];
      if (v === null) delete stored[f];
      else if (typeof v === 'string') stored[f] = v;
    });
    const [latest = 0, deleted = 0, touched = 0, published = 0] = counters.slice(4 * i, 4 * i + 4);
    const app: AppRecord = { ...stored, latestVersion: latest, updatedAt: Math.max(stored.updatedAt, touched) };
    if (deleted > 0) app.deleted = true;
    if (published > 0) app.publishedVersion = published;
    return app;
  });
}
