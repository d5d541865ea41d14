import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RuntimeBusyError } from '../../src/core/apps/sandbox-slots.ts';
import { zeroUsage } from '../../src/core/limits/usage.ts';
import type { AppStore } from '../../src/core/ports/index.ts';
import { openAppStore } from '../../src/store/open.ts';
import { MemorySandbox } from '../support/memory-sandbox.ts';
import { storedApp } from '../support/stored-app.ts';
import { testRuntime } from '../support/test-bot.ts';

let store: AppStore;
let sandbox: MemorySandbox;
let clock = 0;

function runtime(opts: { idleMs?: number; maxRunning?: number } = {}) {
  return testRuntime({
    store,
    sandbox,
    idleMs: opts.idleMs ?? 1000,
    maxRunning: opts.maxRunning ?? 10,
    now: () => clock,
  });
}

beforeEach(async () => {
  store = await openAppStore('memory://');
  sandbox = new MemorySandbox();
  clock = 0;
});
afterEach(() => store.close());

describe('AppRuntime', () => {
  it('wakes a stopped app from its newest stored version, once for concurrent callers', async () => {
    await storedApp(store, 'app1aa', 'v1');
    await store.addVersion('app1aa', {
      files: { 'src/App.tsx': 'v2' },
      instruction: '',
      authorId: 'u',
      usage: zeroUsage(),
      model: 'm',
    });
    const rt = runtime();
    sandbox.bootDelayMs = 20;
    const [a, b] = await Promise.all([rt.ensure('app1aa'), rt.ensure('app1aa')]);
    expect(a.id).toBe(b.id);
    expect(sandbox.running()).toHaveLength(1);
    expect(sandbox.filesOf('app1aa')).toEqual({ 'src/App.tsx': 'v2' });
    expect((await store.getApp('app1aa'))?.sandboxId).toBe(a.id);
  });

  it('re-attaches a sandbox that outlived the bot instead of booting another', async () => {
    await storedApp(store, 'attach1', 'v1');
    const live = await sandbox.boot('attach1', { 'src/App.tsx': 'v1' });
    await store.updateApp('attach1', { sandboxId: live.id, sandboxUrl: live.url });
    const rt = runtime(); // a fresh runtime, as after a restart
    expect((await rt.ensure('attach1')).id).toBe(live.id);
    expect(sandbox.sandboxes.size).toBe(1);
    await sandbox.stop(live.id);
    const rt2 = runtime();
    const replaced = await rt2.ensure('attach1'); // gone: booted anew from the store
    expect(replaced.id).not.toBe(live.id);
    expect((await store.getApp('attach1'))?.sandboxId).toBe(replaced.id);
  });

  it('replaces a sandbox that died', async () => {
    await storedApp(store, 'app2aa', 'v1');
    const rt = runtime();
    const first = await rt.ensure('app2aa');
    await sandbox.stop(first.id); // died behind the runtime's back
    const second = await rt.ensure('app2aa');
    expect(second.id).not.toBe(first.id);
    expect(sandbox.running()).toEqual([second.id]);
  });

  it('stops apps idle longer than the timeout, but never one that is pinned', async () => {
    await storedApp(store, 'idle01', 'a');
    await storedApp(store, 'busy01', 'b');
    const rt = runtime({ idleMs: 1000 });
    await rt.ensure('idle01');
    await rt.ensure('busy01');
    clock = 5000;
    let release!: () => void;
    const pinned = rt.pinned('busy01', () => new Promise<void>((r) => (release = r)));
    expect(await rt.stopIdle()).toEqual(['idle01']);
    expect(rt.isRunning('busy01')).toBe(true);
    release();
    await pinned;
    clock = 5500;
    expect(await rt.stopIdle()).toEqual([]); // pinned work counts as activity
    clock = 7000;
    expect(await rt.stopIdle()).toEqual(['busy01']);
    expect(sandbox.running()).toEqual([]);
  });

  it('where the host idles sandboxes itself (Modal), stops none and forgets those it stopped', async () => {
    sandbox.idlesItself = true;
    await storedApp(store, 'viewed1', 'a');
    await storedApp(store, 'slept1', 'b');
    const rt = runtime({ idleMs: 1000 });
    await rt.ensure('viewed1');
    const slept = await rt.ensure('slept1');
    await store.updateApp('slept1', { sandboxId: slept.id, sandboxUrl: slept.url });
    clock = 60_000; // long past the bot's idle timeout: viewers may still be on the tunnel
    expect(await rt.stopIdle()).toEqual([]);
    expect(sandbox.running()).toHaveLength(2);
    await sandbox.stop(slept.id); // Modal's idleTimeoutMs stopped it
    expect(await rt.stopIdle()).toEqual(['slept1']);
    expect(rt.isRunning('slept1')).toBe(false);
    expect(rt.isRunning('viewed1')).toBe(true);
    expect((await store.getApp('slept1'))?.sandboxId).toBeUndefined();
  });

  it('a stored sandbox that is gone is cleared from the store before a new one boots', async () => {
    await storedApp(store, 'gone01', 'v1');
    await store.updateApp('gone01', { sandboxId: 'sb-forgotten', sandboxUrl: 'https://old.example/' });
    sandbox.bootError = new Error('no capacity');
    await expect(runtime().ensure('gone01')).rejects.toThrow('no capacity');
    expect((await store.getApp('gone01'))?.sandboxUrl).toBeUndefined();
  });

  it('keeps under the cap by stopping the longest-idle app', async () => {
    for (const id of ['capaaa', 'capbbb', 'capccc']) await storedApp(store, id, id);
    const rt = runtime({ maxRunning: 2 });
    await rt.ensure('capaaa');
    clock = 10;
    await rt.ensure('capbbb');
    clock = 20;
    rt.touch('capaaa'); // capbbb is now the longest idle
    await rt.ensure('capccc');
    expect(rt.isRunning('capbbb')).toBe(false);
    expect(rt.isRunning('capaaa')).toBe(true);
    expect(rt.counts().running).toBe(2);
    expect(sandbox.running()).toHaveLength(2);
  });

  it('refuses to wake a deleted or unknown app', async () => {
    await storedApp(store, 'gone01', 'x');
    await store.deleteApp('gone01');
    const rt = runtime();
    await expect(rt.ensure('gone01')).rejects.toThrow(/no app/);
    await expect(rt.ensure('never1')).rejects.toThrow(/no app/);
    expect(sandbox.running()).toEqual([]);
  });

  it('never runs more sandboxes than the cap, counting those still starting (50 concurrent wakes, cap 4)', async () => {
    const ids = Array.from({ length: 50 }, (_, i) => `wake${String(i).padStart(3, '0')}`);
    for (const id of ids) await storedApp(store, id, id);
    sandbox.bootDelayMs = 20;
    const rt = runtime({ maxRunning: 4 });
    // Gateway wakes do not queue: beyond the cap they are refused as busy.
    const results = await Promise.allSettled(ids.map((id) => rt.ensure(id, { wait: false })));
    expect(sandbox.maxAlive).toBeLessThanOrEqual(4);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(4);
    expect(
      results
        .filter((r) => r.status === 'rejected')
        .every((r) => (r as PromiseRejectedResult).reason instanceof RuntimeBusyError),
    ).toBe(true);
    // Builds wait their turn: all 50 get a sandbox in the end, still never more than 4 at once.
    await Promise.all(ids.map((id) => rt.ensure(id)));
    expect(sandbox.maxAlive).toBeLessThanOrEqual(4);
    expect(rt.slotsInUse()).toBeLessThanOrEqual(4);
  });

  it('never stops a held app to make room: a start waits until the hold ends', async () => {
    for (const id of ['holdaa', 'holdbb', 'holdcc', 'holddd']) await storedApp(store, id, id);
    const rt = runtime({ maxRunning: 2 });
    const releaseA = rt.hold('holdaa');
    const releaseB = rt.hold('holdbb');
    await rt.ensure('holdaa');
    await rt.ensure('holdbb');
    let waited = false;
    const third = rt.ensure('holdcc', { wait: true, onWait: () => (waited = true) });
    await new Promise((r) => setTimeout(r, 30));
    expect(waited).toBe(true);
    expect(rt.isRunning('holdaa') && rt.isRunning('holdbb')).toBe(true);
    await expect(rt.ensure('holddd', { wait: false })).rejects.toBeInstanceOf(RuntimeBusyError);
    releaseB();
    await third;
    expect(rt.isRunning('holdbb')).toBe(false); // the one no longer held made room
    expect(rt.isRunning('holdaa')).toBe(true);
    expect(sandbox.maxAlive).toBeLessThanOrEqual(2);
    releaseA();
  });

  it('a wake under way when the app is deleted leaves nothing running', async () => {
    await storedApp(store, 'delwak', 'x');
    sandbox.bootDelayMs = 50;
    const rt = runtime();
    const waking = rt.ensure('delwak');
    await new Promise((r) => setTimeout(r, 10));
    await store.deleteApp('delwak'); // as the bot does: deleted first, then stopped
    await rt.stop('delwak');
    await expect(waking).rejects.toThrow(/no app/);
    expect(rt.isRunning('delwak')).toBe(false);
    expect(sandbox.running()).toEqual([]);
  });

  it('sends files the sandbox holds already no second time, and after a failed write sends them again', async () => {
    await storedApp(store, 'wrt1aa', 'v1');
    const rt = runtime();
    await rt.ensure('wrt1aa');
    const sent: string[] = [];
    const write = sandbox.write.bind(sandbox);
    let fail = false;
    sandbox.write = async (id, files) => {
      sent.push(files['src/App.tsx']!);
      if (fail) throw new Error('the sandbox went away mid-write');
      return write(id, files);
    };
    expect(await rt.write('wrt1aa', { 'src/App.tsx': 'v2' })).toEqual([]);
    expect(await rt.write('wrt1aa', { 'src/App.tsx': 'v2' })).toEqual([]); // the live writer's, then the build loop's
    expect(sent).toEqual(['v2']);
    // Refused files are not held: sent again each time.
    expect(await rt.write('wrt1aa', { 'src/App.tsx': 'REFUSED' })).toHaveLength(1);
    expect(await rt.write('wrt1aa', { 'src/App.tsx': 'REFUSED' })).toHaveLength(1);
    expect(sent).toEqual(['v2', 'REFUSED', 'REFUSED']);
    // A write that failed may have left anything in src/: the next write goes out, even of v2.
    fail = true;
    await expect(rt.write('wrt1aa', { 'src/App.tsx': 'v3' })).rejects.toThrow(/mid-write/);
    fail = false;
    expect(await rt.write('wrt1aa', { 'src/App.tsx': 'v2' })).toEqual([]);
    expect(sent).toEqual(['v2', 'REFUSED', 'REFUSED', 'v3', 'v2']);
    expect(sandbox.filesOf('wrt1aa')).toEqual({ 'src/App.tsx': 'v2' });
  });
});
