import type { FileMap } from '../ports/index.ts';
import { sourceHash } from './source-hash.ts';

/** What is learned of one source, once: its light build, its type check, its page load. */
type Finding = 'build' | 'check' | 'render';

/**
 * Per app, the source its sandbox holds (as last written) and what was learned of exactly that
 * source: its light build (fetched once: the browser check opens it, the publish stores the same
 * bytes), its type check and its page load (so a check begun while the model was still finishing
 * its turn answers the build loop when the turn ends with the same files). Writing the same
 * source again keeps them; another source starts afresh.
 */
export class LightBuilds {
  private builds = new Map<string, { source: string; found: Map<Finding, Promise<unknown>> }>();

  /** Notes the source the app's sandbox now holds. */
  wrote(appId: string, files: FileMap): void {
    const source = sourceHash(files);
    if (this.builds.get(appId)?.source !== source) this.builds.set(appId, { source, found: new Map() });
  }

  /** The source last written into the app's sandbox, if any. */
  source(appId: string): string | undefined {
    return this.builds.get(appId)?.source;
  }

  forget(appId: string): void {
    this.builds.delete(appId);
  }

  /**
   * `make()`'s answer about `source`: made once while it is the source last written (not kept
   * when it fails, so it is asked again), made afresh for any other.
   */
  once<T>(appId: string, source: string, what: Finding, make: () => Promise<T>): Promise<T> {
    const kept = this.builds.get(appId);
    if (kept?.source !== source) return make();
    const known = kept.found.get(what) as Promise<T> | undefined;
    if (known) return known;
    const made = make();
    kept.found.set(what, made);
    made.catch(() => {
      if (kept.found.get(what) === made) kept.found.delete(what);
    });
    return made;
  }
}
