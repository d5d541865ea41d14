import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ModalClient } from 'modal';
import pino from 'pino';
import type { Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildVibeApp, type VibeApp } from '../../src/app.ts';
import { TEMPLATE_DIR } from '../../src/template.ts';
import { loadConfig } from '../../src/config.ts';
import { loadTemplate } from '../../src/llm/system-prompt.ts';
import { TAG_APP, TAG_BOT } from '../../src/sandbox/modal.ts';
import { startFakeAnthropic, type FakeAnthropic } from '../fakes/anthropic/server.ts';
import { startFakeModal, type FakeModal } from '../fakes/modal/server.ts';
import { BotProcess, runScript } from '../support/bot-process.ts';
import { collectPageErrors, launchChromium } from '../support/browser.ts';
import { RecordingConversation } from '../support/recording-conversation.ts';
import { ScriptedModel } from '../support/scripted-model.ts';
import { needs } from '../support/needs.ts';
import { eventually } from '../support/eventually.ts';

// The foundation's end-to-end test again, with every app in a "Modal Sandbox": the real modal
// SDK against a fake control plane (gRPC) whose sandboxes are local processes under bubblewrap,
// reached through https tunnels on loopback.

const runnable = needs('bwrap', 'chromium');
/** A whole app: the template's src/ with App.tsx replaced. */
const FILES = (title: string) => ({ ...templateFiles, 'src/App.tsx': TEMPLATE_APP(title) });
let templateFiles: Record<string, string> = {};
const TEMPLATE_APP = (title: string) => `export default function App() {
  return (
    <main className="min-h-screen bg-slate-900 p-8 text-white">
      <h1 className="text-3xl font-bold">${title}</h1>
    </main>
  );
}
`;

describe.runIf(runnable)('on Modal (fake control plane)', () => {
  let modal: FakeModal;
  let dir: string;

  beforeAll(async () => {
    modal = await startFakeModal({ imageDir: () => TEMPLATE_DIR });
    templateFiles = (await loadTemplate(TEMPLATE_DIR)).templateFiles;
  });
  afterAll(async () => {
    await modal?.close();
  });

  describe('the bot process end to end', () => {
    let fake: FakeAnthropic;
    let bot: BotProcess;
    let browser: Browser | undefined;

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'vibe-modal-e2e-'));
      fake = await startFakeAnthropic();
      bot = new BotProcess({
        ANTHROPIC_API_KEY: 'sk-ant-modal-e2e',
        ANTHROPIC_BASE_URL: fake.url,
        MODAL_SERVER_URL: modal.url,
        MODAL_TOKEN_ID: modal.tokenId,
        MODAL_TOKEN_SECRET: modal.tokenSecret,
        VIBE_STORE_URL: `sqlite://${join(dir, 'vibe.sqlite')}`,
        VIBE_PORT: '0',
        VIBE_BROWSER_ARGS: '--ignore-certificate-errors', // the fake's tunnels have a test's own certificate
        HOME: dir, // no ~/.modal.toml of the machine's
      });
      browser = await launchChromium(['--ignore-certificate-errors']);
    });
    afterAll(async () => {
      await browser?.close();
      const code = await bot?.stop();
      await fake?.close();
      rmSync(dir, { recursive: true, force: true });
      expect(code).toBe(0);
    });

    it(
      'creates into a sandbox, serves it over the tunnel, refines it, and delete terminates it',
      { timeout: 180_000 },
      async () => {
        fake.script(
          {
            content: [
              {
                type: 'tool_use',
                name: 'str_replace_based_edit_tool',
                input: { command: 'create', path: 'src/App.tsx', file_text: TEMPLATE_APP('Modal Timer') },
              },
              {
                type: 'tool_use',
                name: 'set_app_info',
                input: { title: 'Modal Timer', summary: 'A timer in a Modal Sandbox.' },
              },
            ],
          },
          { content: [{ type: 'text', text: 'Done.' }] },
        );
        bot.send('/vibe a timer');
        const live = await bot.waitFor((e) => e.state === 'live' || e.state === 'failed', { timeoutMs: 120_000 });
        expect(live.state, JSON.stringify(live)).toBe('live');
        expect(live.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/$/); // tunnels()[5173].url
        const created = modal.log.of('SandboxCreateV2');
        expect(created).toHaveLength(1);
        const sandbox = [...modal.sandboxes.values()].find((s) => s.status === 'running')!;
        expect(sandbox.tags).toMatchObject({ [TAG_BOT]: 'vibe-bot', [TAG_APP]: live.app });
        // No secret of the bot's in the sandbox: only what Vite needs.
        expect(Object.keys(sandbox.env).sort()).toEqual(['VIBE_BASE', 'VIBE_HOST', 'VIBE_PORT']);

        const page = await browser!.newPage();
        const errors = collectPageErrors(page);
        await page.goto(live.url!);
        await page.getByRole('heading', { name: 'Modal Timer' }).waitFor({ timeout: 60_000 });

        fake.script(
          {
            content: [
              {
                type: 'tool_use',
                name: 'str_replace_based_edit_tool',
                input: {
                  command: 'str_replace',
                  path: 'src/App.tsx',
                  old_str: 'Modal Timer</h1>',
                  new_str: 'Tunnel Timer</h1>',
                },
              },
            ],
          },
          { content: [{ type: 'text', text: 'Renamed.' }] },
        );
        const before = bot.events.length;
        bot.send('rename it');
        const refined = await bot.waitFor((e) => e.state === 'live' || e.state === 'failed', {
          from: before,
          timeoutMs: 60_000,
        });
        expect(refined).toMatchObject({ state: 'live', version: 2, url: live.url });
        await page.getByRole('heading', { name: 'Tunnel Timer' }).waitFor({ timeout: 30_000 });
        expect(errors).toEqual([]);
        await page.close();
        // The write was one exec with a tar on stdin, and the check ran inside the sandbox.
        const execs = modal.log.of('TaskExecStart').map((c) => JSON.stringify(c.request));
        expect(execs.some((e) => e.includes('tsc'))).toBe(true);

        const d = bot.events.length;
        bot.send(`/vibe delete ${live.app} confirm`);
        await bot.waitFor((e) => (e.card?.title ?? '').startsWith('Deleted'), { from: d });
        await modal.log.waitFor('SandboxTerminateV2');
        expect(modal.sandboxes.get(sandbox.id)?.status).toBe('terminated');
      },
    );
  });

  it('npm run modal:image builds the image and publishes it by name', { timeout: 60_000 }, async () => {
    const home = mkdtempSync(join(tmpdir(), 'vibe-modal-image-'));
    const run = await runScript('scripts/modal-image.ts', {
      PATH: process.env.PATH ?? '',
      HOME: home,
      MODAL_SERVER_URL: modal.url,
      MODAL_TOKEN_ID: modal.tokenId,
      MODAL_TOKEN_SECRET: modal.tokenSecret,
      VIBE_MODAL_IMAGE: 'published-by-script',
    });
    rmSync(home, { recursive: true, force: true });
    expect(run.code, run.out).toBe(0);
    expect(run.out).toContain('as "published-by-script"');
    expect(JSON.stringify(modal.log.of('ImagePublish'))).toContain('published-by-script');
    const built = [...modal.images.values()].find((i) => i.dockerfileCommands.some((c) => c.includes('npm ci')));
    expect(built?.dockerfileCommands.at(-1)).toContain('vite.js optimize');
  });

  describe('lifecycle', () => {
    const logger = pino({ level: process.env.DEBUG_MODAL ? 'debug' : 'silent' });
    const apps: VibeApp[] = [];
    let savedEnv: string | undefined;

    beforeAll(() => {
      savedEnv = process.env.MODAL_SERVER_URL;
      process.env.MODAL_SERVER_URL = modal.url;
      dir = mkdtempSync(join(tmpdir(), 'vibe-modal-life-'));
    });
    afterAll(() => {
      if (savedEnv === undefined) delete process.env.MODAL_SERVER_URL;
      else process.env.MODAL_SERVER_URL = savedEnv;
      rmSync(dir, { recursive: true, force: true });
    });
    afterEach(async () => {
      for (const a of apps.splice(0)) await a.close();
    });

    async function start(store: string, model: ScriptedModel): Promise<VibeApp> {
      const config = loadConfig({
        MODAL_TOKEN_ID: modal.tokenId,
        MODAL_TOKEN_SECRET: modal.tokenSecret,
        VIBE_STORE_URL: `sqlite://${join(dir, store)}`,
        VIBE_PORT: '0',
        VIBE_BROWSER_ARGS: '--ignore-certificate-errors', // the fake's tunnels have a test's own certificate
      });
      const app = await buildVibeApp(config, logger, { model, statusIntervalMs: 0 });
      apps.push(app);
      return app;
    }
    const running = () => [...modal.sandboxes.values()].filter((s) => s.status === 'running');

    it(
      'a sandbox that cannot be created: a clear message, nothing stored, nothing left running',
      { timeout: 60_000 },
      async () => {
        const model = new ScriptedModel().script({ files: FILES('Never'), title: 'Never' });
        const app = await start('fail.sqlite', model);
        const runningBefore = running().length;
        modal.failNext('SandboxCreateV2', 'RESOURCE_EXHAUSTED', 'no capacity');
        const conv = new RecordingConversation();
        await app.bot.command({ conv, actor: { id: 'u1' }, channelId: conv.channelId }, 'an app');
        const final = conv.cards().at(-1)!;
        expect(final.meta?.state).toBe('failed');
        expect(final.text).toMatch(/Modal has no room for another sandbox/);
        expect((await app.store.appsInChannel(conv.channelId, 10)).items).toEqual([]);
        expect(running()).toHaveLength(runningBefore);
      },
    );

    it(
      'replaces a sandbox that died on the next refinement, and the thread gets the new link',
      { timeout: 120_000 },
      async () => {
        const model = new ScriptedModel().script({ files: FILES('One'), title: 'One' }, { files: FILES('Two') });
        const app = await start('replace.sqlite', model);
        const conv = new RecordingConversation();
        await app.bot.command({ conv, actor: { id: 'u1' }, channelId: conv.channelId }, 'an app');
        const live = conv.cards().find((c) => c.meta?.state === 'live')!;
        expect(live, JSON.stringify(conv.cards().at(-1))).toBeDefined();
        const first = (await app.store.getApp(live.meta!.appId!))!.sandboxId!;
        await modal.kill(first);
        const imageRpcs = modal.calls.filter((c) => c.method.startsWith('Image')).length;
        const thread = conv.events.find((e) => e.type === 'thread')!.thread!;
        await app.bot.threadMessage(
          { conv, actor: { id: 'u1' }, channelId: conv.channelId, threadId: thread },
          'change it',
        );
        const refined = conv.cards().at(-1)!;
        expect(modal.calls.filter((c) => c.method.startsWith('Image')).length).toBe(imageRpcs); // the image is looked up once, never rebuilt per sandbox
        expect(refined.meta).toMatchObject({ state: 'live', version: 2 });
        expect(refined.meta?.url).not.toBe(live.meta?.url);
        const second = (await app.store.getApp(live.meta!.appId!))!.sandboxId!;
        expect(second).not.toBe(first);
        expect(modal.sandboxes.get(second)?.status).toBe('running');
      },
    );

    it(
      "a second instance starting during a create leaves that create's sandbox alone",
      { timeout: 120_000 },
      async () => {
        const model = new ScriptedModel().script({ files: FILES('Mid'), title: 'Mid' });
        let release!: () => void;
        model.gate = new Promise<void>((r) => (release = r));
        const first = await start('during.sqlite', model);
        const conv = new RecordingConversation();
        const created = first.bot.command({ conv, actor: { id: 'u1' }, channelId: conv.channelId }, 'an app');
        // Booting while the model writes: running, tagged, and no app in the store yet.
        const booting = await eventually(
          () => running().find((s) => s.tags[TAG_APP] && !s.tags[TAG_APP].startsWith('ghost')),
          60_000,
        );
        expect(await first.store.getApp(booting.tags[TAG_APP]!)).toBeUndefined();
        const second = await start('during.sqlite', new ScriptedModel()); // its start-up sweeps for orphans
        expect(second).toBeDefined();
        expect(modal.sandboxes.get(booting.id)?.status).toBe('running');
        release();
        await created;
        expect(conv.cards().at(-1)?.meta?.state).toBe('live');
        expect(modal.sandboxes.get(booting.id)?.status).toBe('running'); // the app went live in it, untouched
      },
    );

    it('after a restart, re-attaches live sandboxes and terminates orphans', { timeout: 120_000 }, async () => {
      const model = new ScriptedModel().script({ files: FILES('Kept'), title: 'Kept' });
      const first = await start('restart.sqlite', model);
      const conv = new RecordingConversation();
      await first.bot.command({ conv, actor: { id: 'u1' }, channelId: conv.channelId }, 'an app');
      const appId = conv.cards().find((c) => c.meta?.state === 'live')!.meta!.appId!;
      const kept = (await first.store.getApp(appId))!.sandboxId!;
      await first.close(); // shutting down lets go of sandboxes; it does not end them
      apps.splice(apps.indexOf(first), 1);
      expect(modal.sandboxes.get(kept)?.status).toBe('running');

      // An orphan: tagged by this bot, owned by no app in the store.
      const client = new ModalClient({ tokenId: modal.tokenId, tokenSecret: modal.tokenSecret });
      const modalApp = await client.apps.fromName('vibe-bot', { createIfMissing: true });
      const image = await client.images.fromName('vibe-sandbox-template');
      const orphan = await client.sandboxes.create(modalApp, image, {
        command: ['sleep', '600'],
        tags: { [TAG_BOT]: 'vibe-bot', [TAG_APP]: 'ghostapp01' },
      });
      client.close();

      const creates = modal.log.of('SandboxCreateV2').length;
      const second = await start('restart.sqlite', new ScriptedModel().script({ files: FILES('Changed') }));
      expect(modal.sandboxes.get(orphan.sandboxId)?.status).toBe('terminated');
      expect(modal.sandboxes.get(kept)?.status).toBe('running');
      const thread = conv.events.find((e) => e.type === 'thread')!.thread!;
      await second.bot.threadMessage(
        { conv, actor: { id: 'u1' }, channelId: conv.channelId, threadId: thread },
        'change it',
      );
      expect(conv.cards().at(-1)?.meta).toMatchObject({ state: 'live', version: 2 });
      expect(modal.log.of('SandboxCreateV2')).toHaveLength(creates); // re-attached, not replaced
      expect((await second.store.getApp(appId))?.sandboxId).toBe(kept);
    });
  });
});
