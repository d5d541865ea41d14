import { MessageFlags } from 'discord.js';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startDiscord, type RunningDiscord } from '../../adapters/discord/discord-adapter.ts';
import { channelKey } from '../../adapters/discord/discord-ids.ts';
import type { AppRuntime } from '../../src/core/apps/app-runtime.ts';
import type { VibeBot } from '../../src/core/bot.ts';
import { fairUsePolicies } from '../../src/core/limits/fair-use.ts';
import type { AppStore } from '../../src/core/ports/index.ts';
import { UsageMeter } from '../../src/core/limits/usage-meter.ts';
import { openAppStore } from '../../src/store/open.ts';
import { startFakeDiscord, type FakeDiscord } from '../fakes/discord/server.ts';
import { MemorySandbox } from '../support/memory-sandbox.ts';
import { PictureBrowser } from '../support/picture-browser.ts';
import { readPng } from '../support/png.ts';
import { ScriptedModel } from '../support/scripted-model.ts';
import { testBot, testRuntime } from '../support/test-bot.ts';

// Remix, link cards and the thread as the spec through the real discord.js client against the
// fake Discord (REST + gateway).

const logger = pino({ level: 'silent' });
const APP = (t: string) => ({ 'src/App.tsx': `export default function App() { return <h1>${t}</h1>; }\n` });

let fake: FakeDiscord;
let store: AppStore;
let runtime: AppRuntime;
let model: ScriptedModel;
let bot: VibeBot;
let discord: RunningDiscord | undefined;
let bob: string;

beforeEach(async () => {
  fake = await startFakeDiscord({ interactionCallbackDeadlineMs: 10_000 });
  bob = fake.addMember('bob');
  store = await openAppStore('memory://');
  model = new ScriptedModel();
  runtime = testRuntime({
    store,
    sandbox: new MemorySandbox(),
    maxRunning: 50,
    linkBase: 'https://apps.test',
    browser: new PictureBrowser(),
  });
  const meter = new UsageMeter(store, {});
  bot = testBot({ store, model, runtime, meter, policies: fairUsePolicies({ store, meter, limits: {} }) });
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
const alice = () => fake.fixture.user.id;
const guild = () => fake.fixture.guildId;
const body = (r: { body?: unknown }) => JSON.stringify(r.body ?? {});

async function settled(): Promise<void> {
  await discord!.idle();
  await bot.idle();
}

/** `/vibe create` through to the live card; the card's message id (= its thread's id) and the app id. */
async function create(prompt: string, title: string): Promise<{ threadId: string; appId: string }> {
  model.script({ files: APP(title), title, summary: `About ${title}` });
  const sent = fake.sendCommand({ subcommand: 'create', options: { prompt } });
  const live = await fake.waitForRequest(
    'PATCH',
    /\/webhooks\/\d+\/[^/]+\/messages\/@original$/,
    (r) => r.path.includes(sent.token) && body(r).includes('apps.test') && !body(r).includes('Watch it being built'),
    10_000,
  );
  await settled();
  return {
    threadId: fake.interaction(sent.id)!.originalMessageId!,
    appId: /apps\.test\/apps\/([a-z0-9]+)\//.exec(body(live))![1]!,
  };
}

/** Runs until `done` holds (or fails after 10 s): for work the bot does after an event it did not answer. */
async function until(done: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`not within 10 s: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  await settled();
}

describe('Remix on Discord', () => {
  it("a Remix press makes the presser's own app in a new thread of the channel; the original is untouched", async () => {
    const first = await create('a timer', 'Focus Timer');
    const before = fake.requests.length;
    fake.clickButton({ customId: `vibe:remix:${first.appId}`, messageId: first.threadId, userId: bob });
    await until(
      () => fake.messages(general()).some((m) => JSON.stringify(m.embeds).includes('Remixed from Focus Timer')),
      'the remix card',
    );
    const card = fake.messages(general()).find((m) => JSON.stringify(m.embeds).includes('Remixed from'))!;
    expect(card.id).not.toBe(first.threadId);
    expect(fake.threads().map((t) => t.id)).toContain(card.id); // its own thread
    const remix = (await store.appForThread(`discord:${guild()}:${card.id}`))!;
    expect(remix).toMatchObject({ ownerId: `discord:${guild()}:${bob}`, remixOf: { appId: first.appId } });
    expect((await store.getVersion(remix.id, 1))?.files).toEqual((await store.getVersion(first.appId, 1))?.files);
    expect(await store.getApp(first.appId)).toMatchObject({
      ownerId: `discord:${guild()}:${alice()}`,
      latestVersion: 1,
    });
    expect(model.calls.map((c) => c.kind)).toEqual(['generate']);
    const posts = fake.requests
      .slice(before)
      .filter((r) => r.method === 'POST' && r.path.endsWith(`/channels/${general()}/messages`));
    expect(posts).toHaveLength(1);
  });

  it('/vibe remix app:<id>; an id from nowhere is refused privately', async () => {
    const first = await create('a timer', 'Focus Timer');
    fake.sendCommand({ subcommand: 'remix', options: { app: first.appId }, userId: bob });
    await until(
      async () => (await store.appsOfUser(`discord:${guild()}:${bob}`, 5)).items.some((a) => a.latestVersion === 1),
      'the remix',
    );
    const nope = fake.sendCommand({ subcommand: 'remix', options: { app: 'zzzz9999' }, userId: bob });
    const answer = await fake.waitForRequest(
      'PATCH',
      /messages\/@original$/,
      (r) => r.path.includes(nope.token),
      10_000,
    );
    expect(body(answer)).toContain('There is no app');
    expect(fake.interaction(nope.id)?.callback?.data).toMatchObject({ flags: 64 });
  });
});

describe('Link cards on Discord', () => {
  it('a posted app link gets a reply: an embed with the latest screenshot, the version, Open/Thread/Remix', async () => {
    const { threadId, appId } = await create('a timer', 'Focus Timer');
    model.script({ files: APP('Blue') });
    fake.messageCreate({ channelId: threadId, content: 'make it blue' });
    await until(async () => (await store.getApp(appId))?.latestVersion === 2, 'v2');
    const url = `https://apps.test/apps/${appId}/`;
    const asked = fake.messageCreate({ channelId: general(), content: `look at this: ${url}`, userId: bob });
    await until(() => fake.messages(general()).some((m) => m.message_reference?.message_id === asked.id), 'the reply');

    const reply = fake.messages(general()).find((m) => m.message_reference?.message_id === asked.id)!;
    expect(reply.author.id).toBe(fake.fixture.applicationId);
    const [embed] = reply.embeds;
    expect(embed).toMatchObject({ title: 'Focus Timer', description: 'About Focus Timer', url });
    expect(embed!.fields?.find((f) => f.name === 'Version')?.value).toBe('v2');
    expect(embed!.image?.url).toContain('/screenshot.png');
    expect(reply.files.map((f) => f.filename)).toEqual(['screenshot.png']);
    expect(readPng(reply.files[0]!.data)).toEqual({ width: 102, height: 40 }); // v2's picture
    const buttons = reply.components!.flatMap(
      (r) => (r as { components: { label: string; url?: string; custom_id?: string }[] }).components,
    );
    expect(buttons.map((b) => b.label)).toEqual(['Open', 'Thread', 'Remix']);
    expect(buttons[1]!.url).toBe(`https://discord.com/channels/${guild()}/${threadId}`);
    expect(buttons[2]!.custom_id).toBe(`vibe:remix:${appId}`);
    const sentReply = fake.requests.find((r) => r.method === 'POST' && body(r).includes(asked.id))!;
    expect((sentReply.body as { allowed_mentions: unknown }).allowed_mentions).toEqual({
      parse: [],
      replied_user: false,
    });
  });

  it("no reply when embeds are suppressed, for a deleted app's link, or for a link that is not an app's", async () => {
    const { appId } = await create('a timer', 'Focus Timer');
    const gone = await create('a clock', 'Clock');
    await store.deleteApp(gone.appId);
    const url = `https://apps.test/apps/${appId}/`;
    const quiet = [
      fake.messageCreate({ channelId: general(), content: url, flags: MessageFlags.SuppressEmbeds }),
      fake.messageCreate({ channelId: general(), content: `no preview: <${url}>` }),
      fake.messageCreate({ channelId: general(), content: `https://apps.test/apps/${gone.appId}/` }),
      fake.messageCreate({ channelId: general(), content: 'https://example.com/apps/abcd1234/' }),
    ];
    const control = fake.messageCreate({ channelId: general(), content: `${url}.` });
    await until(
      () => fake.messages(general()).some((m) => m.message_reference?.message_id === control.id),
      'a reply to the control',
    );
    for (const m of quiet)
      expect(fake.messages(general()).filter((r) => r.message_reference?.message_id === m.id)).toEqual([]);
  });
});

describe('A mention with an app link on Discord', () => {
  it('builds what it asks for, with no link card beside it (one answer to one message)', async () => {
    const { appId } = await create('a timer', 'Focus Timer');
    const url = `https://apps.test/apps/${appId}/`;
    model.script({ files: APP('Clock'), title: 'Clock' });
    const asked = fake.messageCreate({
      channelId: general(),
      content: `<@${fake.fixture.bot.id}> a clock like ${url} but round`,
    });
    await until(() => model.calls.filter((c) => c.kind === 'generate').length === 2, 'the create');
    await until(
      async () => (await store.appsInChannel(channelKey(guild(), general()), 10)).items.length === 2,
      'the new app',
    );
    expect(model.calls.at(-1)).toMatchObject({ kind: 'generate', input: `a clock like ${url} but round` });
    const cards = fake
      .messages(general())
      .filter((m) => m.message_reference?.message_id === asked.id && m.embeds.some((e) => e.title === 'Focus Timer'));
    expect(cards).toEqual([]);
  });
});

describe('The thread is the spec on Discord', () => {
  it('/vibe create inside an ordinary thread builds from its discussion (its first message included) and answers there', async () => {
    const starter = fake.messageCreate({ channelId: general(), content: 'we need a dice roller for game night' });
    const thread = fake.state.startThreadFromMessage(general(), starter.id, { name: 'dice' }, fake.fixture.user);
    fake.messageCreate({ channelId: thread.id, content: 'two dice please', userId: bob });
    fake.messageCreate({ channelId: thread.id, content: 'with a history of rolls' });
    await settled();
    expect(fake.messages(thread.id).filter((m) => m.author.bot)).toEqual([]); // not an app's thread: quiet
    model.script({ files: APP('Dice'), title: 'Dice Roller' });
    fake.sendCommand({
      subcommand: 'create',
      options: { prompt: 'make it colourful' },
      channelId: thread.id,
      userId: bob,
    });
    await until(
      () => fake.messages(thread.id).some((m) => JSON.stringify(m.embeds).includes('apps.test')),
      'the card in the thread',
    );

    expect(model.calls[0]).toMatchObject({
      kind: 'generate',
      input: 'make it colourful',
      thread: [
        { author: 'alice', text: 'we need a dice roller for game night' },
        { author: 'bob', text: 'two dice please' },
        { author: 'alice', text: 'with a history of rolls' },
      ],
    });
    const app = (await store.appForThread(`discord:${guild()}:${thread.id}`))!;
    expect(app).toMatchObject({ title: 'Dice Roller', ownerId: `discord:${guild()}:${bob}` });
    expect(fake.threads()).toHaveLength(1); // no new thread

    // The discussion goes on in the app's thread: a reply refines it, with what was said since v1.
    model.script({ error: new Error('the model is down') });
    fake.messageCreate({ channelId: thread.id, content: 'show the sum too', userId: bob });
    await until(() => model.calls.length === 2, 'the first change');
    model.script({ files: APP('Dice with sum') });
    fake.messageCreate({ channelId: thread.id, content: 'try again what bob asked' });
    await until(async () => (await store.getApp(app.id))?.latestVersion === 2, 'v2');
    expect(model.calls[2]).toMatchObject({
      kind: 'refine',
      input: 'try again what bob asked',
      thread: [{ author: 'bob', text: 'show the sum too' }],
    });
  });
});
