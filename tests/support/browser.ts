import { chromium, type Browser, type Page } from 'playwright-core';
import { CHROMIUM_ARGS } from '../../src/browser/check-browser.ts';
import { needs } from './needs.ts';

export const CHROMIUM = '/usr/bin/chromium';
/** Under CI a missing browser is a failure, never a skip. */
export const browserAvailable = needs('chromium');

/** `extraArgs`, e.g. --ignore-certificate-errors for tunnels with a certificate made by a test. */
export function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [...CHROMIUM_ARGS, ...extraArgs],
  });
}

/** Collects console errors and page errors, the things a person would see as "broken". */
export function collectPageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  return errors;
}
