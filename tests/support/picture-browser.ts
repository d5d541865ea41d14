import type { RenderChecker, RenderResult } from '../../src/core/ports/index.ts';
import { makePng } from './png.ts';

/**
 * A stand-in for the headless browser (the real one has its own tests): every page it opens
 * "renders" cleanly, and its screenshot is a real PNG whose width tells the renders apart (the
 * first is 101 pixels wide, the next 102, …), so a test can say which version's picture it got.
 */
export class PictureBrowser implements RenderChecker {
  readonly opened: string[] = [];

  async render(url: string): Promise<RenderResult> {
    this.opened.push(url);
    return { errors: [], screenshot: makePng(100 + this.opened.length, 40, this.opened.length), ms: 1 };
  }

  async close(): Promise<void> {}
}
