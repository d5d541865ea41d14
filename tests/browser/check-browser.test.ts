// The check's next page is made once a check is over, never during one: a new page's renderer
// process competed with the page being checked for the same two cores (a check took 0.7 to 1 s
// that way, 0.33 s with its page made in the quiet after the last one).
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { CheckBrowser } from '../../src/browser/check-browser.ts';
import { CHROMIUM } from '../support/browser.ts';
import { eventually } from '../support/eventually.ts';
import { needs } from '../support/needs.ts';

describe.runIf(needs('chromium'))("the check browser's spare page", () => {
  it('is made after a check, and the next check takes it', { timeout: 60_000 }, async () => {
    const chromium = new CheckBrowser({ executablePath: CHROMIUM, logger: pino({ level: 'silent' }) });
    try {
      const browser = await chromium.launch();
      const first = await chromium.takeFresh(browser);
      await new Promise((r) => setTimeout(r, 500));
      expect(browser.contexts()).toEqual([first.context]); // nothing is made beside a check
      await first.context.close();
      chromium.prepareSpare(browser);
      await eventually(() => expect(browser.contexts()).toHaveLength(1));
      const [spare] = browser.contexts();
      await eventually(async () => expect(spare!.pages()).toHaveLength(1));
      const second = await chromium.takeFresh(browser);
      expect(second.context).toBe(spare);
      await new Promise((r) => setTimeout(r, 500));
      expect(browser.contexts()).toEqual([spare]);
    } finally {
      await chromium.close();
    }
  });

  it(
    'a finished check is closed behind its answer, then the spare is made; close waits for both',
    { timeout: 60_000 },
    async () => {
      const chromium = new CheckBrowser({ executablePath: CHROMIUM, logger: pino({ level: 'silent' }) });
      let closed = false;
      try {
        const browser = await chromium.launch();
        const check = await chromium.takeFresh(browser);
        check.context.on('close', () => (closed = true));
        chromium.retire(check.context, browser); // returns at once
        expect(closed).toBe(false);
        await eventually(() => expect(closed).toBe(true));
        await eventually(() => expect(browser.contexts()).toHaveLength(1)); // the spare, made after
        expect(browser.contexts()[0]).not.toBe(check.context);
        const next = await chromium.takeFresh(browser);
        chromium.retire(next.context, browser);
      } finally {
        await chromium.close();
      }
      expect(closed).toBe(true);
    },
  );
});
