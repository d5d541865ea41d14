import { gzipSync } from 'node:zlib';
import { strFromU8, unzipSync } from 'fflate';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AppRuntime } from '../../src/core/apps/app-runtime.ts';
import type { ChatContext } from '../../src/core/chat/context.ts';
import { fairUsePolicies } from '../../src/core/limits/fair-use.ts';
import type { Actor, AppStore } from '../../src/core/ports/index.ts';
import { UsageMeter } from '../../src/core/limits/usage-meter.ts';
import { AppZipPacker } from '../../src/export/app-zip.ts';
import { readBuiltFiles } from '../../src/sandbox/built-files.ts';
import { openAppStore } from '../../src/store/open.ts';
import { TEMPLATE_DIR } from '../../src/template.ts';
import { MemorySandbox } from '../support/memory-sandbox.ts';
import { RecordingConversation } from '../support/recording-conversation.ts';
import { ScriptedModel } from '../support/scripted-model.ts';
import { testBot, testRuntime } from '../support/test-bot.ts';

// `/vibe export` through the core (the sandbox's build is faked here; tests/e2e/export-e2e.test.ts
// makes a real one and installs and builds the zip), and the checks on what a sandbox sends back.

const answer = (files: Record<string, string | Buffer>) =>
  gzipSync(
    JSON.stringify(Object.fromEntries(Object.entries(files).map(([p, b]) => [p, Buffer.from(b).toString('base64')]))),
  ).toString('base64');

describe("the sandbox's export answer is checked like any input", () => {
  it('reads plain built files', async () => {
    const files = await readBuiltFiles(answer({ 'index.html': '<html>', 'assets/index-Ab1.js': 'x' }));
    expect([...files.keys()]).toEqual(['index.html', 'assets/index-Ab1.js']);
    expect(Buffer.from(files.get('assets/index-Ab1.js')!).toString()).toBe('x');
  });
  it.each([
    ['../escape', 'a path out of dist'],
    ['/etc/passwd', 'an absolute path'],
    ['.env', 'a dot file'],
    ['assets/../../x', 'a climbing path'],
    ['a\\b', 'a backslash'],
    ['a/'.repeat(150) + 'x.js', 'a path of many short segments (300 characters)'],
  ])('refuses %s (%s)', async (path) => {
    await expect(readBuiltFiles(answer({ 'index.html': 'x', [path]: 'x' }))).rejects.toThrow(/may not/);
  });
  it('refuses garbage, no index.html, and too many files', async () => {
    await expect(readBuiltFiles('not base64 gzip')).rejects.toThrow(/could not be read/);
    await expect(readBuiltFiles(answer({ 'a.js': 'x' }))).rejects.toThrow(/no index.html/);
    const many = Object.fromEntries(Array.from({ length: 2001 }, (_, i) => [`f${i}.js`, 'x']));
    await expect(readBuiltFiles(answer({ ...many, 'index.html': 'x' }))).rejects.toThrow(/2002 files/);
  });
});

class ExportingSandbox extends MemorySandbox {
  exports = 0;
  async exportBuild(id: string): Promise<Map<string, Uint8Array>> {
    this.exports++;
    const files = this.sandboxes.get(id)!.files;
    return new Map([
      ['index.html', Buffer.from('<script src="./assets/index-1.js"></script>')],
      ['assets/index-1.js', Buffer.from(`/* built from ${Object.keys(files).join(',')} */`)],
    ]);
  }
}

describe('/vibe export', () => {
  let store: AppStore;
  let runtime: AppRuntime;
  beforeEach(async () => {
    store = await openAppStore('memory://');
  });
  afterEach(async () => {
    await runtime?.stopAll();
    await store.close();
  });

  function makeBot(sandbox: MemorySandbox, model: ScriptedModel) {
    runtime = testRuntime({ store, sandbox });
    const meter = new UsageMeter(store, {});
    return testBot({
      store,
      model,
      runtime,
      meter,
      policies: fairUsePolicies({ store, meter, limits: {} }),
      packer: new AppZipPacker(TEMPLATE_DIR),
    });
  }
  const ctx = (conv: RecordingConversation, actor: Actor, threadId?: string): ChatContext => ({
    conv,
    actor,
    channelId: conv.channelId,
    threadId,
  });

  it('posts the latest version as a zip in the thread: src, a clean project, README and dist', async () => {
    const model = new ScriptedModel().script(
      {
        files: { 'src/App.tsx': 'export default function App() { return <h1>One</h1>; }\n' },
        title: 'Pomodoro Timer!',
      },
      { files: { 'src/App.tsx': 'export default function App() { return <h1>Two</h1>; }\n' } },
    );
    const sandbox = new ExportingSandbox();
    const bot = makeBot(sandbox, model);
    const conv = new RecordingConversation('slack:T1:C1');
    const owner: Actor = { id: 'slack:T1:owner' };
    await bot.command(ctx(conv, owner), 'a pomodoro timer');
    const live = conv.cards().find((c) => c.meta?.state === 'live')!;
    expect(live.actions?.map((a) => a.action)).toContain('export');
    const appId = live.meta!.appId!;
    const thread = conv.events.find((e) => e.type === 'thread')!.thread!;
    await bot.threadMessage(ctx(conv, owner, thread), 'say two');

    // Anyone in the channel may export (the button), not only the owner.
    await bot.action(ctx(conv, { id: 'slack:T1:someone' }), 'export', appId);
    const reply = conv.events.filter((e) => e.type === 'reply').at(-1)!;
    expect(reply.thread).toBe(thread);
    const file = reply.card!.file!;
    expect(file.name).toBe(`pomodoro-timer-${appId}-v2.zip`);
    expect(file.mime).toBe('application/zip');
    expect(reply.card!.text).toContain('npm install && npm run dev');
    const zip = unzipSync(file.bytes);
    const dir = `pomodoro-timer-${appId}-v2/`;
    expect(Object.keys(zip).sort()).toEqual(
      [
        '.gitignore',
        'README.md',
        'dist/assets/index-1.js',
        'dist/index.html',
        'index.html',
        'package.json',
        'src/App.tsx',
        'tsconfig.json',
        'vite-guard.ts',
        'vite.config.ts',
      ].map((p) => dir + p),
    );
    expect(strFromU8(zip[`${dir}src/App.tsx`]!)).toContain('Two');
    const pkg = JSON.parse(strFromU8(zip[`${dir}package.json`]!));
    expect(pkg).toMatchObject({ name: 'pomodoro-timer', private: true, scripts: { dev: 'vite', build: 'vite build' } });
    expect(pkg.dependencies.react).toBeDefined();
    const config = strFromU8(zip[`${dir}vite.config.ts`]!);
    expect(config).not.toMatch(/vibe-plugins|errorReporter|VIBE_/);
    // The build guard comes along (tests/export/export-guard.test.ts builds it).
    expect(config).toContain("from './vite-guard.ts'");
    expect(strFromU8(zip[`${dir}index.html`]!)).toContain('<title>Pomodoro Timer!</title>');
    expect(strFromU8(zip[`${dir}README.md`]!)).toContain('npm install && npm run dev');
    expect(sandbox.exports).toBe(1);
    // The same version packs to the same bytes.
    await bot.command(ctx(conv, owner), `export ${appId}`);
    expect(conv.events.filter((e) => e.type === 'reply').at(-1)!.card!.file!.bytes).toEqual(file.bytes);
  });

  it('a flood of Export presses: three wait behind the one under way, the rest are refused', async () => {
    const model = new ScriptedModel().script({ files: { 'src/App.tsx': 'x' }, title: 'Busy' });
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    class SlowSandbox extends ExportingSandbox {
      override async exportBuild(id: string): Promise<Map<string, Uint8Array>> {
        await gate;
        return super.exportBuild(id);
      }
    }
    const sandbox = new SlowSandbox();
    const bot = makeBot(sandbox, model);
    const conv = new RecordingConversation('slack:T1:C1');
    await bot.command(ctx(conv, { id: 'slack:T1:owner' }), 'a busy app');
    const appId = conv.cards().find((c) => c.meta?.state === 'live')!.meta!.appId!;
    const viewer = { id: 'slack:T1:viewer' };
    const presses = Array.from({ length: 6 }, () => bot.action(ctx(conv, viewer), 'export', appId));
    await new Promise((r) => setTimeout(r, 50));
    const refused = conv.cards('ephemeral').map((c) => c.text ?? '');
    expect(refused).toHaveLength(2);
    for (const r of refused) expect(r).toMatch(/already has 3 requests waiting .* ask for the export again/);
    open();
    await Promise.all(presses);
    expect(conv.events.filter((e) => e.type === 'reply' && e.card?.file)).toHaveLength(4);
    expect(sandbox.exports).toBe(4);
  });

  it('without a build (the sandbox could not make one) the zip has the source and says so; another workspace gets nothing', async () => {
    const model = new ScriptedModel().script({ files: { 'src/App.tsx': 'x' }, title: 'Plain' });
    const bot = makeBot(new MemorySandbox(), model);
    const conv = new RecordingConversation('slack:T1:C1');
    await bot.command(ctx(conv, { id: 'slack:T1:owner' }), 'a plain app');
    const appId = conv.cards().find((c) => c.meta?.state === 'live')!.meta!.appId!;
    await bot.command(ctx(conv, { id: 'slack:T1:owner' }), `export ${appId}`);
    const card = conv.events.filter((e) => e.type === 'reply').at(-1)!.card!;
    expect(card.text).toContain('no `dist/`');
    expect(Object.keys(unzipSync(card.file!.bytes)).some((p) => p.includes('/dist/'))).toBe(false);

    const elsewhere = new RecordingConversation('slack:T2:C1');
    await bot.command(ctx(elsewhere, { id: 'slack:T2:x' }), `export ${appId}`);
    expect(elsewhere.cards().map((c) => c.text)).toEqual([`There is no app "${appId}" (it may have been deleted).`]);
  });
});
