import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { ShellChat, type ShellEvent } from '../../adapters/shell/shell-chat.ts';
import type { AppRuntime } from '../../src/core/apps/app-runtime.ts';
import type { AppStore } from '../../src/core/ports/index.ts';
import { openAppStore } from '../../src/store/open.ts';
import { MemorySandbox } from '../support/memory-sandbox.ts';
import { makePng } from '../support/png.ts';
import { ScriptedModel } from '../support/scripted-model.ts';
import { testBot, testRuntime } from '../support/test-bot.ts';

// The terminal chat's `/image PATH`: the picture goes with the next message, once.

const APP = (t: string) => ({ 'src/App.tsx': `export default function App() { return <h1>${t}</h1>; }\n` });
let dir: string;
let store: AppStore;
let runtime: AppRuntime;
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vibe-pictures-'));
  store = await openAppStore('memory://');
  runtime = testRuntime({ store, sandbox: new MemorySandbox() });
});
afterEach(async () => {
  await runtime.stopAll();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

it('/image PATH attaches a picture to the next create, then to a change in the thread; a missing file is said', async () => {
  const model = new ScriptedModel().script({ files: APP('a'), title: 'A' }, { files: APP('b') }, { files: APP('c') });
  const bot = testBot({ store, model, runtime });
  const events: ShellEvent[] = [];
  const chat = new ShellChat(bot, (e) => events.push(e), { dataDir: dir });
  const png = join(dir, 'mock up.png');
  writeFileSync(png, makePng(2000, 500));
  writeFileSync(join(dir, 'b.png'), makePng(20, 20));

  chat.handle({ text: '/image ./nowhere.png' });
  expect(events.at(-1)?.text).toBe('No file at ./nowhere.png.');
  chat.handle({ text: `/image ${png}` });
  expect(events.at(-1)?.text).toMatch(/Picture mock up\.png goes with your next message/);
  await chat.handle({ text: '/vibe a page like this' });
  await bot.idle();
  expect(model.calls[0]!.images?.map((i) => [i.name, i.width, i.height])).toEqual([['mock up.png', 1568, 392]]);

  chat.handle({ text: `/image ${join(dir, 'b.png')}` });
  await chat.handle({ text: 'bluer, like this' }); // in the new app's thread
  await bot.idle();
  expect(model.calls[1]).toMatchObject({ kind: 'refine', input: 'bluer, like this' });
  expect(model.calls[1]!.images?.map((i) => i.name)).toEqual(['b.png']);

  await chat.handle({ text: 'no picture this time' });
  await bot.idle();
  expect(model.calls[2]!.images).toBeUndefined();
});
