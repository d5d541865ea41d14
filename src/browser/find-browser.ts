import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';

/** Where Chromium or Chrome is usually installed, in the order `auto` tries them. */
const KNOWN = [
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/usr/bin/google-chrome',
  '/usr/bin/google-chrome-stable',
  '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome',
  '/Applications/Chromium.app/Contents/MacOS/Chromium',
];

/**
 * The browser VIBE_BROWSER names: `off` -> none; a path -> that file (which must exist);
 * `auto` -> the first installed of the usual places, then playwright's own download.
 * Undefined means the runtime check is skipped (the caller warns once).
 */
export function findBrowser(setting: string): string | undefined {
  if (setting === 'off') return undefined;
  if (setting !== 'auto') return existsSync(setting) ? setting : undefined;
  const playwright = (() => {
    try {
      return chromium.executablePath();
    } catch {
      return undefined;
    }
  })();
  return [...KNOWN, ...(playwright ? [playwright] : [])].find((p) => existsSync(p));
}
