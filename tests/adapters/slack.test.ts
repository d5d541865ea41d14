import { readFileSync } from 'node:fs';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startSlack, type RunningSlack } from '../../adapters/slack/slack-adapter.ts';
import { AppRuntime } from '../../src/core/apps/app-runtime.ts';
import { VibeBot } from '../../src/core/bot.ts';
import type { ChatContext } from '../../src/core/chat/context.ts';
import type { AppStore } from '../../src/core/ports/index.ts';
import { openAppStore } from '../../src/store/open.ts';
import {
  blockActions,
  commandRequest,
  eventCallback,
  eventRequest,
  interactiveRequest,
  postToBolt,
  slashCommand,
} from '../fakes/slack/requests.ts';
import { startFakeSlack, type FakeSlack, type RecordedCall } from '../fakes/slack/web-api.ts';
import { MemorySandbox } from '../support/memory-sandbox.ts';
import { PictureBot } from '../support/picture-bot.ts';
import { makePng, readPng } from '../support/png.ts';
import { ScriptedModel } from '../support/scripted-model.ts';
import { testBot, testRuntime } from '../support/test-bot.ts';
import { fairUsePolicies } from '../../src/core/limits/fair-use.ts';
import { UsageMeter } from '../../src/core/limits/usage-meter.ts';

// The real Bolt app (HTTP mode, and Socket Mode) receives requests in Slack's own shapes, signed
// like Slack signs them; a fake Slack Web API answers and records what the bot sends.

const SECRET = 'test-signing-secret';
const CHANNEL = 'C0FAKE';
const logger = pino({ level: 'silent' });
const APP = (t: string) => ({ 'src/App.tsx': `export default function App() { return <h1>${t}</h1>; }\n` });
const MANIFEST = JSON.parse(readFileSync(new URL('../../adapters/slack/manifest.json', import.meta.url), 'utf8'));
/** The fake grants exactly what the manifest asks for: a call needing more answers missing_scope. */
const SCOPES: string[] = MANIFEST.oauth_config.scopes.bot;

let fake: FakeSlack;
let store: AppStore;
let runtime: AppRuntime;
let model: ScriptedModel;
let sandbox: MemorySandbox;
let slack: RunningSlack | undefined;
let bot: VibeBot;
let events: string;

beforeEach(async () => {
  fake = await startFakeSlack({
    scopes: SCOPES,
    users: [
      { id: 'U0USER', name: 'alice' },
      { id: 'U0BOB', name: 'bob' },
      { id: 'U0ADMIN', name: 'root', is_admin: true },
    ],
  });
  store = await openAppStore('memory://');
  sandbox = new MemorySandbox();
  model = new ScriptedModel();
  runtime = testRuntime({ store, sandbox, maxRunning: 200, linkBase: 'https://apps.test' });
  bot = testBot({ store, model, runtime, galleryPageSize: 5 });
});

afterEach(async () => {
  await slack?.stop();
  slack = undefined;
  await bot.idle();
  await runtime.stopAll();
  await fake.close();
  await store.close();
});

async function startHttp(): Promise<void> {
  slack = await startSlack({
    bot,
    logger,
    settings: { botToken: 'xoxb-test', signingSecret: SECRET, apiUrl: fake.url, port: 0 },
  });
  events = `http://127.0.0.1:${slack.port}/slack/events`;
}

const vibe = (text: string, user = 'U0USER') =>
  postToBolt(
    events,
    SECRET,
    commandRequest(slashCommand({ text, user_id: user, response_url: fake.responseUrl({ channel: CHANNEL, user }) })),
  );

const sent = (c: RecordedCall) => JSON.stringify(c.args);

/** Runs `/vibe <prompt>` to the live card; returns the root message ts and app id. */
async function create(prompt: string, title = 'Focus Timer'): Promise<{ ts: string; appId: string }> {
  model.script({ files: APP(title), title, summary: `About ${title}` });
  const res = await vibe(prompt);
  expect(res.status).toBe(200);
  const live = await fake.waitForCall(
    'chat.update',
    (c) => sent(c).includes(`https://apps.test/apps/`) && sent(c).includes(title),
  );
  const ts = String(live.args.ts);
  const appId = /apps\.test\/apps\/([a-z0-9]+)\//.exec(sent(live))![1]!;
  await bot.idle();
  return { ts, appId };
}

describe('Slack over HTTP (real Bolt, signed requests)', () => {
  it('/vibe posts one status message, edits it in place, and ends with the live link and buttons', async () => {
    await startHttp();
    const { ts, appId } = await create('a pomodoro timer');
    const posts = fake.callsTo('chat.postMessage');
    expect(posts).toHaveLength(1);
    expect(posts[0]!.args).toMatchObject({ channel: CHANNEL });
    const updates = fake.callsTo('chat.update');
    expect(updates.length).toBeGreaterThan(1);
    expect(updates.every((u) => u.args.ts === ts)).toBe(true);
    const [final] = fake.messages(CHANNEL).filter((m) => m.ts === ts);
    const blocks = JSON.stringify(final!.blocks);
    expect(blocks).toContain('"type":"header"');
    expect(blocks).toContain('Focus Timer');
    for (const label of ['Open', 'Undo', 'Versions', 'Delete']) expect(blocks).toContain(`"text":"${label}"`);
    expect(blocks).toContain(`"url":"https://apps.test/apps/${appId}/"`);
    // The status message is the app's thread root.
    expect((await store.appForThread(`slack:T0FAKE:${CHANNEL}:${ts}`))?.id).toBe(appId);
    expect((await store.getApp(appId))?.ownerId).toBe('slack:T0FAKE:U0USER');
  });

  it('a human reply in the thread refines the app; progress and result are one reply edited in place', async () => {
    await startHttp();
    const { ts, appId } = await create('a timer');
    model.script({ files: APP('Blue Timer') });
    const before = fake.calls.length;
    const res = await postToBolt(
      events,
      SECRET,
      eventRequest(eventCallback({ event: { channel: CHANNEL, user: 'U0BOB', text: 'make it blue', thread_ts: ts } })),
    );
    expect(res.status).toBe(200);
    // Only calls after the reply: an earlier card can hold "v2" by chance (in a random id).
    await fake.waitForCall('chat.update', (c) => fake.calls.indexOf(c) >= before && sent(c).includes('v2'));
    await bot.idle();
    const posted = fake.calls.slice(before).filter((c) => c.method === 'chat.postMessage');
    expect(posted).toHaveLength(1);
    expect(posted[0]!.args.thread_ts).toBe(ts);
    // The bot's messages in the thread: the status reply, and the progress streamed (chat.startStream).
    const [reply, ...others] = fake.messages(CHANNEL).filter((m) => m.thread_ts === ts && !m.chunks);
    expect(others).toEqual([]);
    expect(fake.messages(CHANNEL).filter((m) => m.thread_ts === ts && m.chunks)).toHaveLength(2); // the create's, the change's
    const edits = fake.calls.slice(before).filter((c) => c.method === 'chat.update');
    expect(edits.length).toBeGreaterThan(0);
    expect(edits.every((e) => e.args.ts === reply!.ts)).toBe(true);
    expect(JSON.stringify(reply!.blocks)).toContain('v2');
    expect((await store.getApp(appId))?.latestVersion).toBe(2);
    expect((await store.getVersion(appId, 2))?.authorId).toBe('slack:T0FAKE:U0BOB');
  });

  it('ignores bots (itself included), edits, joins and messages outside threads', async () => {
    await startHttp();
    const { ts } = await create('a timer');
    const before = fake.calls.length;
    const ignored = [
      { channel: CHANNEL, user: 'U0BOT', bot_id: 'B0BOT', text: 'my own message', thread_ts: ts },
      { channel: CHANNEL, user: 'U0OTHERBOT', bot_id: 'B0OTHER', text: 'another bot', thread_ts: ts },
      { channel: CHANNEL, user: 'U0USER', subtype: 'message_changed', text: 'edited', thread_ts: ts },
      { channel: CHANNEL, user: 'U0USER', subtype: 'channel_join', text: 'joined' },
      { channel: CHANNEL, user: 'U0USER', text: 'top-level chatter' },
    ];
    for (const event of ignored)
      expect((await postToBolt(events, SECRET, eventRequest(eventCallback({ event })))).status).toBe(200);
    await slack!.idle(); // the adapter's own work, then the bot's
    await bot.idle();
    expect(fake.calls.slice(before).filter((c) => c.method.startsWith('chat.'))).toEqual([]);
    expect(model.calls.filter((c) => c.kind === 'refine')).toEqual([]);
  });

  it('handles an event Slack re-delivers (x-slack-retry-num) only once', async () => {
    await startHttp();
    const { ts, appId } = await create('a timer');
    model.script({ files: APP('Once') }, { files: APP('Twice') });
    const event = eventCallback({ event: { channel: CHANNEL, user: 'U0USER', text: 'change it', thread_ts: ts } });
    expect((await postToBolt(events, SECRET, eventRequest(event))).status).toBe(200);
    const retry = await postToBolt(
      events,
      SECRET,
      eventRequest(event, { headers: { 'x-slack-retry-num': '1', 'x-slack-retry-reason': 'http_timeout' } }),
    );
    expect(retry.status).toBe(200);
    await slack!.idle(); // the adapter's own work, then the bot's
    await bot.idle();
    expect(model.calls.filter((c) => c.kind === 'refine')).toHaveLength(1);
    expect((await store.getApp(appId))?.latestVersion).toBe(2);
  });

  it('answers a bad or stale signature with 401 and does nothing', async () => {
    await startHttp();
    const body = commandRequest(slashCommand({ text: 'a timer', response_url: fake.responseUrl() }));
    const bad = await postToBolt(events, 'not-the-secret', body);
    const stale = await postToBolt(events, SECRET, { ...body, timestamp: Math.floor(Date.now() / 1000) - 10 * 60 });
    expect(bad.status).toBe(401);
    expect(stale.status).toBe(401);
    await new Promise((r) => setTimeout(r, 100));
    expect(fake.calls.filter((c) => c.method !== 'auth.test')).toEqual([]);
    expect(model.calls).toEqual([]);
  });

  it('acknowledges before doing any work, with 100 requests in flight', async () => {
    await startHttp();
    let release!: () => void;
    model.gate = new Promise<void>((r) => (release = r)); // every create stays "writing code" until released
    for (let i = 0; i < 100; i++) model.script({ files: APP(`App ${i}`), title: `App ${i}` });
    const results = await Promise.all(Array.from({ length: 100 }, (_, i) => vibe(`app number ${i}`)));
    expect(results.every((r) => r.status === 200)).toBe(true);
    // Every request was answered while all 100 were still in flight: the ack never waits for work.
    // (The status may link the creator's live view as a work in progress; never the app's link.)
    expect(
      fake
        .callsTo('chat.update')
        .some((c) => sent(c).includes('apps.test') && !sent(c).includes('Watch it being built')),
    ).toBe(false);
    // Slack's deadline is 3 s; the figure is printed, not asserted (this machine is shared and noisy).
    console.log(`slack: slowest of 100 acks ${Math.max(...results.map((r) => r.ms)).toFixed(0)} ms`);
    release();
    await slack!.idle(); // the adapter's own work (held until the burst's acks are out), then the bot's
    await bot.idle();
    expect(fake.callsTo('chat.postMessage')).toHaveLength(100);
  });

  it('gallery: a private Block Kit list, 5 a page, paged in place with Previous/Next', async () => {
    await startHttp();
    for (let i = 1; i <= 7; i++) await create(`app ${i}`, `App ${i}`);
    const before = fake.calls.length;
    await vibe('gallery');
    const first = await fake.waitForCall('response_url', (c) => sent(c).includes('Apps in this channel'));
    expect(first.args.response_type).toBe('ephemeral');
    const blocks = first.args.blocks as { type: string }[];
    expect(blocks.length).toBeLessThanOrEqual(50);
    const text = sent(first);
    for (const n of [7, 6, 5, 4, 3]) expect(text).toContain(`App ${n}`);
    expect(text).not.toContain('App 2');
    expect(text).toContain('<@U0USER>'); // owner shown as a mention in a message only the asker sees
    expect(text).toContain('live');
    expect(text).toContain('https://fake-team.slack.com/archives/C0FAKE/p'); // link to each app's thread
    const next = findButton(first.args.blocks, 'Next')!;
    const url = fake.responseUrl({ channel: CHANNEL, user: 'U0USER' });
    const press = await postToBolt(
      events,
      SECRET,
      interactiveRequest(
        blockActions({
          actions: [{ action_id: next.action_id, value: next.value }],
          message_ts: '1.000001',
          is_ephemeral: true,
          response_url: url,
        }),
      ),
    );
    expect(press.status).toBe(200);
    const second = await fake.waitForCall('response_url', (c) => c.args.replace_original === true);
    expect(sent(second)).toContain('App 2');
    expect(sent(second)).toContain('App 1');
    expect(sent(second)).not.toContain('App 3');
    expect(findButton(second.args.blocks, 'Previous')).toBeDefined();
    expect(findButton(second.args.blocks, 'Next')).toBeUndefined();
    expect(fake.calls.slice(before).filter((c) => c.method === 'chat.postMessage')).toEqual([]); // nothing in the channel
  });

  it('buttons: Undo needs the owner or an admin; Delete asks to confirm first', async () => {
    await startHttp();
    const { ts, appId } = await create('a timer');
    model.script({ files: APP('v2') });
    await postToBolt(
      events,
      SECRET,
      eventRequest(eventCallback({ event: { channel: CHANNEL, user: 'U0USER', text: 'v2 please', thread_ts: ts } })),
    );
    await fake.waitForCall('chat.update', (c) => sent(c).includes('v2'));
    await bot.idle();
    const press = (user: string, action: string) =>
      postToBolt(
        events,
        SECRET,
        interactiveRequest(
          blockActions({
            user_id: user,
            actions: [{ action_id: `vibe:${action}:1`, value: appId }],
            message_ts: ts,
            response_url: fake.responseUrl(),
          }),
        ),
      );

    await press('U0BOB', 'undo');
    const refusal = await fake.waitForCall('chat.postEphemeral', (c) => sent(c).includes('Only the app'));
    expect(refusal.args.user).toBe('U0BOB');
    expect((await store.getApp(appId))?.latestVersion).toBe(2);

    await press('U0ADMIN', 'undo');
    await fake.waitForCall('chat.postMessage', (c) => sent(c).includes('Restored v1 as v3'));
    expect((await store.getApp(appId))?.latestVersion).toBe(3);

    await press('U0USER', 'delete');
    const confirm = await fake.waitForCall('chat.postEphemeral', (c) => sent(c).includes('Yes, delete'));
    expect((await store.getApp(appId))?.deleted).toBeFalsy();
    const yes = findButton(confirm.args.blocks, 'Yes, delete')!;
    expect(yes.confirm).toBeDefined(); // Slack's own "are you sure" dialog as well
    await press('U0USER', 'delete-confirm');
    await fake.waitForCall('chat.postMessage', (c) => sent(c).includes('Deleted'));
    expect((await store.getApp(appId))?.deleted).toBe(true);
  });

  it('a workspace outside VIBE_ALLOWED_TEAMS gets one private refusal and nothing else', async () => {
    const meter = new UsageMeter(store, {});
    bot = testBot({
      store,
      model,
      runtime,
      policies: fairUsePolicies({ store, meter, limits: { allowedTeams: ['T0OTHER'] } }),
      meter,
    });
    await startHttp();
    const before = fake.calls.length;
    const res = await vibe('a pomodoro timer');
    expect(res.status).toBe(200);
    const refusal = await fake.waitForCall('response_url', (c) => sent(c).includes('not available in this workspace'));
    expect(refusal.args.response_type).toBe('ephemeral');
    await bot.idle();
    // Only the refusal is sent (the adapter's own lookup of who asked aside).
    expect(
      fake.calls
        .slice(before)
        .map((c) => c.method)
        .filter((m) => m !== 'users.info'),
    ).toEqual(['response_url']);
    expect(model.calls).toEqual([]);
  });

  it('/vibe help explains every command; an empty /vibe gets usage', async () => {
    await startHttp();
    await vibe('help');
    const help = await fake.waitForCall('response_url', (c) => sent(c).includes('gallery'));
    for (const word of ['/vibe gallery', 'undo', 'restore', 'delete', 'versions']) expect(sent(help)).toContain(word);
    await vibe('');
    await fake.waitForCall('response_url', (c) => sent(c).includes('Tell me what to build'));
  });

  it('never lets user or model text ping anyone', async () => {
    await startHttp();
    const evil = '<!channel> <!here> <!everyone> <@U0BOB> <#C0OTHER>';
    model.script({ files: APP('x'), title: `Title ${evil}`, summary: `Summary ${evil}`, message: `Done ${evil}` });
    await vibe(`build ${evil}`);
    await fake.waitForCall(
      'chat.update',
      (c) => sent(c).includes('apps.test') && !sent(c).includes('Watch it being built'),
    );
    await bot.idle();
    const outgoing = fake.calls.filter((c) => c.method.startsWith('chat.') || c.method === 'response_url');
    expect(outgoing.length).toBeGreaterThan(2);
    for (const c of outgoing) expect(sent(c)).not.toMatch(/<[!@#]/);
  });

  it('tells the user to invite the bot when it is not in the channel', async () => {
    await startHttp();
    fake.failNext('chat.postMessage', 'not_in_channel');
    await vibe('a timer');
    const note = await fake.waitForCall('response_url', (c) => sent(c).includes('/invite'));
    expect(note.args.response_type).toBe('ephemeral');
    expect(model.calls).toEqual([]);
  });
});

describe('Slack in Socket Mode', () => {
  it('connects through apps.connections.open, handles /vibe, and reconnects after a disconnect', async () => {
    slack = await startSlack({
      bot,
      logger,
      settings: { botToken: 'xoxb-test', appToken: 'xapp-test', apiUrl: fake.url, port: 0, socketPingTimeoutMs: 400 },
    });
    expect(slack.mode).toBe('socket');
    await fake.socket.waitForConnections(1);
    model.script({ files: APP('Socket App'), title: 'Socket App' });
    const ack = await fake.socket.sendEnvelope({
      type: 'slash_commands',
      payload: slashCommand({ text: 'an app over a socket', response_url: fake.responseUrl() }),
    });
    expect(ack.envelope_id).toBeTruthy();
    await fake.waitForCall('chat.update', (c) => sent(c).includes('Socket App') && sent(c).includes('apps.test'));
    await bot.idle();

    fake.socket.disconnect('close');
    const deadline = Date.now() + 10_000;
    while (fake.socket.totalConnections < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(fake.socket.totalConnections).toBe(2);
    await fake.socket.waitForConnections(1);
    await fake.socket.sendEnvelope({
      type: 'slash_commands',
      payload: slashCommand({ text: 'help', response_url: fake.responseUrl() }),
    });
    await fake.waitForCall('response_url', (c) => sent(c).includes('/vibe gallery'));
  });
});

describe('Slack screenshots (a card with a PNG)', () => {
  const png = makePng();
  let pictures: PictureBot;
  let warnings: { msg?: string; code?: string }[];

  async function startPictures(): Promise<void> {
    pictures = new PictureBot(png);
    warnings = [];
    const recording = {
      ...logger,
      info: () => undefined,
      debug: () => undefined,
      error: () => undefined,
      warn: (obj: object, msg?: string) => void warnings.push({ ...(obj as { code?: string }), msg }),
    };
    slack = await startSlack({
      bot: pictures.asBot(),
      logger: recording,
      settings: { botToken: 'xoxb-test', signingSecret: SECRET, apiUrl: fake.url, port: 0 },
    });
    events = `http://127.0.0.1:${slack.port}/slack/events`;
  }

  const threadReply = (ts: string, text: string) =>
    postToBolt(
      events,
      SECRET,
      eventRequest(eventCallback({ event: { channel: CHANNEL, user: 'U0USER', text, thread_ts: ts } })),
    );

  it('uploads the PNG into the thread: getUploadURLExternal, the bytes, completeUploadExternal with the root ts', async () => {
    await startPictures();
    await vibe('a pomodoro timer');
    await slack!.idle();
    const [root] = fake.messages(CHANNEL);
    const live = fake.callsTo('chat.update').at(-1)!;
    expect(live.args.ts).toBe(root!.ts);
    // Block Kit shows public URLs only: the card itself carries no image block.
    expect(sent(live)).not.toContain('"type":"image"');
    const [ask] = fake.callsTo('files.getUploadURLExternal');
    expect(ask!.args).toMatchObject({ filename: 'screenshot.png', length: String(png.length) });
    const [complete] = fake.callsTo('files.completeUploadExternal');
    expect(complete!.args).toMatchObject({ channel_id: CHANNEL, thread_ts: root!.ts });
    // After the card is finished, never before.
    expect(fake.calls.indexOf(ask!)).toBeGreaterThan(fake.calls.indexOf(live));
    const [file] = fake.files();
    expect(file).toMatchObject({
      filename: 'screenshot.png',
      alt_text: 'Screenshot of Focus Timer, v1',
      title: 'Focus Timer: screenshot',
      channel: CHANNEL,
      thread_ts: root!.ts,
      completed: true,
    });
    expect(readPng(file!.bytes!)).toEqual({ width: 1280, height: 800 });
    expect(file!.bytes!.equals(Buffer.from(png))).toBe(true);
    expect(fake.messages(CHANNEL).filter((m) => m.files)).toMatchObject([{ thread_ts: root!.ts, files: [file!.id] }]);

    // A refinement's card is a reply; its picture goes into the same thread (the root's ts, never the reply's).
    await threadReply(root!.ts, 'make it blue');
    await slack!.idle();
    // Undo's card is one reply carrying the picture.
    await threadReply(root!.ts, 'undo');
    await slack!.idle();
    expect(pictures.errors).toEqual([]);
    expect(fake.files().map((f) => [f.alt_text, f.thread_ts])).toEqual([
      ['Screenshot of Focus Timer, v1', root!.ts],
      ['Screenshot of Focus Timer, v2', root!.ts],
      ['Screenshot of Focus Timer, v3', root!.ts],
    ]);
    for (const f of fake.files()) expect(readPng(f.bytes!)).toEqual({ width: 1280, height: 800 });
    expect(warnings).toEqual([]);
  });

  it('a failed upload is logged; the card stands', async () => {
    await startPictures();
    fake.failNext('files.completeUploadExternal', 'not_in_channel');
    await vibe('a pomodoro timer');
    await slack!.idle();
    expect(pictures.errors).toEqual([]);
    const [root] = fake.messages(CHANNEL);
    expect(JSON.stringify(root!.blocks)).toContain('Focus Timer');
    expect(fake.callsTo('files.completeUploadExternal')[0]?.error).toBe('not_in_channel');
    expect(fake.messages(CHANNEL).filter((m) => m.files)).toEqual([]);
    expect(warnings).toMatchObject([
      { code: 'not_in_channel', msg: expect.stringMatching(/screenshot upload failed/) },
    ]);
  });

  it('without files:write the upload is refused with missing_scope, and the card still arrives', async () => {
    await fake.close();
    fake = await startFakeSlack({
      scopes: SCOPES.filter((s) => s !== 'files:write'),
      users: [{ id: 'U0USER', name: 'alice' }],
    });
    await startPictures();
    await vibe('a pomodoro timer');
    await slack!.idle();
    expect(pictures.errors).toEqual([]);
    expect(fake.callsTo('files.getUploadURLExternal').map((c) => c.error)).toEqual(['missing_scope']);
    expect(fake.callsTo('files.completeUploadExternal')).toEqual([]);
    expect(JSON.stringify(fake.messages(CHANNEL)[0]!.blocks)).toContain('Focus Timer');
    expect(warnings).toMatchObject([{ code: 'missing_scope' }]);
  });
});

describe('Slack files (a card with a file)', () => {
  const zip = new Uint8Array([0x50, 0x4b, 0x03, 0x04, ...Array.from({ length: 300 }, (_, i) => (i * 7) % 256)]);
  const file = { name: 'pomodoro-timer-ab12cd34ef.zip', bytes: zip, mime: 'application/zip' };

  it('uploads the file into the thread the card is in (its root ts); a private card drops it, logged', async () => {
    const warnings: { msg?: string; filename?: string }[] = [];
    const recording = {
      ...logger,
      info: () => undefined,
      debug: () => undefined,
      error: () => undefined,
      warn: (obj: object, msg?: string) => void warnings.push({ ...(obj as { filename?: string }), msg }),
    };
    const errors: unknown[] = [];
    // As the core sends an export: a thread reply carrying the zip (and then, to check, a private one).
    const exporter = {
      command: async (ctx: ChatContext) => {
        try {
          const ref = await ctx.conv.post({ title: 'Focus Timer', text: 'The app' });
          const thread = await ctx.conv.startThread(ref, 'Focus Timer');
          await ctx.conv.reply(thread, { text: 'The app as a zip', file });
          await ctx.conv.ephemeral({ text: 'Private zip', file });
        } catch (err) {
          errors.push(err);
        }
      },
      connect: () => () => undefined,
      idle: async () => undefined,
    } as unknown as VibeBot;
    slack = await startSlack({
      bot: exporter,
      logger: recording,
      settings: { botToken: 'xoxb-test', signingSecret: SECRET, apiUrl: fake.url, port: 0 },
    });
    events = `http://127.0.0.1:${slack.port}/slack/events`;
    await vibe('export');
    await fake.waitForCall('response_url', (c) => sent(c).includes('Private zip'));
    await slack.idle();
    expect(errors).toEqual([]);
    const [root, reply] = fake.messages(CHANNEL);
    expect(reply).toMatchObject({ thread_ts: root!.ts });
    const [ask] = fake.callsTo('files.getUploadURLExternal');
    expect(ask!.args).toMatchObject({ filename: file.name, length: String(zip.length) });
    const [complete] = fake.callsTo('files.completeUploadExternal');
    expect(complete!.args).toMatchObject({ channel_id: CHANNEL, thread_ts: root!.ts });
    // After the reply, never before.
    expect(fake.calls.indexOf(ask!)).toBeGreaterThan(fake.calls.indexOf(fake.callsTo('chat.postMessage').at(-1)!));
    const uploaded = fake.files();
    expect(uploaded).toHaveLength(1);
    expect(uploaded[0]).toMatchObject({
      filename: file.name,
      title: file.name,
      channel: CHANNEL,
      thread_ts: root!.ts,
      completed: true,
    });
    expect(uploaded[0]!.alt_text).toBeUndefined();
    expect(uploaded[0]!.bytes!.equals(Buffer.from(zip))).toBe(true);
    expect(fake.messages(CHANNEL).filter((m) => m.files)).toMatchObject([
      { thread_ts: root!.ts, files: [uploaded[0]!.id] },
    ]);
    // Slack cannot attach a file to an ephemeral message: logged, dropped, the message still sent.
    expect(fake.callsTo('response_url').filter((c) => sent(c).includes('Private zip'))).toHaveLength(1);
    expect(warnings).toEqual([
      expect.objectContaining({ filename: file.name, msg: expect.stringMatching(/cannot carry a file/) }),
    ]);
  });
});

describe('manifest', () => {
  it('asks for exactly the scopes, events and command the bot uses', () => {
    const manifest = MANIFEST;
    expect([...manifest.oauth_config.scopes.bot].sort()).toEqual([
      'app_mentions:read',
      'channels:history',
      'channels:read',
      'chat:write',
      'commands',
      'files:read',
      'files:write',
      'groups:history',
      'groups:read',
      'links:read',
      'links:write',
      'users:read',
    ]);
    expect([...manifest.settings.event_subscriptions.bot_events].sort()).toEqual([
      'app_home_opened',
      'app_mention',
      'link_shared',
      'message.channels',
      'message.groups',
    ]);
    expect(manifest.features.app_home.home_tab_enabled).toBe(true);
    expect(manifest.features.unfurl_domains).toHaveLength(1);
    expect(manifest.features.slash_commands.map((c: { command: string }) => c.command)).toEqual(['/vibe']);
    expect(manifest.settings.interactivity.is_enabled).toBe(true);
  });
});

type FoundButton = { action_id: string; value?: string; confirm?: unknown };
function findButton(blocks: unknown, label: string): FoundButton | undefined {
  for (const b of (blocks ?? []) as { type: string; elements?: (FoundButton & { text?: { text?: string } })[] }[]) {
    for (const e of b.elements ?? []) if (e.text?.text === label) return e;
  }
  return undefined;
}
