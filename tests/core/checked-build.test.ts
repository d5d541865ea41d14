import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AppRuntime } from '../../src/core/apps/app-runtime.ts';
import { Publisher } from '../../src/core/apps/publisher.ts';
import type { AppStore, RenderChecker, RenderResult } from '../../src/core/ports/index.ts';
import { openAppStore } from '../../src/store/open.ts';
import { MemorySandbox } from '../support/memory-sandbox.ts';
import { RecordingConversation } from '../support/recording-conversation.ts';
import { ScriptedModel } from '../support/scripted-model.ts';
import { testBot, testRuntime } from '../support/test-bot.ts';

// Issue 23: the browser check opens the version's production build, and the publish stores the
// same bytes: one build handed over per version, its source maps kept from viewers.

const logger = pino({ level: 'silent' });

/** A sandbox whose "build" of a source is its files as they were written, plus a source map. */
class BuildingSandbox extends MemorySandbox {
  readonly asked: string[] = [];
  async lightBuild(id: string, source: string): Promise<Map<string, Uint8Array>> {
    this.asked.push(source);
    const text = Object.values(this.filesOf(id) ?? {}).join('\n');
    return new Map([
      ['index.html', Buffer.from(`<!doctype html><div id="root"></div><!-- ${source} -->`)],
      ['assets/index-1.js', Buffer.from(text)],
      ['assets/index-1.js.map', Buffer.from('{"version":3,"sources":["../src/App.tsx"],"mappings":""}')],
    ]);
  }
}

/** Records what each check was given. */
class RecordingBrowser implements RenderChecker {
  readonly checks: { url: string; files?: Map<string, Uint8Array> }[] = [];
  async render(url: string, opts: { files?: Map<string, Uint8Array> } = {}): Promise<RenderResult> {
    this.checks.push({ url, ...(opts.files ? { files: opts.files } : {}) });
    return { errors: [], ms: 1 };
  }
  async close(): Promise<void> {}
}

let store: AppStore;
let runtime: AppRuntime;
beforeEach(async () => {
  store = await openAppStore('memory://');
});
afterEach(async () => {
  await runtime?.stopAll();
  await store.close();
});

describe('the checked build is the published build', () => {
  it('checks the production build from memory, then publishes those bytes without its maps, built once', async () => {
    const sandbox = new BuildingSandbox();
    const browser = new RecordingBrowser();
    runtime = testRuntime({ store, sandbox, browser });
    const model = new ScriptedModel();
    const bot = testBot({ store, model, runtime, publisher: new Publisher({ store, runtime, logger }) });
    const conv = new RecordingConversation();
    model.script({ files: { 'src/App.tsx': 'export default () => <p>one</p>;\n' }, title: 'One' });
    await bot.command({ conv, actor: { id: 'u1' }, channelId: conv.channelId }, 'a counter that shows one');
    const live = conv.cards().find((c) => c.meta?.state === 'live');
    expect(live, JSON.stringify(conv.cards().at(-1))).toBeDefined();
    const appId = live!.meta!.appId!;

    expect(browser.checks).toHaveLength(1);
    const checked = browser.checks[0]!;
    expect(checked.url).toMatch(new RegExp(`/apps/${appId}/$`)); // the build, not the dev view
    expect([...checked.files!.keys()].sort()).toEqual(['assets/index-1.js', 'assets/index-1.js.map', 'index.html']);
    expect(sandbox.asked).toHaveLength(1); // one hand-over: the check's bytes are the ones published

    const manifest = await store.getManifest(appId, 1);
    expect(Object.keys(manifest!.files).sort()).toEqual(['assets/index-1.js', 'index.html']);
    const blob = await store.blobs.get(manifest!.files['assets/index-1.js']!.hash);
    expect(Buffer.from(blob!).equals(Buffer.from(checked.files!.get('assets/index-1.js')!))).toBe(true);
  });
});
