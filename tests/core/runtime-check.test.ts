import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NOT_BROWSER_CHECKED } from '../../src/core/chat/cards.ts';
import type { AppStore, RenderChecker, RenderResult } from '../../src/core/ports/index.ts';
import { openAppStore } from '../../src/store/open.ts';
import { MemorySandbox } from '../support/memory-sandbox.ts';
import { RecordingConversation } from '../support/recording-conversation.ts';
import { ScriptedModel } from '../support/scripted-model.ts';
import { testBot, testRuntime } from '../support/test-bot.ts';

// The core's side of the runtime check, with a stand-in browser that "renders" the files in the
// app's memory sandbox: any file holding THROWS throws when opened. (The real browser check has
// its own tests in tests/browser/ and end to end in tests/e2e/runtime-check-e2e.test.ts.)

const PNG = new Uint8Array([0x89, 0x50, 0x4e, 0x47]);

class StandInBrowser implements RenderChecker {
  readonly opened: string[] = [];
  constructor(private readonly sandbox: MemorySandbox) {}
  async render(url: string): Promise<RenderResult> {
    this.opened.push(url);
    const appId = /\/apps\/([^/]+)\//.exec(url)?.[1] ?? '';
    const files = Object.values(this.sandbox.filesOf(appId) ?? {});
    if (files.some((t) => t.includes('WARNS')))
      return {
        errors: [
          {
            file: 'src/App.tsx',
            line: 7,
            column: 1,
            message: 'Runtime error: console.error: Each child in a list should have a unique "key" prop.',
            source: 'browser',
            warning: true,
          },
        ],
        screenshot: PNG,
        ms: 1,
      };
    const throws = files.some((t) => t.includes('THROWS'));
    return throws
      ? {
          errors: [
            {
              file: 'src/App.tsx',
              line: 3,
              column: 9,
              message: 'Runtime error: TypeError: x is null',
              source: 'browser',
            },
          ],
          ms: 1,
        }
      : { errors: [], screenshot: PNG, ms: 1 };
  }
  async close(): Promise<void> {}
}

let store: AppStore;
let sandbox: MemorySandbox;
beforeEach(async () => {
  store = await openAppStore('memory://');
  sandbox = new MemorySandbox();
});
afterEach(() => store.close());

function setup(withBrowser = true) {
  const model = new ScriptedModel();
  const browser = withBrowser ? new StandInBrowser(sandbox) : undefined;
  const runtime = testRuntime({ store, sandbox, browser });
  const bot = testBot({ store, model, runtime });
  const conv = new RecordingConversation();
  const ctx = { conv, actor: { id: 'u1' }, channelId: conv.channelId };
  return { model, browser, bot, conv, ctx };
}

describe('the runtime check in the build', () => {
  it('a version that throws in the browser goes back to the model; the fixed one is posted with its screenshot', async () => {
    const { model, browser, bot, conv, ctx } = setup();
    model.script({ files: { 'src/App.tsx': 'THROWS' }, title: 'T' }, { files: { 'src/App.tsx': 'fixed' } });
    await bot.command(ctx, 'an app');
    expect(model.calls.map((c) => c.kind)).toEqual(['generate', 'repair']);
    expect(model.calls[1]!.input).toBe('src/App.tsx:3:9 Runtime error: TypeError: x is null');
    const live = conv.cards().at(-1)!;
    expect(live.meta?.state).toBe('live');
    expect(live.image).toEqual({ png: PNG, alt: 'Screenshot of T, v1' });
    expect(live.footer).toBeUndefined();
    expect(browser!.opened.every((u) => u.endsWith('/dev/'))).toBe(true); // the creator's view, straight from the sandbox
  });

  it('keeps failing in the browser: an honest failure naming the runtime error, nothing stored', async () => {
    const { model, bot, conv, ctx } = setup();
    const broken = { files: { 'src/App.tsx': 'THROWS' } };
    model.script(broken, broken, broken);
    await bot.command(ctx, 'an app');
    const failed = conv.cards().at(-1)!;
    expect(failed.meta?.state).toBe('failed');
    expect(failed.text).toContain('still failed when opened in a browser after 2 repair rounds');
    expect(failed.text).toContain('Runtime error: TypeError: x is null');
    expect((await store.appsInChannel(conv.channelId, 5)).items).toEqual([]);
  });

  it('restores a version that fails in the browser anyway, and says so', async () => {
    const { model, bot, conv, ctx } = setup();
    model.script({ files: { 'src/App.tsx': 'v1' }, title: 'T' }, { files: { 'src/App.tsx': 'v2' } });
    await bot.command(ctx, 'an app');
    const appId = conv.cards().at(-1)!.meta!.appId!;
    await store.addVersion(appId, {
      files: { 'src/App.tsx': 'THROWS (an old version that broke at run time)' },
      instruction: 'imported',
      authorId: 'u1',
      usage: { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 },
      model: 'none',
    });
    await bot.command(ctx, `/vibe restore 2 ${appId}`.replace('/vibe ', ''));
    const restored = conv.cards().at(-1)!;
    expect(restored.meta).toMatchObject({ state: 'live', version: 3 });
    expect(restored.text).toContain('Restored v2 as v3, but it fails when opened in a browser: src/App.tsx:3:9');
  });

  it('console errors alone are repaired if they can be, but never withhold the link: it is posted, saying so', async () => {
    const { model, bot, conv, ctx } = setup();
    const warns = { files: { 'src/App.tsx': 'WARNS' } };
    model.script({ ...warns, title: 'T' }, warns, warns);
    await bot.command(ctx, 'an app');
    expect(model.calls.map((c) => c.kind)).toEqual(['generate', 'repair', 'repair']);
    const live = conv.cards().at(-1)!;
    expect(live.meta?.state).toBe('live');
    expect(live.text).toContain(
      'The browser console still reports: src/App.tsx:7:1 Runtime error: console.error: Each child',
    );
  });

  it('without a browser the link is posted with a footer saying it was not opened', async () => {
    const { model, bot, conv, ctx } = setup(false);
    model.script({ files: { 'src/App.tsx': 'THROWS' }, title: 'T' });
    await bot.command(ctx, 'an app');
    const live = conv.cards().at(-1)!;
    expect(live.meta?.state).toBe('live');
    expect(live.footer).toBe(NOT_BROWSER_CHECKED);
    expect(live.image).toBeUndefined();
  });
});
