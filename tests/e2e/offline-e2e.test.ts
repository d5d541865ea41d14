import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { settingsTable } from '../../src/config.ts';
import { configSchema } from '../../src/config-schema.ts';
import { BotProcess, ROOT } from '../support/bot-process.ts';
import { browserAvailable, collectPageErrors, launchChromium } from '../support/browser.ts';

// What a newcomer gets from `npm start` with no accounts: the offline sample model, a real
// sandbox, a link that works, and messages that say which model answered.

describe.runIf(browserAvailable)('end to end without an API key (offline sample model)', () => {
  let bot: BotProcess;
  let browser: Browser | undefined;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vibe-offline-'));
    bot = new BotProcess({
      VIBE_STORE_URL: `sqlite://${join(dir, 'vibe.sqlite')}`,
      VIBE_APPS_DIR: join(dir, 'apps'),
      VIBE_PORT: '0',
    });
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    const code = await bot?.stop();
    rmSync(dir, { recursive: true, force: true });
    expect(code).toBe(0);
  });

  it(
    'serves a sample app, says "offline sample model" everywhere, and refuses edits plainly',
    { timeout: 180_000 },
    async () => {
      bot.send('/vibe a pomodoro timer with a dark theme');
      const live = await bot.waitFor((e) => e.state === 'live' || e.state === 'failed', { timeoutMs: 90_000 });
      expect(live.state, JSON.stringify(live)).toBe('live');
      expect(bot.stderr.join('\n')).toMatch(/offline sample model/);

      const page = await browser!.newPage();
      const errors = collectPageErrors(page);
      await page.goto(live.url!);
      await page.locator('h1', { hasText: /pomodoro/i }).waitFor({ timeout: 30_000 });
      expect(errors).toEqual([]);
      await page.close();

      const before = bot.events.length;
      bot.send('make it blue');
      const refused = await bot.waitFor((e) => e.state === 'failed', { from: before });
      expect(refused.card?.text).toMatch(/offline sample model cannot edit/);
      for (const e of bot.events.filter((x) => x.card)) expect(e.card?.footer).toMatch(/offline sample model/);
    },
  );
});

describe('start-up', () => {
  it('exits with code 2 and lists every bad setting', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts', '--json'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', VIBE_PORT: 'x', VIBE_IDLE_TIMEOUT: 'never' },
      encoding: 'utf8',
      input: '',
      timeout: 30_000,
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('Invalid settings');
    expect(r.stderr).toContain('VIBE_PORT="x"');
    expect(r.stderr).toContain('VIBE_IDLE_TIMEOUT="never"');
  });

  // The settings page (docs/settings.md) is where `npm run docs:settings` writes the table.
  const settingsPage = () => readFileSync(join(ROOT, 'docs', 'settings.md'), 'utf8');

  it('documents every setting in docs/settings.md', () => {
    const page = settingsPage();
    const names = [...readFileSync(join(ROOT, 'src/config.ts'), 'utf8').matchAll(/^ {2}([A-Z][A-Z0-9_]+):/gm)].map(
      (m) => m[1],
    );
    expect(names.length).toBeGreaterThan(10);
    for (const n of new Set(names)) expect(page).toContain(`\`${n}\``);
  });

  it("has docs/settings.md's table exactly as generated from the schema's docs (npm run docs:settings)", () => {
    expect(settingsPage()).toContain(`-->\n${settingsTable()}\n<!-- settings:end -->`);
    for (const name of Object.keys(configSchema.shape)) expect(settingsTable()).toContain(`| \`${name}\` |`);
  });
});
