import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AppRuntime } from '../../src/core/apps/app-runtime.ts';
import type { VibeBot } from '../../src/core/bot.ts';
import type { ChatContext } from '../../src/core/chat/context.ts';
import type { Actor, AppStore } from '../../src/core/ports/index.ts';
import { Publisher } from '../../src/core/apps/publisher.ts';
import { AppGateway } from '../../src/sandbox/gateway.ts';
import { PublishedSite } from '../../src/sandbox/published-site.ts';
import { openAppStore } from '../../src/store/open.ts';
import { eventually } from '../support/eventually.ts';
import { MemorySandbox } from '../support/memory-sandbox.ts';
import { RecordingConversation } from '../support/recording-conversation.ts';
import { ScriptedModel } from '../support/scripted-model.ts';
import { testBot, testRuntime } from '../support/test-bot.ts';

// Publishing on first view: an app with nothing published (stored before publishing, or whose
// publish failed) is published by its first page load. Page loads come from strangers, so a
// burst of them must neither queue in the app's change line (where the owner's changes are
// capped at 3 waiting) nor start a publish each, nor retry a failing one on every load.

const quiet = pino({ level: 'silent' });
const alice: Actor = { id: 'u:alice', name: 'alice' };
const APP = (t: string) => ({ 'src/App.tsx': `export default function App() { return <h1>${t}</h1>; }\n` });

/** A sandbox whose light-view build can be held (`gate`) or made to fail (`fail`); each build is recorded. */
class BuildingSandbox extends MemorySandbox {
  readonly builds: string[] = [];
  gate?: Promise<void>;
  fail?: Error;

  async lightBuild(id: string, source: string): Promise<Map<string, Uint8Array>> {
    this.builds.push(source);
    if (this.gate) await this.gate;
    if (this.fail) throw this.fail;
    const text = Object.values(this.sandboxes.get(id)?.files ?? {}).join('');
    return new Map([['index.html', Buffer.from(`<html><head></head><body>${text}</body></html>`)]]);
  }
}

let store: AppStore;
let sandbox: BuildingSandbox;
let runtime: AppRuntime;
let model: ScriptedModel;
let bot: VibeBot;
let conv: RecordingConversation;
let site: PublishedSite;
let gateway: AppGateway;
let base: string;
let now: number;
/** Lets a held build go on (afterEach too, so a failed test leaves nothing waiting). */
let release = () => {};
/** Loads that asked the bot to publish the app. */
let asked = 0;

const ctx = (threadId?: string): ChatContext => ({ conv, actor: alice, channelId: conv.channelId, threadId });

beforeEach(async () => {
  now = Date.UTC(2030, 0, 1);
  asked = 0;
  store = await openAppStore('memory://');
  sandbox = new BuildingSandbox();
  runtime = testRuntime({ store, sandbox });
  model = new ScriptedModel();
  const publisher = new Publisher({ store, runtime, logger: quiet, now: () => now });
  bot = testBot({ store, model, runtime, publisher });
  conv = new RecordingConversation();
  site = new PublishedSite({ store, logger: quiet, publishLatest: (id) => (asked++, bot.publishLatest(id)) });
  // Room for 200 loads at once from this one test client (the per-client cap is tested in gateway-limits).
  gateway = new AppGateway({
    resolve: async () => undefined,
    logger: quiet,
    published: site,
    limits: { perClientConnections: 400 },
  });
  base = `http://127.0.0.1:${(await gateway.listen(0, '127.0.0.1')).port}`;
});
afterEach(async () => {
  release();
  await bot.idle();
  site.close();
  await gateway.close();
  await runtime.stopAll();
  await store.close();
});

/** An app whose first version is stored but not published (its publish failed). */
async function unpublishedApp(): Promise<{ appId: string; thread: string }> {
  sandbox.fail = new Error('the light build failed');
  model.script({ files: APP('v1'), title: 'Counter' });
  await bot.command(ctx(), 'a counter');
  sandbox.fail = undefined;
  const appId = conv.cards().find((c) => c.meta?.state === 'live')!.meta!.appId!;
  const app = (await store.getApp(appId))!;
  expect(app.publishedVersion).toBeUndefined();
  sandbox.builds.length = 0;
  return { appId, thread: app.threadId };
}

const load = (appId: string) =>
  fetch(`${base}/apps/${appId}/`).then(async (r) => ({ status: r.status, headers: r.headers, body: await r.text() }));

describe('publishing on first view', () => {
  it("a burst of 200 loads starts one publish and leaves the owner's next change admitted", async () => {
    const { appId, thread } = await unpublishedApp();
    sandbox.gate = new Promise<void>((r) => (release = r));

    const loads = Array.from({ length: 200 }, () => load(appId));
    for (const l of loads) l.catch(() => undefined); // awaited below; a failed test leaves none unhandled
    // Every load has asked for the publish (and one has reached the sandbox's build).
    await eventually(() => asked === 200 && sandbox.builds.length === 1);

    // The owner's change while the publish is under way: admitted (it waits for the publish),
    // not refused with "3 changes waiting".
    model.script({ files: APP('v2') });
    const change = bot.threadMessage(ctx(thread), 'make it say v2');
    await eventually(() =>
      conv.events.some((e) => e.type === 'ephemeral' || (e.type === 'reply' && e.card?.title?.startsWith('Changing'))),
    );
    expect(conv.cards('ephemeral').map((c) => c.text)).toEqual([]);

    release();
    const answers = await Promise.all(loads);
    expect(answers.map((a) => a.status)).toEqual(Array(200).fill(200));
    expect(answers[0]!.body).toContain('v1');
    await change;
    expect(conv.cards('ephemeral').map((c) => c.text)).toEqual([]);
    expect(model.calls.filter((c) => c.kind === 'refine')).toHaveLength(1);
    expect(await store.getApp(appId)).toMatchObject({ latestVersion: 2, publishedVersion: 2 });
    // One build for the 200 loads (v1), one for the change (v2).
    expect(sandbox.builds).toHaveLength(2);
    expect(new Set(sandbox.builds).size).toBe(2);
  });

  it('a failed publish is not retried by every load: one try per burst, then a growing backoff', async () => {
    const { appId, thread } = await unpublishedApp();
    sandbox.fail = new Error('the light build failed');

    const burst = await Promise.all(Array.from({ length: 200 }, () => load(appId)));
    expect(burst.map((a) => a.status)).toEqual(Array(200).fill(503));
    expect(sandbox.builds).toHaveLength(1);

    // Loads during the backoff are answered at once, with when to come back; nothing is built.
    const waiting = await load(appId);
    expect(waiting.status).toBe(503);
    expect(Number(waiting.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(sandbox.builds).toHaveLength(1);

    // Once it has passed, one more try; it fails again, so the next wait is longer.
    now += 6_000;
    expect((await load(appId)).status).toBe(503);
    expect(sandbox.builds).toHaveLength(2);
    now += 6_000;
    expect((await load(appId)).status).toBe(503);
    expect(sandbox.builds).toHaveLength(2);
    now += 6_000;
    sandbox.fail = undefined;
    const served = await load(appId);
    expect(served.status).toBe(200);
    expect(sandbox.builds).toHaveLength(3);

    // The owner's changes were never held up by any of it.
    model.script({ files: APP('v2') });
    await bot.threadMessage(ctx(thread), 'make it say v2');
    expect(conv.cards('ephemeral').map((c) => c.text)).toEqual([]);
    expect(await store.getApp(appId)).toMatchObject({ latestVersion: 2, publishedVersion: 2 });
  });
});
