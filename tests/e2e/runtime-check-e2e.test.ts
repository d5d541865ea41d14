/// <reference lib="dom" />
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeAnthropic, type FakeAnthropic, type RecordedRequest } from '../fakes/anthropic/server.ts';
import { BotProcess } from '../support/bot-process.ts';
import { launchChromium } from '../support/browser.ts';
import { needs } from '../support/needs.ts';

// Issue 12 as a person meets it in the terminal: the real bot process, the real Anthropic SDK
// against the fake Messages API, a local sandbox, and the bot's own headless Chromium opening
// every version before its link is posted.

const lastUserText = (req: RecordedRequest): string => JSON.stringify(req.body.messages.at(-1));
const create = (path: string, text: string) => ({
  type: 'tool_use' as const,
  name: 'str_replace_based_edit_tool',
  input: { command: 'create', path, file_text: text },
});
const info = (title: string) => ({
  type: 'tool_use' as const,
  name: 'set_app_info',
  input: { title, summary: `${title}, for the runtime check.` },
});

/** Compiles, then throws while rendering: a missing localStorage entry read as `null`. */
const THROWS = `export default function App() {
  const saved = JSON.parse(localStorage.getItem('scores') ?? 'null') as number[];
  const total = saved.reduce((a, b) => a + b, 0);
  return (
    <main className="min-h-screen bg-slate-900 p-8 text-white">
      <h1 className="text-3xl font-bold">Score total {total}</h1>
    </main>
  );
}
`;
const BLANK = `export default function App() {
  return <main className="min-h-screen" />;
}
`;

describe.runIf(needs('chromium', 'bwrap'))('every version is opened in a browser before its link is posted', () => {
  let fake: FakeAnthropic;
  let bot: BotProcess;
  let browser: Browser | undefined;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vibe-runtime-check-'));
    fake = await startFakeAnthropic();
    bot = new BotProcess({
      ANTHROPIC_API_KEY: 'sk-ant-runtime-check',
      ANTHROPIC_BASE_URL: fake.url,
      VIBE_STORE_URL: `sqlite://${join(dir, 'vibe.sqlite')}`,
      VIBE_APPS_DIR: join(dir, 'apps'),
      VIBE_DATA_DIR: join(dir, 'data'),
      VIBE_PORT: '0',
      VIBE_SANDBOX: 'local',
      VIBE_BROWSER: 'auto',
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

  async function build(prompt: string) {
    const from = bot.events.length;
    bot.send(prompt);
    return bot.waitFor((e) => e.state === 'live' || e.state === 'failed', { from, timeoutMs: 120_000 });
  }

  it(
    'an app that throws on render is repaired with the runtime error, then posted with a real screenshot',
    { timeout: 180_000 },
    async () => {
      fake.script(
        { content: [create('src/App.tsx', THROWS), info('Score Board')] },
        { content: [{ type: 'text', text: 'Done.' }] },
        (req) => {
          const asked = lastUserText(req);
          expect(asked).toContain('fails when it is opened in a browser');
          expect(asked).toMatch(/src\/App\.tsx:3:\d+ Runtime error: TypeError: Cannot read properties of null/);
          return {
            content: [
              {
                type: 'tool_use',
                name: 'str_replace_based_edit_tool',
                input: { command: 'str_replace', path: 'src/App.tsx', old_str: "?? 'null'", new_str: "?? '[]'" },
              },
            ],
          };
        },
        { content: [{ type: 'text', text: 'Fixed the empty case.' }] },
      );
      const live = await build('/vibe a score board');
      expect(live.state, JSON.stringify(live)).toBe('live');
      expect(fake.responderErrors).toEqual([]);
      expect(fake.requests).toHaveLength(4);
      expect(live.card?.footer ?? '').not.toContain('not checked in a browser');
      const shot = (live.card as { image?: { path?: string } }).image?.path;
      expect(shot && existsSync(shot), `screenshot ${shot}`).toBeTruthy();
      const png = readFileSync(shot!);
      expect(png.subarray(1, 4).toString()).toBe('PNG');
      expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([1280, 800]);
      expect(await distinctColours(browser!, png)).toBeGreaterThan(2); // the page, not a blank frame
    },
  );

  it('a blank page is an error too, repaired the same way', { timeout: 180_000 }, async () => {
    fake.script(
      { content: [create('src/App.tsx', BLANK), info('Blank Slate')] },
      { content: [{ type: 'text', text: 'Done.' }] },
      (req) => {
        expect(lastUserText(req)).toContain('the page is blank');
        return {
          content: [create('src/App.tsx', `export default function App() {\n  return <h1>Now with content</h1>;\n}\n`)],
        };
      },
      { content: [{ type: 'text', text: 'Added a heading.' }] },
    );
    const live = await build('/vibe a blank slate');
    expect(live.state, JSON.stringify(live)).toBe('live');
    // The blank page was seen and repaired (a reply left over would be the next test's first).
    expect(fake.pending(), bot.stderr.slice(-40).join('\n')).toBe(0);
    expect(fake.responderErrors).toEqual([]);
    expect(live.card?.footer ?? '').not.toContain('not checked in a browser');
  });

  it(
    'an app that keeps throwing gets an honest failure with the last runtime error, and no link',
    {
      timeout: 180_000,
    },
    async () => {
      const still = (n: number) => ({
        content: [create('src/App.tsx', THROWS.replace('Score total', `Try ${n}`))],
      });
      fake.script(
        { content: [create('src/App.tsx', THROWS), info('Never Works')] },
        { content: [{ type: 'text', text: 'Done.' }] },
        still(1),
        { content: [{ type: 'text', text: 'Tried.' }] },
        still(2),
        { content: [{ type: 'text', text: 'Tried again.' }] },
      );
      const failed = await build('/vibe an app that never works');
      expect(failed.state).toBe('failed');
      expect(fake.responderErrors).toEqual([]);
      expect(failed.card?.text).toContain('still failed when opened in a browser after 2 repair rounds');
      expect(failed.card?.text).toContain('Runtime error: TypeError');
      expect(failed.url).toBeUndefined();
      expect(JSON.stringify(failed.card?.links ?? [])).not.toContain('/apps/');
    },
  );
});

/** How many distinct colours the PNG has, counted in the browser (a blank frame has one or two). */
async function distinctColours(browser: Browser, png: Buffer): Promise<number> {
  const page = await browser.newPage();
  try {
    return await page.evaluate(async (b64) => {
      const img = new Image();
      img.src = `data:image/png;base64,${b64}`;
      await img.decode();
      const canvas = document.createElement('canvas');
      canvas.width = img.width;
      canvas.height = img.height;
      const ctx = canvas.getContext('2d')!;
      ctx.drawImage(img, 0, 0);
      const data = ctx.getImageData(0, 0, img.width, img.height).data;
      const colours = new Set<number>();
      for (let i = 0; i < data.length && colours.size < 50; i += 4 * 97)
        colours.add((data[i]! << 16) | (data[i + 1]! << 8) | data[i + 2]!);
      return colours.size;
    }, png.toString('base64'));
  } finally {
    await page.close();
  }
}
