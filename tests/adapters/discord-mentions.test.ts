import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { vibeCommand } from '../../adapters/discord/commands.ts';
import { startDiscord, type RunningDiscord } from '../../adapters/discord/discord-adapter.ts';
import type { AppRuntime } from '../../src/core/apps/app-runtime.ts';
import type { VibeBot } from '../../src/core/bot.ts';
import type { AppStore } from '../../src/core/ports/index.ts';
import { openAppStore } from '../../src/store/open.ts';
import { startFakeDiscord, type FakeDiscord } from '../fakes/discord/server.ts';
import { MemorySandbox } from '../support/memory-sandbox.ts';
import { makePng } from '../support/png.ts';
import { ScriptedModel } from '../support/scripted-model.ts';
import { testBot, testRuntime } from '../support/test-bot.ts';

// Mentions and pictures on Discord: the real discord.js client against the fake gateway, REST
// and CDN. (Discord has no streaming API: the status message is edited, as for /vibe create.)

const logger = pino({ level: 'silent' });
const APP = (t: string) => ({ 'src/App.tsx': `export default function App() { return <h1>${t}</h1>; }\n` });

let fake: FakeDiscord;
let store: AppStore;
let runtime: AppRuntime;
let model: ScriptedModel;
let bot: VibeBot;
let discord: RunningDiscord | undefined;

beforeEach(async () => {
  fake = await startFakeDiscord({ interactionCallbackDeadlineMs: 10_000 });
  store = await openAppStore('memory://');
  model = new ScriptedModel();
  runtime = testRuntime({ store, sandbox: new MemorySandbox(), linkBase: 'https://apps.test' });
  bot = testBot({ store, model, runtime });
  discord = await startDiscord({ bot, logger, settings: { token: fake.token, apiUrl: fake.apiUrl } });
});
afterEach(async () => {
  await discord?.stop();
  discord = undefined;
  await bot.idle();
  await runtime.stopAll();
  await fake.close();
  await store.close();
});

const general = () => fake.fixture.textChannel.id;
const mention = (text: string) => `<@${fake.fixture.bot.id}> ${text}`;
const body = (r: { body?: unknown }) => JSON.stringify(r.body ?? {});

/** Waits until everything the client received so far has been handled. */
async function settle(): Promise<void> {
  await discord!.idle();
  await bot.idle();
}

/** The first REST message the bot posted in a channel, once it is there. */
const postedIn = (channel: string) =>
  fake.waitForRequest('POST', new RegExp(`/channels/${channel}/messages$`), undefined, 10_000);

describe('Discord mentions and pictures', () => {
  it('/vibe create with an image option builds from the picture, resized', async () => {
    model.script({ files: APP('x'), title: 'X' });
    const sent = fake.sendCommand({
      subcommand: 'create',
      options: { prompt: 'a landing page like this' },
      attachments: { image: { name: 'mock.png', data: makePng(2400, 1200), contentType: 'image/png' } },
    });
    const live = await fake.waitForRequest(
      'PATCH',
      /\/webhooks\/\d+\/[^/]+\/messages\/@original$/,
      (r) => r.path.includes(sent.token) && body(r).includes('apps.test') && !body(r).includes('Watch it being built'),
      10_000,
    );
    const appId = /apps\.test\/apps\/([a-z0-9]+)\//.exec(body(live))![1]!;
    await bot.idle();
    expect(model.calls[0]).toMatchObject({ kind: 'generate', input: 'a landing page like this' });
    expect(model.calls[0]!.images?.map((i) => [i.name, i.width, i.height])).toEqual([['mock.png', 1568, 784]]);
    expect((await store.getVersion(appId, 1))!.instruction).toBe('a landing page like this [picture: mock.png]');
  });

  it('the registered /vibe create has an optional image attachment option after the prompt', () => {
    const create = (
      vibeCommand().options as { name: string; options?: { name: string; type: number; required?: boolean }[] }[]
    ).find((o) => o.name === 'create')!;
    expect(create.options!.map((o) => [o.name, o.type, o.required ?? false])).toEqual([
      ['prompt', 3, true],
      ['image', 11, false],
    ]);
  });

  it('a mention in a channel creates an app with its attached picture; its thread then takes a picture too', async () => {
    model.script({ files: APP('one'), title: 'One' }, { files: APP('two') });
    fake.messageCreate({
      channelId: general(),
      content: mention('a timer that looks like this'),
      files: [{ name: 'timer.png', data: makePng(300, 200), contentType: 'image/png' }],
    });
    await postedIn(general());
    await settle();
    expect(model.calls[0]).toMatchObject({ kind: 'generate', input: 'a timer that looks like this' });
    expect(model.calls[0]!.images?.[0]).toMatchObject({ name: 'timer.png', width: 300, height: 200 });
    const thread = fake.threads()[0]!;
    fake.messageCreate({
      channelId: thread.id,
      content: 'these colours',
      files: [{ name: 'palette.png', data: makePng(50, 50), contentType: 'image/png' }],
    });
    await fake.waitForRequest('POST', new RegExp(`/channels/${thread.id}/messages$`), undefined, 10_000);
    await settle();
    const refine = model.calls.find((c) => c.kind === 'refine')!;
    expect(refine.input).toBe('these colours');
    expect(refine.images?.map((i) => i.name)).toEqual(['palette.png']);
  });

  it('a 30 MB picture is refused with its message, and nothing is built', async () => {
    fake.messageCreate({
      channelId: general(),
      content: mention('like this'),
      files: [{ name: 'big.png', data: new Uint8Array(30 * 1024 * 1024), contentType: 'image/png' }],
    });
    const told = await postedIn(general());
    await settle();
    expect(body(told)).toMatch(/big\.png\W+ is 30\.0 MB/);
    expect(model.calls).toEqual([]);
    expect(fake.threads()).toEqual([]);
  });

  it('a text file given as /vibe create image: is refused privately, and nothing is built', async () => {
    const sent = fake.sendCommand({
      subcommand: 'create',
      options: { prompt: 'like this' },
      attachments: { image: { name: 'mock.png', data: new TextEncoder().encode('hello'), contentType: 'image/png' } },
    });
    const followUp = await fake.waitForRequest('POST', new RegExp(`/webhooks/\\d+/${sent.token}$`), undefined, 10_000);
    await bot.idle();
    expect(body(followUp)).toMatch(/not a PNG, JPEG, GIF or WebP picture/);
    expect(model.calls).toEqual([]);
  });

  it('plain channel chatter that does not name the bot is ignored', async () => {
    fake.messageCreate({ channelId: general(), content: 'just chatting about timers' });
    // Dispatched after it, in order: once the bot answered this one, the chatter was handled too.
    fake.messageCreate({ channelId: general(), content: mention('help') });
    const help = await postedIn(general());
    await settle();
    expect(body(help)).toContain('/vibe create prompt:');
    expect(fake.requestsTo('POST', new RegExp(`/channels/${general()}/messages$`))).toHaveLength(1);
    expect(model.calls).toEqual([]);
  });
});
