// The browser port: an app opened the way a viewer opens it (src/browser/).

import type { CheckError } from './sandbox.ts';
import type { ScratchState } from './shared.ts';

/** What loading an app in a real browser found: errors (empty = it rendered) and a picture of it. */
export interface RenderResult {
  errors: CheckError[];
  /** PNG of the page as it settled; absent when the page never loaded or the capture failed. */
  screenshot?: Uint8Array;
  ms: number;
}

/**
 * Opens a URL the way a viewer would (headless Chromium in production; see src/browser/).
 * `sharedState`: the page's `@vibe/shared` socket goes to this scratch copy, never the real data.
 * `files`: a production build to answer every request under `url` with, from memory (nothing
 * under it reaches the network); its `.map` files are the bot's alone, to map stack frames to src/.
 */
export interface RenderChecker {
  /** Undefined when the check could not be made (no working browser): the version counts as unchecked. */
  render(
    url: string,
    opts?: { sharedState?: ScratchState; files?: Map<string, Uint8Array> },
  ): Promise<RenderResult | undefined>;
  /** Starts the browser ahead of the first check (never throws: a browser that will not start is the first check's to report). */
  warm?(): Promise<void>;
  close(): Promise<void>;
}
