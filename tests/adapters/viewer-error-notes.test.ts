import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startDiscord, type RunningDiscord } from '../../adapters/discord/discord-adapter.ts';
import { startSlack, type RunningSlack } from '../../adapters/slack/slack-adapter.ts';
import type { AppRuntime } from '../../src/core/apps/app-runtime.ts';
import type { VibeBot } from '../../src/core/bot.ts';
import type { AppStore } from '../../src/core/ports/index.ts';
import { openAppStore } from '../../src/store/open.ts';
import { startFakeDiscord, type FakeDiscord } from '../fakes/discord/server.ts';
import { blockActions, commandRequest, interactiveRequest, postToBolt, slashCommand } from '../fakes/slack/requests.ts';
import { startFakeSlack, type FakeSlack, type RecordedCall } from '../fakes/slack/web-api.ts';
import { MemorySandbox } from '../support/memory-sandbox.ts';
import { ScriptedModel } from '../support/scripted-model.ts';
import { testBot, testRuntime } from '../support/test-bot.ts';

// A viewer's error reaches the bot from the gateway, outside any chat event: each adapter
// registers (bot.connect) how to post in its channels, so the note lands in the app's thread
// with a working "Fix it" button, and hostile text stays inert.

const logger = pino({ level: 'silent' });
const APP = (t: string) => ({ 'src/App.tsx': `export default function App() { return <h1>${t}</h1>; }\n` });
const HOSTILE = 'x is <!channel> <@U0BOB> @everyone `code` *bold*\nsecond line';

let store: AppStore;
let runtime: AppRuntime;
let model: ScriptedModel;
let bot: VibeBot;

beforeEach(async () => {
  store = await openAppStore('memory://');
  model = new ScriptedModel();
  runtime = testRuntime({ store, sandbox: new MemorySandbox(), linkBase: 'https://apps.test' });
  bot = testBot({ store, model, runtime });
});
afterEach(async () => {
  await bot.idle();
  await runtime.stopAll();
  await store.close();
});

describe('Slack', () => {
  const SECRET = 'test-signing-secret';
  const CHANNEL = 'C0FAKE';
  let fake: FakeSlack;
  let slack: RunningSlack;
  let events: string;
  const sent = (c: RecordedCall) => JSON.stringify(c.args);

  beforeEach(async () => {
    fake = await startFakeSlack({
      users: [
        { id: 'U0USER', name: 'alice' },
        { id: 'U0BOB', name: 'bob' },
      ],
    });
    slack = await startSlack({
      bot,
      logger,
      settings: { botToken: 'xoxb-test', signingSecret: SECRET, apiUrl: fake.url, port: 0 },
    });
    events = `http://127.0.0.1:${slack.port}/slack/events`;
  });
  afterEach(async () => {
    await slack.stop();
    await fake.close();
  });

  it("posts the note in the app's thread, escaped, and its Fix it button runs the fix", async () => {
    model.script({ files: APP('Timer'), title: 'Timer' });
    await postToBolt(
      events,
      SECRET,
      commandRequest(slashCommand({ text: 'a timer', response_url: fake.responseUrl({ channel: CHANNEL }) })),
    );
    const live = await fake.waitForCall('chat.update', (c) => sent(c).includes('apps.test/apps/'));
    await bot.idle();
    const ts = String(live.args.ts);
    const appId = /apps\.test\/apps\/([a-z0-9]+)\//.exec(sent(live))![1]!;

    await bot.viewerError(appId, { message: HOSTILE });
    const note = await fake.waitForCall('chat.postMessage', (c) => sent(c).includes("Reported by a viewer's browser"));
    expect(note.args).toMatchObject({ channel: CHANNEL, thread_ts: ts });
    const blocks = JSON.stringify(note.args.blocks);
    expect(blocks).toContain('&lt;!channel&gt; &lt;@U0BOB&gt;'); // inert: no ping
    expect(blocks).not.toContain('<!channel>');
    // Quoted (Slack's `>` as it must be sent, escaped), and marked unverified.
    expect(blocks).toContain(
      "Reported by a viewer's browser (not verified):\\n&gt; `x is &lt;!channel&gt; &lt;@U0BOB&gt; @everyone code *bold* second line`",
    );
    expect(blocks).toContain('"text":"Fix it"');

    model.script({ files: APP('Fixed') });
    const press = await postToBolt(
      events,
      SECRET,
      interactiveRequest(
        blockActions({
          user_id: 'U0BOB',
          actions: [{ action_id: 'vibe:fix:1', value: appId }],
          message_ts: fake.messages(CHANNEL).find((m) => JSON.stringify(m).includes('Reported by a viewer'))!.ts,
          message: { thread_ts: ts },
          response_url: fake.responseUrl(),
        }),
      ),
    );
    expect(press.status).toBe(200);
    await fake.waitForCall('chat.update', (c) => sent(c).includes('v2'));
    await bot.idle();
    expect(model.calls.at(-1)).toMatchObject({
      kind: 'refine',
      input: '',
      change: { kind: 'fix', report: { message: 'x is <!channel> <@U0BOB> @everyone code *bold* second line' } },
    });
    expect(await store.getApp(appId)).toMatchObject({ latestVersion: 2 });
  });
});

describe('Discord', () => {
  let fake: FakeDiscord;
  let discord: RunningDiscord;
  const body = (r: { body?: unknown }) => JSON.stringify(r.body ?? {});

  beforeEach(async () => {
    fake = await startFakeDiscord({ interactionCallbackDeadlineMs: 10_000 });
    discord = await startDiscord({ bot, logger, settings: { token: fake.token, apiUrl: fake.apiUrl } });
  });
  afterEach(async () => {
    await discord.stop();
    await fake.close();
  });

  it("posts the note in the app's thread, escaped, with no mentions, and Fix it runs the fix", async () => {
    model.script({ files: APP('Timer'), title: 'Timer' });
    const cmd = fake.sendCommand({ subcommand: 'create', options: { prompt: 'a timer' } });
    const live = await fake.waitForRequest(
      'PATCH',
      /\/webhooks\/\d+\/[^/]+\/messages\/@original$/,
      (r) => r.path.includes(cmd.token) && body(r).includes('apps.test') && !body(r).includes('Watch it being built'),
      10_000,
    );
    await bot.idle();
    const appId = /apps\.test\/apps\/([a-z0-9]+)\//.exec(body(live))![1]!;
    const threadId = fake.interaction(cmd.id)!.originalMessageId!;

    await bot.viewerError(appId, { message: HOSTILE });
    const note = await fake.waitForRequest(
      'POST',
      new RegExp(`/channels/${threadId}/messages$`),
      (r) => body(r).includes("Reported by a viewer's browser"),
      10_000,
    );
    expect((note.body as { allowed_mentions?: unknown }).allowed_mentions).toEqual({ parse: [] });
    expect(body(note)).not.toContain('\\nsecond line');
    const posted = fake.messages(threadId).find((m) => JSON.stringify(m.embeds).includes('Reported by a viewer'))!;
    const fix = posted
      .components!.flatMap((row) => (row as { components: { label?: string; custom_id?: string }[] }).components)
      .find((b) => b.label === 'Fix it')!;
    expect(fix.custom_id).toMatch(new RegExp(`^vibe:fix:${appId}:[\\w-]{10}$`)); // the app, and which note

    model.script({ files: APP('Fixed') });
    fake.clickButton({ customId: fix.custom_id!, messageId: posted.id, channelId: threadId });
    await fake.waitForRequest(
      'PATCH',
      new RegExp(`/channels/${threadId}/messages/\\d+$`),
      (r) => body(r).includes('v2'),
      10_000,
    );
    await bot.idle();
    expect(model.calls.at(-1)!.change).toMatchObject({
      kind: 'fix',
      report: { message: expect.stringMatching(/^x is/) },
    });
    expect(await store.getApp(appId)).toMatchObject({ latestVersion: 2 });
  });
});
