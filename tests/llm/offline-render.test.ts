import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEMPLATE_DIR } from '../../src/template.ts';
import type { SandboxHandle } from '../../src/core/ports/index.ts';
import { loadTemplate } from '../../src/llm/system-prompt.ts';
import { ALL_SAMPLES } from '../../src/llm/samples/all-samples.ts';
import { LocalSandboxProvider } from '../../src/sandbox/local.ts';
import { browserAvailable, collectPageErrors, launchChromium } from '../support/browser.ts';

// Every offline sample, written into one real local sandbox in turn, renders its title in an
// <h1>, survives a click, and logs no console error. Never skipped under CI: the offline model
// is what a fresh checkout shows first.
describe.runIf(browserAvailable)('the samples render in a real sandbox', () => {
  let browser: Browser | undefined;
  let provider: LocalSandboxProvider | undefined;
  let handle: SandboxHandle | undefined;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vibe-samples-'));
    provider = new LocalSandboxProvider({ appsDir: dir, templateDir: TEMPLATE_DIR, logger: pino({ level: 'silent' }) });
    handle = await provider.boot('samples');
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await provider?.stopAll();
    rmSync(dir, { recursive: true, force: true });
  });

  it.each(ALL_SAMPLES.map((s) => [s.id, s] as const))(
    '%s shows its title with no console errors',
    async (_id, sample) => {
      const { templateFiles } = await loadTemplate(TEMPLATE_DIR);
      await provider!.write(handle!.id, { ...templateFiles, ...sample.files });
      expect(await provider!.check(handle!.id)).toEqual([]);
      const page = await browser!.newPage();
      const errors = collectPageErrors(page);
      try {
        await page.goto(handle!.url);
        await expect.poll(() => page.locator('h1').first().textContent(), { timeout: 30_000 }).toContain(sample.title);
        await page.waitForTimeout(300); // let effects, timers and charts run once
        await page.locator('button').first().click();
        await page.waitForTimeout(200);
        expect(errors).toEqual([]);
      } finally {
        await page.close();
      }
    },
  );
});
