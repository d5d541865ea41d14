import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { renderCardText } from '../../adapters/shell/render-text.ts';
import { runShell } from '../../adapters/shell/run-shell.ts';
import type { AppRuntime } from '../../src/core/apps/app-runtime.ts';
import type { VibeBot } from '../../src/core/bot.ts';
import type { ChatContext } from '../../src/core/chat/context.ts';
import type { AppStore, Card } from '../../src/core/ports/index.ts';
import { openAppStore } from '../../src/store/open.ts';
import { MemorySandbox } from '../support/memory-sandbox.ts';
import { PictureBot } from '../support/picture-bot.ts';
import { makePng, readPng } from '../support/png.ts';
import { ScriptedModel } from '../support/scripted-model.ts';
import { testBot, testRuntime } from '../support/test-bot.ts';

const APP = (t: string) => ({ 'src/App.tsx': `export default function App() { return <h1>${t}</h1>; }\n` });

let store: AppStore | undefined;
let runtime: AppRuntime | undefined;
/** The shell's data dir: a fresh temp dir, never the repository's ./data. */
let dataDir: string;
beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'vibe-shell-'));
});
afterEach(async () => {
  await runtime?.stopAll();
  await store?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

/** Runs the shell on `lines` and returns what it wrote. */
async function drive(lines: string[], json: boolean, model: ScriptedModel): Promise<string[]> {
  store = await openAppStore('memory://');
  const sandbox = new MemorySandbox();
  runtime = testRuntime({ store, sandbox, maxRunning: 5, linkBase: 'http://gw.test' });
  return driveBot(testBot({ store, model, runtime }), lines, json);
}

async function driveBot(bot: VibeBot, lines: string[], json: boolean): Promise<string[]> {
  const input = new PassThrough();
  const output = new PassThrough();
  const chunks: string[] = [];
  output.on('data', (d: Buffer) => chunks.push(d.toString()));
  const done = runShell({ bot, input, output, json, dataDir });
  // One line at a time, waiting for the bot between lines, like a person who reads the answer.
  for (const line of lines) {
    input.write(line + '\n');
    await new Promise((r) => setTimeout(r, 5));
    await bot.idle();
  }
  input.end();
  await done;
  return chunks.join('').split('\n').filter(Boolean);
}

describe('shell adapter', () => {
  it('--json: one object per line with app id, version and link; threads and refinements work', async () => {
    const model = new ScriptedModel().script(
      { files: APP('one'), title: 'Counter', summary: 'Counts' },
      { files: APP('two') },
    );
    const out = await drive(
      [
        '/vibe a counter',
        'make it count twice',
        '{"text": "/vibe gallery", "thread": null}',
        'not json {',
        '{bad json',
      ],
      true,
      model,
    );
    const events = out.map((l) => JSON.parse(l) as Record<string, unknown>);
    const live = events.filter((e) => e.state === 'live');
    expect(live).toHaveLength(2);
    expect(live[0]).toMatchObject({ type: 'update', version: 1, channel: 'general' });
    expect(live[0]!.url).toBe(`http://gw.test/apps/${live[0]!.app as string}/`);
    expect(live[1]).toMatchObject({ type: 'update', version: 2, app: live[0]!.app });
    expect(events.find((e) => e.type === 'thread')).toMatchObject({ id: 'shell:general:1' });
    const gallery = events.find(
      (e) => e.type === 'ephemeral' && (e.card as { title?: string }).title === 'Apps in this channel',
    );
    expect(gallery).toBeDefined();
    expect(events.some((e) => e.type === 'info' && String(e.text).startsWith('bad JSON input'))).toBe(true);
  });

  it('text mode: shows messages with numbers, edits, and the commands behind buttons', async () => {
    const model = new ScriptedModel().script({ files: APP('one'), title: 'Counter', summary: 'Counts' });
    const out = (await drive(['/vibe a counter', '/back', 'hello', '/vibe help', '/nope'], false, model)).join('\n');
    expect(out).toContain('[#general 1] vibe-bot:');
    expect(out).toContain('[#general 1 edited]');
    expect(out).toMatch(/Open: http:\/\/gw\.test\/apps\/[a-z0-9]+\//);
    expect(out).toMatch(/\[Undo: \/vibe undo [a-z0-9]+\]/);
    expect(out).toContain('Start with /vibe <what to build>');
    expect(out).toContain('(only you see this)');
    expect(out).toContain('Unknown command /nope');
  });

  it('renders gallery items and footers', () => {
    const lines = renderCardText({
      title: 'Apps',
      items: [{ title: 'A', text: 'a', links: [{ label: 'Open', url: 'u' }] }],
      actions: [{ label: 'Next', action: 'gallery', value: 'c2' }],
      footer: 'offline sample model',
    });
    expect(lines).toEqual([
      '**Apps**',
      '  • A',
      '    a',
      '    Open: u',
      '[Next: /vibe gallery c2]',
      '(offline sample model)',
    ]);
  });

  it('a card with a file: saved to <data dir>/exports/<name>; --json shows name, mime, path and size; text "File: <path>"', async () => {
    const zip = new Uint8Array([0x50, 0x4b, 0x03, 0x04, ...Array.from({ length: 300 }, (_, i) => (i * 7) % 256)]);
    const file = { name: 'pomodoro-timer-ab12cd34ef.zip', bytes: zip, mime: 'application/zip' };
    let name = file.name;
    // As the core sends an export: a thread reply carrying the zip.
    const bot = {
      command: async (ctx: ChatContext) => {
        const ref = await ctx.conv.post({ title: 'Focus Timer' });
        const thread = await ctx.conv.startThread(ref, 'Focus Timer');
        await ctx.conv.reply(thread, { text: 'The app as a zip', file: { ...file, name } });
      },
      connect: () => () => undefined,
      idle: async () => undefined,
    } as unknown as VibeBot;
    const path = join(dataDir, 'exports', file.name);
    const out = await driveBot(bot, ['/vibe export'], true);
    expect(readFileSync(path).equals(Buffer.from(zip))).toBe(true);
    const reply = out.map((l) => JSON.parse(l) as { type: string; card?: Card }).find((e) => e.type === 'reply');
    expect(reply!.card!.file).toEqual({ name: file.name, mime: 'application/zip', path, bytes: zip.length });
    expect(out.every((l) => l.length < 2000)).toBe(true);

    rmSync(path);
    expect((await driveBot(bot, ['/vibe export'], false)).join('\n')).toContain(`File: ${path}`);
    expect(readFileSync(path).equals(Buffer.from(zip))).toBe(true);

    // A name that is not a plain file name is refused: reported, and the card goes out without it.
    for (name of ['../escape.zip', 'a\\b.zip', '.hidden.zip']) {
      const lines = (await driveBot(bot, ['/vibe export'], true)).map(
        (l) => JSON.parse(l) as { type: string; text?: string; card?: Card },
      );
      expect(lines.find((e) => e.type === 'info')?.text).toMatch(/^Refused to save a file named/);
      expect(lines.find((e) => e.type === 'reply')?.card).toEqual({ text: 'The app as a zip' });
    }
    expect(existsSync(join(dataDir, 'escape.zip'))).toBe(false);
  });

  describe('screenshots (a card with a PNG)', () => {
    const png = makePng();
    const shot = (n: number) => join(dataDir, 'screenshots', `k3j9x0q2ab-v${n}.png`);

    it('--json: saves each version to <data dir>/screenshots/<app>-v<n>.png; the card carries the path, never the bytes', async () => {
      const out = await driveBot(new PictureBot(png).asBot(), ['/vibe a timer', 'make it blue'], true);
      for (const n of [1, 2]) {
        expect(readPng(readFileSync(shot(n)))).toEqual({ width: 1280, height: 800 });
        expect(readFileSync(shot(n)).equals(Buffer.from(png))).toBe(true);
      }
      const live = out.map((l) => JSON.parse(l) as { state?: string; card?: Card }).filter((e) => e.state === 'live');
      expect(live.map((e) => e.card?.image)).toEqual([
        { path: shot(1), alt: 'Screenshot of Focus Timer, v1' },
        { path: shot(2), alt: 'Screenshot of Focus Timer, v2' },
      ]);
      expect(out.join('\n')).not.toContain('"png"');
      expect(out.every((l) => l.length < 2000)).toBe(true);
    });

    it('text mode prints the path as "Screenshot: <path>"', async () => {
      const out = (await driveBot(new PictureBot(png).asBot(), ['/vibe a timer'], false)).join('\n');
      expect(out).toContain(`Screenshot: ${shot(1)}`);
      expect(existsSync(shot(1))).toBe(true);
    });

    it('names a picture without an app and version by the time; one that cannot be saved is reported and dropped', async () => {
      const card: Card = { title: 'A picture', image: { png, alt: 'just a picture' } };
      const bot = {
        command: async (ctx: { conv: { post(c: Card): Promise<unknown> } }) => void (await ctx.conv.post(card)),
        connect: () => () => undefined,
        idle: async () => undefined,
      } as unknown as VibeBot;
      const [posted] = (await driveBot(bot, ['/vibe x'], true)).map((l) => JSON.parse(l) as { card?: Card });
      expect(posted!.card!.image!.path).toMatch(/\/screenshots\/screenshot-\d{4}-\d\d-\d\dT[\d-]+Z\.png$/);
      expect(readPng(readFileSync(posted!.card!.image!.path!))).toEqual({ width: 1280, height: 800 });

      // A data dir that is a file: nothing can be written under it.
      rmSync(dataDir, { recursive: true });
      writeFileSync(dataDir, 'not a directory');
      const out = (await driveBot(bot, ['/vibe x'], true)).map(
        (l) => JSON.parse(l) as { type: string; text?: string; card?: Card },
      );
      expect(out.find((e) => e.type === 'info')?.text).toMatch(/^Could not save the screenshot to .*: ENOTDIR/);
      expect(out.find((e) => e.type === 'post')?.card).toEqual({ title: 'A picture' });
    });
  });
});
