/// <reference lib="dom" />
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeAnthropic, type FakeAnthropic, type RecordedRequest } from '../fakes/anthropic/server.ts';
import { BotProcess } from '../support/bot-process.ts';
import { browserAvailable, collectPageErrors, launchChromium } from '../support/browser.ts';

// The whole pipeline as a person meets it: the real bot process (shell adapter, --json) ->
// the real Anthropic SDK against a fake Messages API -> a local Vite sandbox behind the
// gateway -> the link opened in headless Chromium.

const SECRETS = {
  ANTHROPIC_API_KEY: 'sk-ant-e2e-secret',
  SLACK_BOT_TOKEN: 'xoxb-e2e-secret',
  SLACK_SIGNING_SECRET: 'e2e-signing-secret',
  DISCORD_TOKEN: 'discord-e2e-secret',
  MODAL_TOKEN_ID: 'ak-e2e-secret',
  MODAL_TOKEN_SECRET: 'as-e2e-secret',
};

const APP_WITH_MISSING_IMPORT = `import { useState } from 'react';
import { TimerFace } from './TimerFace';

export default function App() {
  const [seconds] = useState(25 * 60);
  return (
    <main className="min-h-screen bg-slate-900 text-white p-8">
      <h1 className="text-3xl font-bold">Pomodoro Focus</h1>
      <TimerFace seconds={seconds} />
    </main>
  );
}
`;

const TIMER_FACE = `export function TimerFace({ seconds }: { seconds: number }) {
  const mm = String(Math.floor(seconds / 60)).padStart(2, '0');
  const ss = String(seconds % 60).padStart(2, '0');
  return <p data-testid="clock" className="text-6xl font-mono">{mm}:{ss}</p>;
}
`;

const lastUserText = (req: RecordedRequest): string => JSON.stringify(req.body.messages.at(-1));

describe.runIf(browserAvailable)('end to end: shell -> Claude (fake) -> local sandbox -> Chromium', () => {
  let fake: FakeAnthropic;
  let bot: BotProcess;
  let browser: Browser | undefined;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vibe-e2e-'));
    fake = await startFakeAnthropic();
    bot = new BotProcess({
      ...SECRETS,
      ANTHROPIC_BASE_URL: fake.url,
      VIBE_STORE_URL: `sqlite://${join(dir, 'vibe.sqlite')}`,
      VIBE_APPS_DIR: join(dir, 'apps'),
      VIBE_PORT: '0',
      LOG_LEVEL: 'info',
      VIBE_SANDBOX: 'local', // the Modal tokens above are only there to prove they never reach a sandbox
    });
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    const code = await bot?.stop();
    await fake?.close();
    rmSync(dir, { recursive: true, force: true });
    expect(code).toBe(0);
  });

  it('creates, repairs, serves, refines, and keeps secrets out of the sandbox', { timeout: 180_000 }, async () => {
    // 1st answer: App.tsx imports a file that does not exist, and a write outside src/ is tried.
    fake.script(
      {
        content: [
          { type: 'text', text: 'Writing the timer.' },
          {
            type: 'tool_use',
            name: 'str_replace_based_edit_tool',
            input: { command: 'create', path: 'src/App.tsx', file_text: APP_WITH_MISSING_IMPORT },
          },
          {
            type: 'tool_use',
            name: 'str_replace_based_edit_tool',
            input: { command: 'create', path: '../../x', file_text: 'escape' },
          },
          {
            type: 'tool_use',
            name: 'set_app_info',
            input: { title: 'Pomodoro Focus', summary: 'A 25-minute focus timer on a dark background.' },
          },
        ],
      },
      (req) => {
        const results = JSON.stringify(req.body.messages.at(-1));
        expect(results).toMatch(/path not allowed/);
        return { content: [{ type: 'text', text: 'Done.' }] };
      },
      // The check finds the missing module; the repair round adds it.
      (req) => {
        expect(lastUserText(req)).toMatch(/src\/App.tsx:2:\d+.*TimerFace/);
        return {
          content: [
            {
              type: 'tool_use',
              name: 'str_replace_based_edit_tool',
              input: { command: 'create', path: 'src/TimerFace.tsx', file_text: TIMER_FACE },
            },
          ],
        };
      },
      { content: [{ type: 'text', text: 'Added TimerFace.' }] },
    );
    const started = bot.events.length;
    bot.send('/vibe a pomodoro timer with a dark theme');
    const live = await bot.waitFor((e) => e.state === 'live' || e.state === 'failed', {
      from: started,
      timeoutMs: 90_000,
    });
    expect(live.state, JSON.stringify(live)).toBe('live');
    expect(live.version).toBe(1);
    expect(live.card?.title).toBe('Pomodoro Focus');
    // Status edits are throttled to one a second, so the repair stage may be coalesced away;
    // the third request (answered above only if it carried the check errors) proves the round.
    expect(fake.responderErrors).toEqual([]);
    expect(fake.requests).toHaveLength(4);
    // The refused path was never written anywhere.
    expect(existsSync(join(dir, 'x'))).toBe(false);
    expect(existsSync(join(dir, 'apps', 'x'))).toBe(false);
    expect(existsSync(join(dir, 'apps', live.app!, 'x'))).toBe(false);

    // The link shows the app in a real browser, with no console errors.
    // The posted link is the light, built view; the creator's live view is beside it at dev/.
    const page = await browser!.newPage();
    const errors = collectPageErrors(page);
    await page.goto(live.url!);
    await page.getByRole('heading', { name: 'Pomodoro Focus' }).waitFor({ timeout: 60_000 });
    expect(await page.getByTestId('clock').textContent()).toBe('25:00');
    const creator = await browser!.newPage();
    const creatorErrors = collectPageErrors(creator);
    await creator.goto(`${live.url!}dev/`);
    await creator.getByRole('heading', { name: 'Pomodoro Focus' }).waitFor({ timeout: 60_000 });
    await creator.evaluate(() => ((window as unknown as { sameDocument: boolean }).sameDocument = true));

    // The sandbox's processes carry none of the bot's secrets.
    const sandboxEnvs = processEnvironments().filter((env) => env.VIBE_BASE === `/apps/${live.app}/`);
    expect(sandboxEnvs.length).toBeGreaterThan(0);
    for (const env of sandboxEnvs) {
      const leaked = Object.keys(env).filter(
        (k) => /^(ANTHROPIC|SLACK|DISCORD|MODAL)_/.test(k) || Object.values(SECRETS).includes(env[k]!),
      );
      expect(leaked).toEqual([]);
    }

    // A reply in the thread refines the app; the open page changes.
    fake.script(
      (req) => {
        expect(lastUserText(req)).toContain('call it Deep Work');
        return {
          content: [
            {
              type: 'tool_use',
              name: 'str_replace_based_edit_tool',
              input: {
                command: 'str_replace',
                path: 'src/App.tsx',
                old_str: '>Pomodoro Focus<',
                new_str: '>Deep Work<',
              },
            },
          ],
        };
      },
      { content: [{ type: 'text', text: 'Renamed the heading.' }] },
    );
    const before = bot.events.length;
    bot.send('call it Deep Work instead');
    const refined = await bot.waitFor((e) => e.state === 'live' || e.state === 'failed', {
      from: before,
      timeoutMs: 60_000,
    });
    expect(refined.state, JSON.stringify(refined)).toBe('live');
    expect(refined).toMatchObject({ version: 2, app: live.app, type: 'update' });
    await page.getByRole('heading', { name: 'Deep Work' }).waitFor({ timeout: 30_000 }); // rebuilt, then reloaded itself
    await creator.getByRole('heading', { name: 'Deep Work' }).waitFor({ timeout: 15_000 });
    expect(await creator.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument)).toBe(true); // hot reload, not a reload
    expect(errors).toEqual([]);
    expect(creatorErrors).toEqual([]);
    await page.close();
    await creator.close();

    // The gallery lists it.
    const g = bot.events.length;
    bot.send({ text: '/vibe gallery' });
    const gallery = await bot.waitFor((e) => e.type === 'ephemeral' && e.card?.title === 'Apps in this channel', {
      from: g,
    });
    expect(JSON.stringify(gallery.card)).toContain('Pomodoro Focus');
  });
});

/** Environment of every process on the machine we may read (ours: the bot's sandboxes). */
function processEnvironments(): Record<string, string>[] {
  const out: Record<string, string>[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const raw = readFileSync(`/proc/${pid}/environ`, 'utf8');
      out.push(
        Object.fromEntries(
          raw
            .split('\0')
            .filter(Boolean)
            .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
        ),
      );
    } catch {
      // gone, or not ours to read
    }
  }
  return out;
}
