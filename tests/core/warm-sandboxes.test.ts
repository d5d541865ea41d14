import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AppRuntime } from '../../src/core/apps/app-runtime.ts';
import { zeroUsage } from '../../src/core/limits/usage.ts';
import type { AppStore } from '../../src/core/ports/index.ts';
import { openAppStore } from '../../src/store/open.ts';
import { MemorySandbox } from '../support/memory-sandbox.ts';
import { storedApp } from '../support/stored-app.ts';
import { testBot, testRuntime } from '../support/test-bot.ts';
import { RecordingConversation } from '../support/recording-conversation.ts';
import { eventually } from '../support/eventually.ts';
import { BuildSlots } from '../../src/core/limits/build-slots.ts';
import type { CodeModel, CodeTurn } from '../../src/core/ports/index.ts';

let store: AppStore;
let sandbox: MemorySandbox;
let clock = 0;
let rt: AppRuntime | undefined;

function runtime(opts: { maxRunning?: number; warm?: number } = {}): AppRuntime {
  rt = testRuntime({
    store,
    sandbox,
    idleMs: 1000,
    maxRunning: opts.maxRunning ?? 10,
    warm: opts.warm ?? 1,
    now: () => clock,
  });
  return rt;
}

/** Lets the runtime's background boots (the memory sandbox's timers) finish. */
const settle = (ms = 30) => new Promise((r) => setTimeout(r, ms));

beforeEach(async () => {
  store = await openAppStore('memory://');
  sandbox = new MemorySandbox();
  clock = 0;
});
afterEach(async () => {
  await rt?.stopAll();
  rt = undefined;
  await store.close();
});

describe('warm sandboxes', () => {
  it('a new app takes the warm sandbox and its id; another is booted once no request works', async () => {
    const r = runtime();
    r.startSweeper(60_000);
    await settle();
    expect(sandbox.running()).toHaveLength(1);
    const [warmId] = sandbox.running();
    const appId = r.newAppId();
    expect(warmId!.startsWith(`${appId}.`)).toBe(true);
    const release = r.hold(appId);
    const handle = await r.boot(appId);
    expect(handle.id).toBe(warmId);
    expect(sandbox.running()).toHaveLength(1); // not booted again, nor refilled beside the build
    expect(r.newAppId()).not.toBe(appId); // taken: never handed to a second app
    await settle();
    expect(sandbox.running()).toHaveLength(1);
    release();
    await settle();
    expect(sandbox.running()).toHaveLength(2);
    const next = sandbox.running().find((id) => id !== warmId)!;
    expect(sandbox.sandboxes.get(next)?.appId).not.toBe(appId);
  });

  it('a new app that comes while the warm sandbox boots waits for that boot, not a second one', async () => {
    sandbox.bootDelayMs = 40;
    const r = runtime();
    r.startSweeper(60_000);
    const appId = r.newAppId();
    const handle = await r.boot(appId, { 'src/App.tsx': 'remixed' });
    expect(sandbox.sandboxes.size).toBe(1);
    expect(sandbox.filesOf(appId)).toEqual({ 'src/App.tsx': 'remixed' });
    expect(handle.id.startsWith(`${appId}.`)).toBe(true);
  });

  it('is never stopped for idleness', async () => {
    await storedApp(store, 'stored1', 'stored1');
    const r = runtime();
    r.startSweeper(60_000);
    await settle();
    await r.ensure('stored1');
    clock = 5000;
    expect(await r.stopIdle()).toEqual(['stored1']); // the app went idle; the warm one waits on
    expect(r.counts()).toEqual({ running: 0, starting: 0, warm: 1 });
  });

  it('is the first stopped to make room, even when it was booted after the apps', async () => {
    for (const id of ['stored1', 'stored2', 'stored3']) await storedApp(store, id, id);
    const r = runtime({ maxRunning: 3 });
    clock = 100;
    await r.ensure('stored1');
    clock = 200;
    r.startSweeper(60_000); // boots the warm one now, after stored1
    await settle();
    clock = 300;
    await r.ensure('stored2');
    expect(sandbox.running()).toHaveLength(3);
    clock = 400;
    await r.ensure('stored3'); // the cap is full: the warm sandbox makes room, not stored1
    expect(
      sandbox
        .running()
        .map((id) => sandbox.sandboxes.get(id)!.appId)
        .sort(),
    ).toEqual(['stored1', 'stored2', 'stored3']);
  });

  it('never takes the last free slot', async () => {
    await storedApp(store, 'stored1', 'stored1');
    const r = runtime({ maxRunning: 2 });
    await r.ensure('stored1');
    r.startSweeper(60_000);
    await settle();
    expect(r.counts().warm).toBe(0);
  });

  it('is never booted by stopping an app', async () => {
    await storedApp(store, 'stored1', 'stored1');
    const r = runtime({ maxRunning: 1 });
    await r.ensure('stored1');
    r.startSweeper(60_000);
    await settle();
    expect(sandbox.running().map((id) => sandbox.sandboxes.get(id)!.appId)).toEqual(['stored1']);
  });

  it('when warm boots fail, new apps boot their own and the pool waits before trying again', async () => {
    sandbox.bootError = new Error('no room on the host');
    const r = runtime();
    r.startSweeper(60_000);
    await settle();
    expect(sandbox.maxAlive).toBe(1);
    sandbox.bootError = undefined;
    const release = r.hold('x');
    release(); // the refill's trigger: backed off, so nothing boots yet
    await settle();
    expect(sandbox.sandboxes.size).toBe(0);
    const appId = r.newAppId();
    await r.boot(appId);
    expect(sandbox.running()).toHaveLength(1);
    expect(sandbox.sandboxes.get(sandbox.running()[0]!)?.appId).toBe(appId);
  });

  it('a warm sandbox that died before it was taken is replaced by a fresh boot for that id', async () => {
    const r = runtime();
    r.startSweeper(60_000);
    await settle();
    const dead = sandbox.running()[0]!;
    await sandbox.stop(dead);
    const appId = r.newAppId();
    const handle = await r.boot(appId);
    expect(handle.id).not.toBe(dead);
    expect(sandbox.sandboxes.get(handle.id)?.appId).toBe(appId);
    expect(sandbox.running()).toEqual([handle.id]);
  });

  it('shutdown stops the warm sandboxes, also where sandboxes outlive the bot', async () => {
    sandbox.idlesItself = true; // like Modal: shutdown leaves apps' sandboxes running to re-attach
    const r = runtime();
    r.startSweeper(60_000);
    await settle();
    await storedApp(store, 'stored1', 'stored1');
    await r.ensure('stored1');
    sandbox.stopAll = async () => undefined; // the provider leaves its sandboxes running
    await r.stopAll();
    rt = undefined;
    expect(sandbox.running().map((id) => sandbox.sandboxes.get(id)!.appId)).toEqual(['stored1']);
  });

  it('shutdown stops the warm sandboxes with the rest, also one still booting', async () => {
    sandbox.bootDelayMs = 40;
    const r = runtime({ warm: 2 });
    r.startSweeper(60_000);
    await r.stopAll();
    rt = undefined;
    await settle(60);
    expect(sandbox.running()).toEqual([]);
    expect(sandbox.alive).toBe(0);
  });

  it('a create that waits for a build slot does not hold one meanwhile', async () => {
    const r = runtime({ warm: 2 });
    r.startSweeper(60_000);
    await settle();
    let release!: () => void;
    const gate = new Promise<void>((ok) => (release = ok));
    const model: CodeModel = {
      label: 'gated',
      offline: false,
      generate: async () => {
        await gate;
        const turn: CodeTurn = {
          files: { 'src/main.tsx': 'm', 'src/App.tsx': 'a' },
          title: 'G',
          usage: zeroUsage(),
          repair: async () => turn,
        };
        return turn;
      },
      refine: () => Promise.reject(new Error('not used')),
    };
    const bot = testBot({ store, model, runtime: r, slots: new BuildSlots(1) });
    const conv = new RecordingConversation();
    const ctx = { conv, actor: { id: 'u1' }, channelId: conv.channelId };
    const first = bot.command(ctx, 'a counter app');
    await eventually(() => r.counts().warm === 1); // the first create took one
    const second = bot.command({ ...ctx, actor: { id: 'u2' } }, 'a timer app');
    await settle(50);
    expect(r.counts().warm).toBe(1); // the second waits its turn without taking the other
    release();
    await Promise.all([first, second]);
    expect(conv.cards().filter((c) => c.meta?.state === 'live')).toHaveLength(2);
  });
});
