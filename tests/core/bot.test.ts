import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppRuntime } from '../../src/core/apps/app-runtime.ts';
import { VibeBot } from '../../src/core/bot.ts';
import type { ChatContext } from '../../src/core/chat/context.ts';
import { UserError } from '../../src/core/errors.ts';
import type { Actor, AppStore } from '../../src/core/ports/index.ts';
import { OfflineSampleModel } from '../../src/llm/offline.ts';
import { openAppStore } from '../../src/store/open.ts';
import { MemorySandbox } from '../support/memory-sandbox.ts';
import { RecordingConversation } from '../support/recording-conversation.ts';
import { ScriptedModel } from '../support/scripted-model.ts';
import { testBot, testRuntime } from '../support/test-bot.ts';

const logger = pino({ level: 'silent' });
const alice: Actor = { id: 'u:alice', name: 'alice' };
const bob: Actor = { id: 'u:bob', name: 'bob' };
const APP = (text: string) => ({ 'src/App.tsx': `export default function App() { return <h1>${text}</h1>; }\n` });

let store: AppStore;
let sandbox: MemorySandbox;
let runtime: AppRuntime;
let model: ScriptedModel;

function makeBot(m = model as ScriptedModel | OfflineSampleModel, maxRunning = 10) {
  runtime = testRuntime({ store, sandbox, maxRunning });
  return testBot({ store, model: m, runtime, galleryPageSize: 2 });
}

function ctx(conv: RecordingConversation, actor = alice, threadId?: string): ChatContext {
  return { conv, actor, channelId: conv.channelId, threadId };
}

/** Creates an app and returns its id and thread. */
async function createApp(
  bot: VibeBot,
  conv: RecordingConversation,
  text = 'v1',
): Promise<{ appId: string; thread: string }> {
  model.script({ files: APP(text), title: `Title ${text}`, summary: 'A test app' });
  await bot.command(ctx(conv), `make ${text}`);
  const live = conv
    .cards()
    .reverse()
    .find((c) => c.meta?.state === 'live');
  const thread = conv.events.find((e) => e.type === 'thread')!.thread!;
  return { appId: live!.meta!.appId!, thread };
}

beforeEach(async () => {
  store = await openAppStore('memory://');
  sandbox = new MemorySandbox();
  model = new ScriptedModel();
});
afterEach(async () => {
  await runtime?.stopAll();
  await store.close();
});

describe('create', () => {
  it('goes queued -> writing -> checking -> live, in one status message, and stores version 1', async () => {
    const bot = makeBot();
    const conv = new RecordingConversation();
    model.script({ files: APP('Timer'), title: 'Focus Timer', summary: 'A pomodoro timer' });
    await bot.command(ctx(conv), 'a pomodoro timer');

    const post = conv.events[0]!;
    const postId = post.id!;
    expect(post.type).toBe('post');
    expect(conv.events.filter((e) => e.type === 'post')).toHaveLength(1);
    const texts = conv.events.filter((e) => e.id === post.id).map((e) => e.card?.text ?? '');
    expect(texts[0]).toMatch(/Queued/);
    expect(texts.some((t) => /Writing code/.test(t))).toBe(true);
    const final = conv.latest(postId)!;
    expect(final.meta).toMatchObject({ state: 'live', version: 1 });
    expect(final.title).toBe('Focus Timer');
    expect(final.links?.[0]?.url).toBe(`http://links.test/apps/${final.meta!.appId}/`);

    const app = await store.getApp(final.meta!.appId!);
    expect(app).toMatchObject({
      title: 'Focus Timer',
      summary: 'A pomodoro timer',
      ownerId: 'u:alice',
      latestVersion: 1,
      channelId: 'test:c1',
    });
    expect((await store.getVersion(app!.id, 1))?.files).toEqual(APP('Timer'));
    expect((await store.appForThread(postId))?.id).toBe(app!.id);
    expect(sandbox.filesOf(app!.id)).toEqual(APP('Timer'));
  });

  it('boots the sandbox while the model is still writing', async () => {
    const bot = makeBot();
    const conv = new RecordingConversation();
    model.delayMs = 80;
    sandbox.bootDelayMs = 60;
    model.script({ files: APP('x'), title: 'X' });
    const t0 = Date.now();
    await bot.command(ctx(conv), 'anything');
    expect(Date.now() - t0).toBeLessThan(80 + 60 + 40); // sequential would be ≥ 140 ms plus work
    expect(conv.cards().at(-1)?.meta?.state).toBe('live');
  });

  it('feeds check errors back to the model and goes live after a repair round', async () => {
    const bot = makeBot();
    const conv = new RecordingConversation();
    model.script({ files: { 'src/App.tsx': 'BROKEN' }, title: 'Fixed' }, { files: APP('fixed') });
    await bot.command(ctx(conv), 'something');
    expect(model.calls.map((c) => c.kind)).toEqual(['generate', 'repair']);
    expect(model.calls[1]!.input).toMatch(/src\/App.tsx:1:1 TS2304/);
    expect(conv.cards().some((c) => /Repairing \(round 1 of 2\)/.test(c.text ?? ''))).toBe(true);
    const final = conv.cards().at(-1)!;
    expect(final.meta?.state).toBe('live');
    expect(final.title).toBe('Fixed');
    expect((await store.getVersion(final.meta!.appId!, 1))?.usage.inputTokens).toBe(20); // both rounds counted
  });

  it('gives up honestly after 2 repair rounds: last error shown, nothing stored, no sandbox left running', async () => {
    const bot = makeBot();
    const conv = new RecordingConversation();
    model.script(
      { files: { 'src/App.tsx': 'BROKEN' } },
      { files: { 'src/App.tsx': 'BROKEN 2' } },
      { files: { 'src/App.tsx': 'BROKEN 3' } },
    );
    await bot.command(ctx(conv), 'something');
    expect(model.calls.map((c) => c.kind)).toEqual(['generate', 'repair', 'repair']);
    const final = conv.cards().at(-1)!;
    expect(final.meta?.state).toBe('failed');
    expect(final.text).toMatch(/after 2 repair rounds/);
    expect(final.text).toMatch(/src\/App.tsx:1:1 TS2304/);
    expect((await store.appsInChannel('test:c1', 10)).items).toHaveLength(0);
    expect(sandbox.running()).toEqual([]);
  });

  it('reports a sandbox that cannot boot, stores nothing and leaves nothing running', async () => {
    const bot = makeBot();
    const conv = new RecordingConversation();
    sandbox.bootError = new Error('no ports left');
    model.delayMs = 50;
    model.script({ files: APP('x') });
    await bot.command(ctx(conv), 'something');
    const final = conv.cards().at(-1)!;
    expect(final.meta?.state).toBe('failed');
    expect(final.text).toMatch(/error [a-z0-9]{6}/);
    expect((await store.appsInChannel('test:c1', 10)).items).toHaveLength(0);
    expect(sandbox.running()).toEqual([]);
  });

  it('answers bad input with help or a clear refusal', async () => {
    const bot = makeBot();
    const conv = new RecordingConversation();
    await bot.command(ctx(conv), '');
    await bot.command(ctx(conv), 'x'.repeat(4001));
    await bot.command(ctx(conv), 'galery');
    const [empty, long, typo] = conv.cards('ephemeral');
    expect(empty?.text).toMatch(/Tell me what to build/);
    expect(long?.text).toMatch(/limit is 4000/);
    expect(typo?.text).toMatch(/Did you mean/);
    expect(model.calls).toHaveLength(0);
  });
});

describe('refine', () => {
  it('makes a new version from a thread reply, in place in one reply', async () => {
    const bot = makeBot();
    const conv = new RecordingConversation();
    const { appId, thread } = await createApp(bot, conv);
    model.script({ files: APP('v2'), message: 'Made it v2.' });
    await bot.threadMessage(ctx(conv, bob, thread), 'make it v2');
    expect(model.calls.at(-1)).toMatchObject({ kind: 'refine', input: 'make it v2', files: APP('v1') });
    const replies = conv.events.filter((e) => e.type === 'reply');
    expect(replies).toHaveLength(1);
    const final = conv.latest(replies[0]!.id!)!;
    expect(final.meta).toMatchObject({ state: 'live', version: 2, appId });
    expect((await store.getVersion(appId, 2))?.authorId).toBe('u:bob');
    expect(sandbox.filesOf(appId)).toEqual(APP('v2'));
  });

  it('runs refinements of one app one at a time, in order', async () => {
    const bot = makeBot();
    const conv = new RecordingConversation();
    const { appId, thread } = await createApp(bot, conv);
    model.delayMs = 30;
    model.script({ files: APP('a') }, { files: APP('b') }, { files: APP('c') });
    await Promise.all(['a', 'b', 'c'].map((t) => bot.threadMessage(ctx(conv, alice, thread), `to ${t}`)));
    const refines = model.calls.filter((c) => c.kind === 'refine');
    expect(refines.map((c) => c.input)).toEqual(['to a', 'to b', 'to c']);
    expect(refines[1]!.files).toEqual(APP('a')); // each starts from the previous one's result
    expect(refines[2]!.files).toEqual(APP('b'));
    expect((await store.getApp(appId))?.latestVersion).toBe(4);
    expect(conv.cards('reply').some((c) => /Queued: 2 changes ahead/.test(c.text ?? ''))).toBe(true);
  });

  it('keeps the app unchanged when a change cannot be repaired', async () => {
    const bot = makeBot();
    const conv = new RecordingConversation();
    const { appId, thread } = await createApp(bot, conv);
    model.script(
      { files: { 'src/App.tsx': 'BROKEN' } },
      { files: { 'src/App.tsx': 'BROKEN' } },
      { files: { 'src/App.tsx': 'BROKEN' } },
    );
    await bot.threadMessage(ctx(conv, alice, thread), 'break it');
    expect(conv.cards().at(-1)?.text).toMatch(/unchanged at v1/);
    expect((await store.getApp(appId))?.latestVersion).toBe(1);
    expect(sandbox.filesOf(appId)).toEqual(APP('v1'));
  });

  it("ignores threads that are not apps' and notes a thread still being built", async () => {
    const bot = makeBot();
    const conv = new RecordingConversation();
    await bot.threadMessage(ctx(conv, alice, 'some-other-thread'), 'hello');
    expect(conv.events).toHaveLength(0);
    model.delayMs = 50;
    model.script({ files: APP('x') });
    const creating = bot.command(ctx(conv), 'slow app');
    await new Promise((r) => setTimeout(r, 20));
    const thread = conv.events.find((e) => e.type === 'thread')!.thread!;
    await bot.threadMessage(ctx(conv, alice, thread), 'already?');
    await creating;
    expect(conv.cards('reply')[0]?.text).toMatch(/Still building/);
  });

  it('wakes a stopped sandbox from the stored files', async () => {
    const bot = makeBot();
    const conv = new RecordingConversation();
    const { appId, thread } = await createApp(bot, conv);
    await runtime.stop(appId);
    expect(sandbox.running()).toEqual([]);
    model.script({ files: APP('v2') });
    await bot.threadMessage(ctx(conv, alice, thread), 'v2 please');
    expect(sandbox.filesOf(appId)).toEqual(APP('v2'));
    expect(sandbox.running()).toHaveLength(1);
  });
});

describe('history and delete', () => {
  it('undo walks back through versions; restore copies a version; a missing version is a clear error', async () => {
    const bot = makeBot();
    const conv = new RecordingConversation();
    const { appId, thread } = await createApp(bot, conv);
    model.script({ files: APP('v2') }, { files: APP('v3') });
    await bot.threadMessage(ctx(conv, alice, thread), 'v2');
    await bot.threadMessage(ctx(conv, alice, thread), 'v3');
    await bot.command(ctx(conv, alice, thread), 'undo');
    expect(await store.getVersion(appId, 4)).toMatchObject({ files: APP('v2'), basedOn: 2 });
    await bot.command(ctx(conv, alice, thread), 'undo');
    expect(await store.getVersion(appId, 5)).toMatchObject({ files: APP('v1'), basedOn: 1 });
    expect(sandbox.filesOf(appId)).toEqual(APP('v1'));
    await bot.command(ctx(conv, alice, thread), 'undo');
    expect(conv.cards('ephemeral').at(-1)?.text).toMatch(/Nothing to undo/);
    await bot.command(ctx(conv, alice, thread), 'restore 3');
    expect((await store.getVersion(appId, 6))?.files).toEqual(APP('v3'));
    await bot.command(ctx(conv, alice, thread), 'restore 9');
    expect(conv.cards('ephemeral').at(-1)?.text).toMatch(/Version 9 does not exist; this app has versions 1 to 6/);
    await bot.action(ctx(conv, alice), 'restore', `${appId}:2`);
    expect((await store.getApp(appId))?.latestVersion).toBe(7);
  });

  it('only the owner or a manager may undo; only the owner may delete, after confirming', async () => {
    const bot = makeBot();
    const conv = new RecordingConversation();
    const { appId, thread } = await createApp(bot, conv);
    model.script({ files: APP('v2') });
    await bot.threadMessage(ctx(conv, alice, thread), 'v2');
    await bot.command(ctx(conv, bob, thread), 'undo');
    expect(conv.cards('ephemeral').at(-1)?.text).toMatch(/Only the app's owner \(alice\) or a channel manager/);
    await bot.command(ctx(conv, { ...bob, isManager: true }, thread), 'undo');
    expect((await store.getApp(appId))?.latestVersion).toBe(3);

    await bot.action(ctx(conv, bob), 'delete', appId);
    expect(conv.cards('ephemeral').at(-1)?.text).toMatch(/Only the app's owner/);
    await bot.action(ctx(conv, alice), 'delete', appId);
    expect(conv.cards('ephemeral').at(-1)?.actions?.[0]).toMatchObject({ action: 'delete-confirm', value: appId });
    expect((await store.getApp(appId))?.deleted).toBeFalsy();
    await bot.action(ctx(conv, alice), 'delete-confirm', appId);
    expect((await store.getApp(appId))?.deleted).toBe(true);
    expect(sandbox.running()).toEqual([]);
    expect(await store.appForThread(thread)).toBeUndefined();
  });
});

describe('gallery', () => {
  it('pages newest first and updates the same message when a page button is pressed', async () => {
    const bot = makeBot();
    const conv = new RecordingConversation();
    for (const t of ['one', 'two', 'three']) await createApp(bot, conv, t);
    await bot.command(ctx(conv), 'gallery');
    const post = conv.events.at(-1)!;
    expect(post.type).toBe('ephemeral'); // only the asker sees it, and pages it
    const first = post.card!;
    expect(first.items?.map((i) => i.title)).toEqual(['Title three', 'Title two']);
    expect(first.items?.[0]?.fields).toContainEqual({ label: 'Status', value: 'live' });
    const next = first.actions!.find((a) => a.label === 'Next')!;
    await bot.action(
      { ...ctx(conv), source: { id: 'gallery-message', channelId: conv.channelId } },
      next.action,
      next.value,
    );
    const second = conv.latest('gallery-message')!;
    expect(second.items?.map((i) => i.title)).toEqual(['Title one']);
    expect(second.actions?.map((a) => a.label)).toEqual(['Previous']);
  });
});

describe('inbound events and policies (once, in the core)', () => {
  it('ignores bots and handles a re-delivered event id once', async () => {
    const bot = makeBot();
    const conv = new RecordingConversation();
    const { thread } = await createApp(bot, conv, 'one');
    model.script({ files: APP('two') });
    await bot.threadMessage({ ...ctx(conv, alice, thread), fromBot: true }, 'a bot talking');
    await bot.threadMessage({ ...ctx(conv, alice, thread), eventId: 'test:event:1' }, 'make it two');
    await bot.threadMessage({ ...ctx(conv, alice, thread), eventId: 'test:event:1' }, 'make it two');
    expect(model.calls.filter((c) => c.kind === 'refine').map((c) => c.input)).toEqual(['make it two']);
  });

  it('runs every registered policy before a handler; a refusal is private and nothing is built', async () => {
    const seen: string[] = [];
    runtime = testRuntime({ store, sandbox });
    const bot = new VibeBot({
      store,
      model,
      runtime,
      logger,
      statusIntervalMs: 0,
      policies: [
        { name: 'log', admit: async (r) => void seen.push(`${r.kind}:${r.ctx.actor.id}`) },
        {
          name: 'no-creates-for-bob',
          admit: async (r) => {
            if (r.kind === 'create' && r.ctx.actor.id === bob.id)
              throw new UserError('You have used your builds for this hour; try again at 15:00.');
          },
        },
      ],
    });
    const conv = new RecordingConversation();
    await bot.command(ctx(conv, bob), 'a timer');
    expect(conv.events.map((e) => e.type)).toEqual(['ephemeral']);
    expect(conv.events[0]!.card?.text).toMatch(/used your builds/);
    expect(model.calls).toEqual([]);
    await bot.command(ctx(conv), 'gallery');
    expect(seen).toEqual(['create:u:bob', 'gallery:u:alice']);
  });
});

describe('mine', () => {
  it("lists the caller's apps across this workspace's channels only, privately, paged", async () => {
    const bot = makeBot();
    const general = new RecordingConversation('test:c1');
    const random = new RecordingConversation('test:c2');
    const elsewhere = new RecordingConversation('other:c1'); // another workspace
    await createApp(bot, general, 'one');
    await createApp(bot, random, 'two');
    await createApp(bot, elsewhere, 'three');
    model.script({ files: APP('bobs'), title: 'Title bobs' });
    await bot.command(ctx(general, bob), 'make bobs');
    await bot.command(ctx(general), 'mine');
    const post = general.events.at(-1)!;
    expect(post.type).toBe('ephemeral');
    expect(post.card?.title).toBe('Your apps');
    expect(post.card?.items?.map((i) => i.title)).toEqual(['Title two', 'Title one']);
    const empty = new RecordingConversation('test:c3');
    await bot.command(ctx(empty, { id: 'u:carol', name: 'carol' }), 'mine');
    expect(empty.events.at(-1)?.card?.title).toBe('You have no apps here yet');
  });

  it('pages with buttons that stay on the same list', async () => {
    const bot = makeBot();
    const conv = new RecordingConversation();
    for (const t of ['one', 'two', 'three']) await createApp(bot, conv, t);
    await bot.command(ctx(conv), 'mine');
    const next = conv.events.at(-1)!.card!.actions!.find((a) => a.label === 'Next')!;
    expect(next.action).toBe('mine');
    await bot.action(
      { ...ctx(conv), source: { id: 'mine-message', channelId: conv.channelId } },
      next.action,
      next.value,
    );
    expect(conv.latest('mine-message')!.items?.map((i) => i.title)).toEqual(['Title one']);
  });
});

describe('offline sample model', () => {
  it('says "offline sample model" on every message and refuses to edit', async () => {
    const bot = makeBot(new OfflineSampleModel({ delayMs: 0 }));
    const conv = new RecordingConversation();
    await bot.command(ctx(conv), 'a pomodoro timer');
    const thread = conv.events.find((e) => e.type === 'thread')!.thread!;
    await bot.threadMessage(ctx(conv, alice, thread), 'make it blue');
    await bot.command(ctx(conv), 'help');
    const cards = conv.cards();
    expect(cards.length).toBeGreaterThan(3);
    for (const c of cards) expect(c.footer).toMatch(/offline sample model/);
    expect(cards.find((c) => c.meta?.state === 'live')?.title).toMatch(/Pomodoro/i);
    expect(cards.at(-2)?.text).toMatch(/offline sample model cannot edit/);
  });
});

describe('sandbox caps and refusals', () => {
  it('a third create under a cap of 2 waits for a sandbox, says so, and goes live', async () => {
    const bot = makeBot(model, 2);
    let open!: () => void;
    model.gate = new Promise<void>((r) => (open = r));
    model.script(
      { files: APP('one'), title: 'One' },
      { files: APP('two'), title: 'Two' },
      { files: APP('three'), title: 'Three' },
    );
    const convs = [new RecordingConversation(), new RecordingConversation(), new RecordingConversation()];
    const runs = convs.map((c, i) => bot.command(ctx(c), `make app ${i}`));
    await new Promise((r) => setTimeout(r, 30));
    // Two sandboxes are held by builds whose model is still writing; the third waits, and says so.
    expect(sandbox.running()).toHaveLength(2);
    expect(convs[2]!.cards().some((c) => /Waiting for a free sandbox/.test(c.text ?? ''))).toBe(true);
    open();
    await Promise.all(runs);
    for (const c of convs) expect(c.cards().at(-1)?.meta?.state).toBe('live');
    expect(sandbox.maxAlive).toBeLessThanOrEqual(2);
  });

  it('files the sandbox refuses go back to the model as check errors, and nothing refused is written', async () => {
    const bot = makeBot();
    const conv = new RecordingConversation();
    model.script({ files: { 'src/App.tsx': "import env from '../../.env?raw'; // REFUSED" } }, { files: APP('fixed') });
    await bot.command(ctx(conv), 'show my env');
    const repair = model.calls.find((c) => c.kind === 'repair');
    expect(repair?.input).toMatch(/query or hash/);
    const live = conv.cards().at(-1)!;
    expect(live.meta?.state).toBe('live');
    expect(Object.values(sandbox.filesOf(live.meta!.appId!) ?? {}).join('')).not.toContain('REFUSED');
  });
});
