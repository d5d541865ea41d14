import type { FileMap } from '../ports/index.ts';
import { sourceHash } from './source-hash.ts';

/** A check begun before the build loop asks for it. */
type Early = 'check' | 'render';

/**
 * Per app, the source its sandbox holds (as last written) and, of exactly that source: its light
 * build (fetched once: the browser check opens it, the publish stores the same bytes), and the
 * type check and page load begun ahead while the model was still finishing its turn (each
 * answers the build loop once; a repair round or a later build of the same files checks
 * again). Writing the same source again keeps them; another source starts afresh.
 */
export class LightBuilds {
  private builds = new Map<
    string,
    { source: string; build?: Promise<Map<string, Uint8Array>>; early: Map<Early, Promise<unknown>> }
  >();

  /** Notes the source the app's sandbox now holds. */
  wrote(appId: string, files: FileMap): void {
    const source = sourceHash(files);
    if (this.builds.get(appId)?.source !== source) this.builds.set(appId, { source, early: new Map() });
  }

  /** Whether the app's sandbox holds exactly `files` (they were the last written). */
  holds(appId: string, files: FileMap): boolean {
    return this.builds.get(appId)?.source === sourceHash(files);
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
    kept.build ??= fetch();
    kept.build.catch(() => {
      if (this.builds.get(appId) === kept) kept.build = undefined; // asked again next time
    });
    return kept.build;
  }

  /** Begins `what` of `source` now, if that is the source last written and it is not begun yet. */
  ahead(appId: string, source: string, what: Early, make: () => Promise<unknown>): void {
    const kept = this.builds.get(appId);
    if (kept?.source !== source || kept.early.has(what)) return;
    const begun = make();
    begun.catch(() => undefined); // its taker sees the failure (and asks again)
    kept.early.set(what, begun);
  }

  /** `what` of the source last written, begun ahead (taken: it answers once; failed, `make()` answers), else `make()`. */
  early<T>(appId: string, what: Early, make: () => Promise<T>): Promise<T> {
    const begun = this.builds.get(appId)?.early.get(what) as Promise<T> | undefined;
    if (!begun) return make();
    this.builds.get(appId)!.early.delete(what);
    return begun.catch(() => make());
  }
}
