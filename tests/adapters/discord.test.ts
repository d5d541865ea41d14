import { PermissionFlagsBits } from 'discord.js';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startDiscord, type RunningDiscord } from '../../adapters/discord/discord-adapter.ts';
import { AppRuntime } from '../../src/core/apps/app-runtime.ts';
import { VibeBot } from '../../src/core/bot.ts';
import type { ChatContext } from '../../src/core/chat/context.ts';
import type { AppStore } from '../../src/core/ports/index.ts';
import { openAppStore } from '../../src/store/open.ts';
import { startFakeDiscord, type FakeDiscord } from '../fakes/discord/server.ts';
import { runScript } from '../support/bot-process.ts';
import { MemorySandbox } from '../support/memory-sandbox.ts';
import { PictureBot } from '../support/picture-bot.ts';
import { makePng, readPng } from '../support/png.ts';
import { ScriptedModel } from '../support/scripted-model.ts';
import { testBot, testRuntime } from '../support/test-bot.ts';

// The real discord.js Client against a fake Discord (REST + gateway) on loopback.

const logger = pino({ level: 'silent' });
const APP = (t: string) => ({ 'src/App.tsx': `export default function App() { return <h1>${t}</h1>; }\n` });

let fake: FakeDiscord;
let store: AppStore;
let runtime: AppRuntime;
let model: ScriptedModel;
let bot: VibeBot;
let discord: RunningDiscord | undefined;
let bob: string;
let mod: string;

beforeEach(async () => {
  fake = await startFakeDiscord({ interactionCallbackDeadlineMs: 10_000 });
  bob = fake.addMember('bob');
  mod = fake.addMember('mod', PermissionFlagsBits.ManageMessages);
  store = await openAppStore('memory://');
  const sandbox = new MemorySandbox();
  model = new ScriptedModel();
  runtime = testRuntime({ store, sandbox, maxRunning: 50, linkBase: 'https://apps.test' });
  bot = testBot({ store, model, runtime, galleryPageSize: 5 });
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
const body = (r: { body?: unknown }) => JSON.stringify(r.body ?? {});

/** `/vibe create` through to the live card; returns the reply message id, thread id and app id. */
async function create(
  prompt: string,
  title = 'Focus Timer',
): Promise<{ messageId: string; threadId: string; appId: string }> {
  model.script({ files: APP(title), title, summary: `About ${title}` });
  const sent = fake.sendCommand({ subcommand: 'create', options: { prompt } });
  const live = await fake.waitForRequest(
    'PATCH',
    /\/webhooks\/\d+\/[^/]+\/messages\/@original$/,
    (r) => r.path.includes(sent.token) && body(r).includes('apps.test') && !body(r).includes('Watch it being built'),
    10_000,
  );
  await bot.idle();
  const appId = /apps\.test\/apps\/([a-z0-9]+)\//.exec(body(live))![1]!;
  const messageId = fake.interaction(sent.id)!.originalMessageId!;
  const thread = fake.threads().find((t) => t.id === messageId)!;
  return { messageId, threadId: thread.id, appId };
}

describe('Discord (real discord.js client, fake gateway + REST)', () => {
  it('/vibe create: deferred (type 5), status edited in place, thread started, embed with link and buttons', async () => {
    const { messageId, threadId, appId } = await create('a pomodoro timer');
    const callbacks = fake.requestsTo('POST', /\/interactions\/\d+\/[^/]+\/callback/);
    expect(callbacks).toHaveLength(1);
    expect((callbacks[0]!.body as { type: number }).type).toBe(5);
    const edits = fake.requestsTo('PATCH', /messages\/@original$/);
    expect(edits.length).toBeGreaterThan(1);
    expect(fake.requestsTo('POST', /\/threads$/)).toHaveLength(1);
    expect(threadId).toBe(messageId);
    const final = fake.message(general(), messageId);
    expect(final.embeds[0]?.title).toBe('Focus Timer');
    expect(final.embeds[0]?.description).toContain('About Focus Timer');
    const buttons = final.components!.flatMap(
      (row) => (row as { components: { label?: string; url?: string; custom_id?: string }[] }).components,
    );
    expect(buttons.find((b) => b.label === 'Open')?.url).toBe(`https://apps.test/apps/${appId}/`);
    expect(buttons.map((b) => b.label)).toEqual([
      'Open',
      'Live edit view',
      'Undo',
      'Versions',
      'Export',
      'Remix',
      'Delete',
    ]);
    expect(buttons.find((b) => b.label === 'Live edit view')?.url).toBe(`https://apps.test/apps/${appId}/dev/`);
    for (const r of fake.requests.filter(
      (x) => ['POST', 'PATCH'].includes(x.method) && !x.path.includes('/callback') && !x.path.endsWith('/threads'),
    )) {
      expect((r.body as { allowed_mentions?: unknown }).allowed_mentions).toEqual({ parse: [] });
    }
    expect((await store.appForThread(`discord:${fake.fixture.guildId}:${threadId}`))?.id).toBe(appId);
  });

  it('a message in the thread refines the app; progress is one reply edited in place; bots are ignored', async () => {
    const { threadId, appId } = await create('a timer');
    model.script({ files: APP('Blue') });
    const before = fake.requests.length;
    fake.messageCreate({ channelId: threadId, content: 'make it blue', userId: bob });
    await fake.waitForRequest(
      'PATCH',
      new RegExp(`/channels/${threadId}/messages/\\d+$`),
      (r) => body(r).includes('v2'),
      10_000,
    );
    await discord!.idle(); // the adapter's own work (its own messages echoed back included), then the bot's
    await bot.idle();
    const posts = fake.requests
      .slice(before)
      .filter((r) => r.method === 'POST' && r.path.endsWith(`/channels/${threadId}/messages`));
    expect(posts).toHaveLength(1);
    const replies = fake.messages(threadId).filter((m) => m.author.bot);
    expect(replies).toHaveLength(1);
    expect(replies[0]!.edits).toBeGreaterThan(0);
    expect((await store.getVersion(appId, 2))?.authorId).toBe(`discord:${fake.fixture.guildId}:${bob}`);
    expect(model.calls.filter((c) => c.kind === 'refine')).toHaveLength(1); // the bot's own messages did not count
  });

  it('gallery: embeds, 5 a page, Previous/Next update the same message', async () => {
    for (let i = 1; i <= 7; i++) await create(`app ${i}`, `App ${i}`);
    const sent = fake.sendCommand({ subcommand: 'gallery' });
    const first = await fake.waitForRequest(
      'PATCH',
      /messages\/@original$/,
      (r) => r.path.includes(sent.token),
      10_000,
    );
    await bot.idle();
    const page1 = first.body as {
      embeds: { title: string; url?: string; fields?: { name: string; value: string }[] }[];
      components: { components: { label: string; custom_id?: string }[] }[];
    };
    expect(page1.embeds.map((e) => e.title)).toEqual([
      'Apps in this channel',
      'App 7',
      'App 6',
      'App 5',
      'App 4',
      'App 3',
    ]);
    expect(page1.embeds[1]?.url).toMatch(/^https:\/\/apps\.test\/apps\//);
    expect(page1.embeds[1]?.fields?.find((f) => f.name === 'Owner')?.value).toBe(`<@${fake.fixture.user.id}>`);
    expect(fake.interaction(sent.id)?.callback?.data).toMatchObject({ flags: 64 }); // private to the asker
    const next = page1.components.flatMap((r) => r.components).find((b) => b.label === 'Next')!;
    const messageId = fake.interaction(sent.id)!.originalMessageId!;
    const click = fake.clickButton({ customId: next.custom_id!, messageId });
    const second = await fake.waitForRequest(
      'PATCH',
      /messages\/@original$/,
      (r) => r.path.includes(click.token),
      10_000,
    );
    expect(fake.interaction(click.id)?.callback?.type).toBe(6); // deferred update of the same message
    expect((second.body as typeof page1).embeds.map((e) => e.title)).toEqual([
      'Apps in this channel',
      'App 2',
      'App 1',
    ]);
    // Each entry's Remix, named for its entry, then the paging.
    expect((second.body as typeof page1).components.flatMap((r) => r.components).map((b) => b.label)).toEqual([
      'Remix: App 2',
      'Remix: App 1',
      'Previous',
    ]);
  });

  it('Undo needs the owner or Manage Messages; Delete asks first and only the owner may', async () => {
    const { messageId, threadId, appId } = await create('a timer');
    model.script({ files: APP('v2') });
    fake.messageCreate({ channelId: threadId, content: 'v2 please' });
    await fake.waitForRequest(
      'PATCH',
      new RegExp(`/channels/${threadId}/messages/\\d+$`),
      (r) => body(r).includes('v2'),
      10_000,
    );
    await bot.idle();
    const click = async (userId: string, customId: string) => {
      const c = fake.clickButton({ customId, messageId, userId });
      // The private reply is either filled (PATCH) or, when the answer went to the thread, removed (DELETE).
      const done = () =>
        fake.requests.find(
          (r) =>
            r.path.includes(c.token) &&
            r.path.endsWith('/messages/@original') &&
            (r.method === 'PATCH' || r.method === 'DELETE'),
        );
      const deadline = Date.now() + 10_000;
      while (!done() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      await bot.idle();
      return { ...c, answer: body(done() ?? {}) };
    };
    const refused = await click(bob, `vibe:undo:${appId}`);
    expect(refused.answer).toContain('Only the app');
    expect(fake.interaction(refused.id)?.callback?.data).toMatchObject({ flags: 64 });
    expect((await store.getApp(appId))?.latestVersion).toBe(2);
    await click(mod, `vibe:undo:${appId}`);
    expect((await store.getApp(appId))?.latestVersion).toBe(3);
    expect(fake.messages(threadId).some((m) => JSON.stringify(m.embeds).includes('Restored v1 as v3'))).toBe(true);
    const ask = await click(fake.fixture.user.id, `vibe:delete:${appId}`);
    expect(ask.answer).toContain(`vibe:delete-confirm:${appId}`);
    expect((await store.getApp(appId))?.deleted).toBeFalsy();
    const modDelete = await click(mod, `vibe:delete-confirm:${appId}`);
    expect(modDelete.answer).toContain('Only the app');
    await click(fake.fixture.user.id, `vibe:delete-confirm:${appId}`);
    expect((await store.getApp(appId))?.deleted).toBe(true);
  });

  it("after the 15-minute interaction token expires, the status is edited through the bot's own message", async () => {
    model.delayMs = 300;
    model.script({ files: APP('Late'), title: 'Late App' });
    const sent = fake.sendCommand({ subcommand: 'create', options: { prompt: 'a slow app' } });
    await fake.waitForRequest('PATCH', /messages\/@original$/, (r) => r.path.includes(sent.token), 10_000);
    fake.interactions.age(sent.id, 16 * 60_000);
    const messageId = fake.interaction(sent.id)!.originalMessageId!;
    await fake.waitForRequest(
      'PATCH',
      new RegExp(`/channels/${general()}/messages/${messageId}$`),
      (r) => body(r).includes('apps.test') && !body(r).includes('Watch it being built'),
      10_000,
    );
    await bot.idle();
    expect(fake.message(general(), messageId).embeds[0]?.title).toBe('Late App');
  });

  it('resumes after the gateway drops and keeps working', async () => {
    fake.dropConnection(4000);
    const deadline = Date.now() + 10_000;
    while (fake.gateway.resumes < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(fake.gateway.resumes).toBe(1);
    expect(fake.gateway.identifies).toBe(1);
    await create('after a reconnect', 'Resumed App');
  });

  it('escapes user and model text for Discord markdown, and pings nobody', async () => {
    const { messageId } = await create('@everyone look', '**Loud** @everyone <@123>');
    const final = fake.message(general(), messageId);
    expect(final.embeds[0]?.title).toBe('\\*\\*Loud\\*\\* @everyone <@123>');
    expect(
      fake.requests
        .filter((r) => r.method !== 'GET' && !r.path.includes('/callback') && !r.path.endsWith('/threads') && r.body)
        .every((r) => body(r).includes('"allowed_mentions":{"parse":[]}')),
    ).toBe(true);
  });

  it('help answers privately with the Discord forms of the commands', async () => {
    const help = fake.sendCommand({ subcommand: 'help' });
    const h = await fake.waitForRequest('PATCH', /messages\/@original$/, (r) => r.path.includes(help.token), 10_000);
    expect(body(h)).toContain('/vibe create prompt:');
    expect(fake.interaction(help.id)?.callback?.data).toMatchObject({ flags: 64 });
  });
});

describe('Discord screenshots (a card with a PNG)', () => {
  const png = makePng();
  let pictures: PictureBot;
  let warnings: string[];

  /** The adapter around a stand-in core whose live cards carry `png` (replacing the one beforeEach started). */
  async function startPictures(): Promise<void> {
    await discord?.stop();
    pictures = new PictureBot(png);
    warnings = [];
    const recording = { ...logger, warn: (_obj: object, msg?: string) => void warnings.push(msg ?? '') };
    discord = await startDiscord({
      bot: pictures.asBot(),
      logger: recording,
      settings: { token: fake.token, apiUrl: fake.apiUrl },
    });
  }

  const isMultipart = (r: { headers: Record<string, string> }) =>
    r.headers['content-type']?.startsWith('multipart/form-data');

  it('attaches the PNG to the message itself, and its embed shows attachment://screenshot.png', async () => {
    await startPictures();
    const sent = fake.sendCommand({ subcommand: 'create', options: { prompt: 'a pomodoro timer' } });
    const live = await fake.waitForRequest(
      'PATCH',
      /\/webhooks\/\d+\/[^/]+\/messages\/@original$/,
      (r) => r.path.includes(sent.token) && r.files.length > 0,
      10_000,
    );
    await discord!.idle();
    expect(pictures.errors).toEqual([]);
    expect(isMultipart(live)).toBe(true);
    expect(live.body.embeds[0].image).toEqual({ url: 'attachment://screenshot.png' });
    expect(live.body.attachments).toEqual([{ id: '0', description: 'Screenshot of Focus Timer, v1' }]);
    expect(live.files.map((f) => [f.field, f.filename, f.contentType])).toEqual([
      ['files[0]', 'screenshot.png', 'image/png'],
    ]);
    const messageId = fake.interaction(sent.id)!.originalMessageId!;
    const stored = fake.message(general(), messageId);
    expect(stored.attachments).toMatchObject([{ filename: 'screenshot.png', width: 1280, height: 800 }]);
    expect(stored.embeds[0]?.image?.url).toBe(stored.attachments[0]!.url);
    expect(readPng(stored.files[0]!.data)).toEqual({ width: 1280, height: 800 });
    expect(stored.files[0]!.data.equals(Buffer.from(png))).toBe(true);

    // A refinement: its reply is edited through REST with the new picture, replacing any earlier one.
    const thread = fake.threads().find((t) => t.id === messageId)!;
    fake.messageCreate({ channelId: thread.id, content: 'make it blue', userId: bob });
    const edit = await fake.waitForRequest(
      'PATCH',
      new RegExp(`/channels/${thread.id}/messages/\\d+$`),
      (r) => r.files.length > 0,
      10_000,
    );
    expect(edit.body).toMatchObject({
      attachments: [{ id: '0', description: 'Screenshot of Focus Timer, v2' }],
      embeds: [{ image: { url: 'attachment://screenshot.png' } }],
    });
    // Undo: one reply created with the picture.
    fake.messageCreate({ channelId: thread.id, content: 'undo', userId: bob });
    const post = await fake.waitForRequest(
      'POST',
      new RegExp(`/channels/${thread.id}/messages$`),
      (r) => r.files.length > 0,
      10_000,
    );
    await discord!.idle();
    expect(pictures.errors).toEqual([]);
    expect(post.body.attachments).toEqual([{ id: '0', description: 'Screenshot of Focus Timer, v3' }]);
    const replies = fake.messages(thread.id).filter((m) => m.author.bot);
    expect(replies.map((m) => m.attachments.length)).toEqual([1, 1]);
    for (const m of replies) {
      expect(readPng(m.files[0]!.data)).toEqual({ width: 1280, height: 800 });
      expect(m.embeds[0]?.image?.url).toBe(m.attachments[0]!.url);
    }
    expect(warnings).toEqual([]);
  });

  it('a send whose upload fails is sent again without the file, and logged: the text always arrives', async () => {
    await discord?.stop();
    discord = undefined;
    await fake.close();
    fake = await startFakeDiscord({ interactionCallbackDeadlineMs: 10_000, uploadLimit: 10_000 });
    bob = fake.addMember('bob');
    await startPictures();
    const sent = fake.sendCommand({ subcommand: 'create', options: { prompt: 'a pomodoro timer' } });
    await fake.waitForRequest(
      'PATCH',
      /messages\/@original$/,
      (r) => r.path.includes(sent.token) && r.status === 413,
      10_000,
    );
    const retry = await fake.waitForRequest(
      'PATCH',
      /messages\/@original$/,
      (r) => r.path.includes(sent.token) && body(r).includes('Focus Timer') && r.status === 200,
      10_000,
    );
    await discord!.idle();
    expect(pictures.errors).toEqual([]);
    expect(retry.files).toEqual([]);
    expect(retry.body.embeds[0].image).toBeUndefined();
    const stored = fake.message(general(), fake.interaction(sent.id)!.originalMessageId!);
    expect(stored.embeds[0]?.title).toBe('Focus Timer');
    expect(stored.attachments).toEqual([]);
    expect(warnings).toEqual(['discord: sending the screenshot failed; sending the message without it']);

    // The same through REST: a refinement's reply edited with a file too big, then without it.
    const thread = fake.threads()[0]!;
    fake.messageCreate({ channelId: thread.id, content: 'make it blue', userId: bob });
    await fake.waitForRequest(
      'PATCH',
      new RegExp(`/channels/${thread.id}/messages/\\d+$`),
      (r) => r.status === 200 && body(r).includes('Focus Timer'),
      10_000,
    );
    await discord!.idle();
    expect(fake.requestsTo('PATCH', new RegExp(`/channels/${thread.id}/messages/\\d+$`)).map((r) => r.status)).toEqual([
      413, 200,
    ]);
    expect(fake.messages(thread.id).filter((m) => m.author.bot)[0]?.embeds[0]?.title).toBe('Focus Timer');
    expect(warnings).toHaveLength(2);
  });
});

describe('Discord files (a card with a file)', () => {
  const zip = new Uint8Array([0x50, 0x4b, 0x03, 0x04, ...Array.from({ length: 300 }, (_, i) => (i * 7) % 256)]);
  const file = { name: 'pomodoro-timer-ab12cd34ef.zip', bytes: zip, mime: 'application/zip' };
  const isMultipart = (r: { headers: Record<string, string> }) =>
    r.headers['content-type']?.startsWith('multipart/form-data');

  it('attaches the file to the message (REST reply, and an edit through discord.js); no embed shows it', async () => {
    await discord?.stop();
    const errors: unknown[] = [];
    const warnings: string[] = [];
    // As the core sends an export: a thread reply carrying the zip; then the original edited with it too.
    const exporter = {
      dispatch: async (ctx: ChatContext) => {
        try {
          const ref = await ctx.conv.post({ title: 'Focus Timer', text: 'The app' });
          const thread = await ctx.conv.startThread(ref, 'Focus Timer');
          await ctx.conv.reply(thread, { text: 'The app as a zip', file });
          await ctx.conv.update(ref, { title: 'Focus Timer', text: 'Exported', file });
        } catch (err) {
          errors.push(err);
        }
      },
      connect: () => () => undefined,
      idle: async () => undefined,
    } as unknown as VibeBot;
    discord = await startDiscord({
      bot: exporter,
      logger: { ...logger, warn: (_obj: object, msg?: string) => void warnings.push(msg ?? '') },
      settings: { token: fake.token, apiUrl: fake.apiUrl },
    });
    const sent = fake.sendCommand({ subcommand: 'create', options: { prompt: 'export it' } });
    const edit = await fake.waitForRequest(
      'PATCH',
      /\/webhooks\/\d+\/[^/]+\/messages\/@original$/,
      (r) => r.path.includes(sent.token) && r.files.length > 0,
      10_000,
    );
    await discord.idle();
    expect(errors).toEqual([]);
    expect(warnings).toEqual([]);
    const messageId = fake.interaction(sent.id)!.originalMessageId!;
    const thread = fake.threads().find((t) => t.id === messageId)!;
    const [post] = fake.requestsTo('POST', new RegExp(`/channels/${thread.id}/messages$`));
    for (const r of [post!, edit]) {
      expect(isMultipart(r)).toBe(true);
      expect(r.files.map((f) => [f.field, f.filename, f.contentType])).toEqual([
        ['files[0]', file.name, 'application/zip'],
      ]);
      expect(r.files[0]!.data.equals(Buffer.from(zip))).toBe(true);
      expect(r.body.attachments).toMatchObject([{ id: '0' }]);
      expect(JSON.stringify(r.body.embeds)).not.toContain('attachment://');
    }
    const [reply] = fake.messages(thread.id).filter((m) => m.author.bot);
    expect(reply!.attachments).toMatchObject([{ filename: file.name, size: zip.length }]);
    expect(reply!.files[0]!.data.equals(Buffer.from(zip))).toBe(true);
    expect(reply!.embeds[0]?.image).toBeUndefined();
    const original = fake.message(general(), messageId);
    expect(original.attachments).toMatchObject([{ filename: file.name }]);
    expect(original.files[0]!.data.equals(Buffer.from(zip))).toBe(true);
  });
});

describe('npm run discord:register', () => {
  it('registers /vibe with its subcommands in the guild (or globally)', async () => {
    const env = {
      PATH: process.env.PATH ?? '',
      DISCORD_TOKEN: fake.token,
      DISCORD_APPLICATION_ID: fake.fixture.applicationId,
      DISCORD_API_URL: fake.apiUrl,
    };
    const run = async (extra: Record<string, string>) => {
      const r = await runScript('scripts/register-discord.ts', { ...env, ...extra });
      return { status: r.code, out: r.out };
    };
    const guild = await run({ DISCORD_GUILD_ID: fake.fixture.guildId });
    expect(guild.status, guild.out).toBe(0);
    const put = fake.requestsTo(
      'PUT',
      new RegExp(`/applications/${fake.fixture.applicationId}/guilds/${fake.fixture.guildId}/commands$`),
    );
    expect(put).toHaveLength(1);
    const [cmd] = put[0]!.body as { name: string; options: { name: string }[] }[];
    expect(cmd?.name).toBe('vibe');
    expect(cmd?.options.map((o) => o.name)).toEqual([
      'create',
      'gallery',
      'mine',
      'usage',
      'help',
      'versions',
      'undo',
      'restore',
      'export',
      'delete',
      'remix',
      'data',
    ]);
    expect(fake.commands(fake.fixture.guildId).map((c) => c.name)).toEqual(['vibe']);
    const global = await run({});
    expect(global.status, global.out).toBe(0);
    expect(fake.requestsTo('PUT', new RegExp(`/applications/${fake.fixture.applicationId}/commands$`))).toHaveLength(1);
  });
});
