import type { FileMap } from '../ports/index.ts';
import { sourceHash } from './source-hash.ts';

/**
 * Per app, the source its sandbox holds (as last written) and, once asked for, that source's
 * light build: fetched once (the browser check), then reused (the publish), so the bytes the
 * check opened are the bytes published.
 */
export class LightBuilds {
  private builds = new Map<string, { source: string; files?: Promise<Map<string, Uint8Array>> }>();

  /** Notes the source the app's sandbox now holds (its build is not fetched yet). */
  wrote(appId: string, files: FileMap): void {
    this.builds.set(appId, { source: sourceHash(files) });
  }

  /** The source last written into the app's sandbox, if any. */
  source(appId: string): string | undefined {
    return this.builds.get(appId)?.source;
  }

  forget(appId: string): void {
    this.builds.delete(appId);
  }

  /** The build of `source` from `fetch`: kept when it is the source last written (not when the fetch fails). */
  get(appId: string, source: string, fetch: () => Promise<Map<string, Uint8Array>>): Promise<Map<string, Uint8Array>> {
    const kept = this.builds.get(appId);
    if (kept?.source !== source) return fetch();
    kept.files ??= fetch();
    kept.files.catch(() => {
      if (this.builds.get(appId) === kept) kept.files = undefined; // asked again next time
    });
    return kept.files;
  }
}
