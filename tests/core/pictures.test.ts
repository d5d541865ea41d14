import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AppRuntime } from '../../src/core/apps/app-runtime.ts';
import type { VibeBot } from '../../src/core/bot.ts';
import type { ChatContext } from '../../src/core/chat/context.ts';
import { fairUsePolicies } from '../../src/core/limits/fair-use.ts';
import type { Actor, AppStore } from '../../src/core/ports/index.ts';
import type { ImageAttachment } from '../../src/core/ports/images.ts';
import { UsageMeter } from '../../src/core/limits/usage-meter.ts';
import { OfflineSampleModel } from '../../src/llm/offline.ts';
import { openAppStore } from '../../src/store/open.ts';
import { MemorySandbox } from '../support/memory-sandbox.ts';
import { makePng } from '../support/png.ts';
import { RecordingConversation } from '../support/recording-conversation.ts';
import { ScriptedModel } from '../support/scripted-model.ts';
import { testBot, testRuntime } from '../support/test-bot.ts';

// Pictures through the core: checked before anything else, sent to the model, never stored.

const alice: Actor = { id: 'u:alice', name: 'alice' };
const APP = (t: string) => ({ 'src/App.tsx': `export default function App() { return <h1>${t}</h1>; }\n` });

let store: AppStore;
let sandbox: MemorySandbox;
let runtime: AppRuntime;
let model: ScriptedModel;
let meter: UsageMeter;
let bot: VibeBot;

beforeEach(async () => {
  store = await openAppStore('memory://');
  sandbox = new MemorySandbox();
  model = new ScriptedModel();
  runtime = testRuntime({ store, sandbox });
  meter = new UsageMeter(store, {});
  bot = testBot({
    store,
    model,
    runtime,
    meter,
    policies: fairUsePolicies({ store, meter, limits: { userBuildsPerHour: 10 } }),
  });
});
afterEach(async () => {
  await bot.idle();
  await runtime.stopAll();
  await store.close();
});

/** A picture attachment; `fetched` counts its downloads. */
function pic(name: string, bytes: Uint8Array, size: number = bytes.length) {
  const a = { name, size, fetched: 0, fetch: async () => (a.fetched++, bytes) };
  return a satisfies ImageAttachment;
}

const ctx = (conv: RecordingConversation, images: ImageAttachment[], threadId?: string): ChatContext => ({
  conv,
  actor: alice,
  channelId: conv.channelId,
  ...(threadId ? { threadId } : {}),
  images,
});

async function createWithPicture(conv: RecordingConversation): Promise<{ appId: string; thread: string }> {
  model.script({ files: APP('from a picture'), title: 'Picture App' });
  await bot.command(ctx(conv, [pic('mockup.png', makePng(2000, 1000))]), 'make it look like this');
  const live = conv.cards().find((c) => c.meta?.state === 'live')!;
  return { appId: live.meta!.appId!, thread: conv.events.find((e) => e.type === 'thread')!.thread! };
}

describe('pictures through the bot', () => {
  it('a create sends the resized picture to the model; the version names it and stores no bytes', async () => {
    const conv = new RecordingConversation();
    const { appId } = await createWithPicture(conv);
    const [call] = model.calls;
    expect(call).toMatchObject({ kind: 'generate', input: 'make it look like this' });
    expect(call!.images).toHaveLength(1);
    expect(call!.images![0]).toMatchObject({ name: 'mockup.png', mediaType: 'image/png', width: 1568, height: 784 });
    const v1 = await store.getVersion(appId, 1);
    expect(v1!.instruction).toBe('make it look like this [picture: mockup.png]');
    expect((await store.getApp(appId))!.prompt).toBe('make it look like this [picture: mockup.png]');
    expect(JSON.stringify(v1)).not.toMatch(/iVBOR|"bytes"/); // no picture data anywhere in the version
  });

  it('a thread reply with a picture refines with it; a picture with no words still says what to do', async () => {
    const conv = new RecordingConversation();
    const { appId, thread } = await createWithPicture(conv);
    model.script({ files: APP('blue') });
    await bot.threadMessage(ctx(conv, [pic('blue.png', makePng(30, 30))], thread), '');
    await bot.idle();
    const refine = model.calls.find((c) => c.kind === 'refine')!;
    expect(refine.input).toBe('Make the app look like the picture.');
    expect(refine.images?.map((i) => i.name)).toEqual(['blue.png']);
    expect((await store.getVersion(appId, 2))!.instruction).toBe(
      'Make the app look like the picture. [picture: blue.png]',
    );
  });

  it('a picture alone (no words) builds the app shown in it', async () => {
    const conv = new RecordingConversation();
    model.script({ files: APP('x'), title: 'X' });
    await bot.command(ctx(conv, [pic('ui.png', makePng(10, 10))]), '   ');
    expect(model.calls[0]).toMatchObject({ kind: 'generate', input: 'Build the app shown in the picture.' });
  });

  for (const [what, images, message] of [
    ['a 30 MB file', () => [pic('huge.png', makePng(10, 10), 30 * 1024 * 1024)], /"huge\.png" is 30\.0 MB/],
    ['a text file named .png', () => [pic('notes.png', new TextEncoder().encode('just text'))], /not a PNG, JPEG/],
    ['a fifth picture', () => [1, 2, 3, 4, 5].map((n) => pic(`p${n}.png`, makePng(8, 8, n))), /at most 4/],
  ] as const)
    it(`refuses ${what} with its message; nothing is posted, built or counted`, async () => {
      const conv = new RecordingConversation();
      await bot.command(ctx(conv, images()), 'an app like this');
      expect(conv.events.map((e) => e.type)).toEqual(['ephemeral']);
      expect(conv.cards('ephemeral')[0]!.text).toMatch(message);
      expect(model.calls).toEqual([]);
      expect(sandbox.sandboxes.size).toBe(0);
      expect((await meter.snapshot({ userId: alice.id, channelId: conv.channelId })).userBuildsThisHour).toBe(0);
    });

  it('a refused picture in a thread changes nothing', async () => {
    const conv = new RecordingConversation();
    const { appId, thread } = await createWithPicture(conv);
    const before = conv.events.length;
    await bot.threadMessage(ctx(conv, [pic('x.gif', new TextEncoder().encode('GIF? no'))], thread), 'like this');
    expect(conv.events.slice(before).map((e) => e.type)).toEqual(['ephemeral']);
    expect(model.calls.filter((c) => c.kind === 'refine')).toEqual([]);
    expect((await store.getApp(appId))!.latestVersion).toBe(1);
  });

  it('the offline model says it cannot read pictures, and nothing is saved', async () => {
    const offline = new OfflineSampleModel({ delayMs: 0 });
    const offBot = testBot({ store, model: offline, runtime });
    const conv = new RecordingConversation();
    await offBot.command(ctx(conv, [pic('a.png', makePng(8, 8))]), 'a todo list like this');
    await offBot.idle();
    const final = conv.cards().at(-1)!;
    expect(final.meta?.state).toBe('failed');
    expect(final.text).toMatch(/offline sample model cannot read pictures/);
    expect((await store.appsInChannel(conv.channelId, 10)).items).toEqual([]);
  });

  it("a mention in a thread that is not an app's gets a hint; a plain message there stays unanswered", async () => {
    const conv = new RecordingConversation();
    await bot.threadMessage({ conv, actor: alice, channelId: conv.channelId, threadId: 't-other' }, 'hello');
    expect(conv.events).toEqual([]);
    await bot.threadMessage(
      { conv, actor: alice, channelId: conv.channelId, threadId: 't-other', mentioned: true },
      'make a timer',
    );
    expect(conv.cards('ephemeral')[0]!.text).toMatch(/Mention me in a channel to build an app/);
  });
});
