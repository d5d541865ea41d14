import Anthropic from '@anthropic-ai/sdk';
import { readFileSync } from 'node:fs';
import pino from 'pino';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startSlack, type RunningSlack } from '../../adapters/slack/slack-adapter.ts';
import type { AppRuntime } from '../../src/core/apps/app-runtime.ts';
import type { VibeBot } from '../../src/core/bot.ts';
import type { AppStore, CodeModel } from '../../src/core/ports/index.ts';
import { ClaudeCodeModel } from '../../src/llm/claude.ts';
import { buildSystemPrompt } from '../../src/llm/system-prompt.ts';
import { openAppStore } from '../../src/store/open.ts';
import { startFakeAnthropic, type FakeAnthropic } from '../fakes/anthropic/server.ts';
import { appMention, eventCallback, eventRequest, postToBolt } from '../fakes/slack/requests.ts';
import { startFakeSlack, type FakeSlack, type FakeSlackOptions, type RecordedCall } from '../fakes/slack/web-api.ts';
import { MemorySandbox } from '../support/memory-sandbox.ts';
import { makePng } from '../support/png.ts';
import { ScriptedModel } from '../support/scripted-model.ts';
import { testBot, testRuntime } from '../support/test-bot.ts';

// @mentions, pictures and streamed progress on Slack: the real Bolt app gets signed events in
// Slack's shapes; the fake Web API serves the files and the streaming methods; Claude is the
// real SDK against the fake Anthropic API where the request itself is the point.

const SECRET = 'test-signing-secret';
const CHANNEL = 'C0FAKE';
const logger = pino({ level: 'silent' });
const MANIFEST = JSON.parse(readFileSync(new URL('../../adapters/slack/manifest.json', import.meta.url), 'utf8'));
const SCOPES: string[] = MANIFEST.oauth_config.scopes.bot;
const APP = (t: string) => ({ 'src/App.tsx': `export default function App() { return <h1>${t}</h1>; }\n` });

let fake: FakeSlack;
let store: AppStore;
let runtime: AppRuntime;
let model: ScriptedModel;
let bot: VibeBot;
let slack: RunningSlack | undefined;
let events: string;
let anthropic: FakeAnthropic | undefined;

async function start(opts: FakeSlackOptions = {}, codeModel?: CodeModel): Promise<void> {
  fake = await startFakeSlack({ scopes: SCOPES, users: [{ id: 'U0USER', name: 'alice' }], ...opts });
  bot = testBot({ store, model: codeModel ?? model, runtime });
  slack = await startSlack({
    bot,
    logger,
    settings: { botToken: 'xoxb-test', signingSecret: SECRET, apiUrl: fake.url, port: 0 },
  });
  events = `http://127.0.0.1:${slack.port}/slack/events`;
}

beforeEach(async () => {
  store = await openAppStore('memory://');
  runtime = testRuntime({ store, sandbox: new MemorySandbox(), linkBase: 'https://apps.test' });
  model = new ScriptedModel();
});
afterEach(async () => {
  await slack?.stop();
  slack = undefined;
  await bot?.idle();
  await runtime.stopAll();
  await fake?.close();
  await anthropic?.close();
  anthropic = undefined;
  await store.close();
});

const send = async (event: Parameters<typeof eventCallback>[0]['event']) => {
  expect((await postToBolt(events, SECRET, eventRequest(eventCallback({ event })))).status).toBe(200);
  await slack!.idle();
  await bot.idle();
};
const mention = (text: string, extra: Partial<Parameters<typeof appMention>[0]> = {}) =>
  send(appMention({ channel: CHANNEL, text: `<@U0BOT> ${text}`, ...extra }));
const sent = (c: RecordedCall) => JSON.stringify(c.args);
const liveCard = () =>
  fake
    .callsTo('chat.update')
    .find((c) => sent(c).includes('https://apps.test/apps/') && !sent(c).includes('Watch it being built') && !c.error);

/** What the person was told privately (ephemeral posts). */
const told = () => fake.callsTo('chat.postEphemeral').map((c) => sent(c));

describe('Slack @mentions with pictures', () => {
  it('a mention with a screenshot creates the app; Claude gets the picture resized, and its thinking back', async () => {
    anthropic = await startFakeAnthropic();
    const claude = new ClaudeCodeModel({
      client: new Anthropic({ apiKey: 'sk-ant-test', baseURL: anthropic.url, maxRetries: 0 }),
      model: 'claude-sonnet-4-6',
      systemPrompt: buildSystemPrompt({ templateFiles: APP('t'), libraries: [] }),
      templateFiles: APP('t'),
      logger,
    });
    anthropic.script(
      {
        content: [
          { type: 'thinking', thinking: 'A dark card layout, like the mockup.' },
          { type: 'text', text: 'Building the layout from your mockup.' },
          {
            type: 'tool_use',
            name: 'str_replace_based_edit_tool',
            input: { command: 'create', path: 'src/App.tsx', file_text: APP('Mockup')['src/App.tsx'] },
          },
          { type: 'tool_use', name: 'set_app_info', input: { title: 'Mockup App', summary: 'From a picture.' } },
        ],
      },
      { content: [{ type: 'text', text: 'Done.' }] },
    );
    await start({}, claude);
    const png = makePng(3000, 2000);
    const file = fake.userFile({ name: 'mockup.png', bytes: png });
    await mention('make it look like this', { files: [file] });

    expect(liveCard()).toBeDefined();
    const [first, second] = anthropic.requests;
    const [image, text] = first!.body.messages[0].content;
    expect(image.type).toBe('image');
    const meta = await sharp(Buffer.from(image.source.data, 'base64')).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['png', 1568, 1045]);
    expect(text.text).toMatch(/^make it look like this\n/);
    expect(second!.body.messages[1].content[0].type).toBe('thinking');
    expect(anthropic.warnings).toEqual([]); // no thinking_block_dropped
    expect(fake.fileDownloads()).toEqual([{ id: file.id, served: true }]);
    const appId = /apps\.test\/apps\/([a-z0-9]+)\//.exec(sent(liveCard()!))![1]!;
    expect((await store.getVersion(appId, 1))!.instruction).toBe('make it look like this [picture: mockup.png]');
    // The narration streamed into the thread.
    const streamed = fake.messages(CHANNEL).find((m) => m.chunks)!;
    expect(streamed.text).toContain('Building the layout from your mockup.');
  });

  it('a thread reply with a picture refines the app with it', async () => {
    await start();
    model.script({ files: APP('one'), title: 'One' });
    await mention('a counter');
    const root = fake.messages(CHANNEL)[0]!;
    model.script({ files: APP('two') });
    const file = fake.userFile({ name: 'colours.jpg', bytes: await jpeg(200, 100) });
    await send({
      channel: CHANNEL,
      user: 'U0USER',
      text: 'use these colours',
      thread_ts: root.ts,
      subtype: 'file_share',
      files: [file],
    });
    const refine = model.calls.find((c) => c.kind === 'refine')!;
    expect(refine.input).toBe('use these colours');
    expect(refine.images?.map((i) => [i.name, i.mediaType, i.width])).toEqual([['colours.jpg', 'image/jpeg', 200]]);
  });

  it('a file the event only names is looked up with files.info, then downloaded', async () => {
    await start();
    model.script({ files: APP('x'), title: 'X' });
    const file = fake.userFile({ name: 'ui.png', bytes: makePng(20, 20), checkFileInfo: true });
    expect(file).not.toHaveProperty('url_private_download');
    await mention('this', { files: [file] });
    expect(fake.callsTo('files.info')[0]!.args.file).toBe(file.id);
    expect(model.calls[0]!.images).toHaveLength(1);
  });

  for (const [what, files, message] of [
    ['a 30 MB file', () => [fake.userFile({ name: 'huge.png', bytes: new Uint8Array(30 * 1024 * 1024) })], /30\.0 MB/],
    [
      'a text file named .png',
      () => [fake.userFile({ name: 'mock.png', bytes: new TextEncoder().encode('not a png'), mimetype: 'image/png' })],
      /mock\.png\W+ is not a PNG, JPEG, GIF or WebP picture/,
    ],
    [
      'a fifth picture',
      () => [1, 2, 3, 4, 5].map((n) => fake.userFile({ name: `s${n}.png`, bytes: makePng(8, 8, n) })),
      /5 pictures; I take at most 4/,
    ],
  ] as const)
    it(`refuses ${what} with its message, and builds nothing`, async () => {
      await start();
      await mention('an app like this', { files: files() });
      expect(told().join('\n')).toMatch(message);
      expect(fake.callsTo('chat.postMessage')).toEqual([]);
      expect(fake.callsTo('chat.startStream')).toEqual([]);
      expect(model.calls).toEqual([]);
      if (what !== 'a text file named .png') expect(fake.fileDownloads()).toEqual([]);
    });

  it('without files:read, the person is told the app needs it (and nothing is built)', async () => {
    await start({ scopes: SCOPES.filter((s) => s !== 'files:read') });
    const file = fake.userFile({ name: 'a.png', bytes: makePng(8, 8) });
    await mention('like this', { files: [file] });
    expect(told().join('\n')).toMatch(/needs the `files:read` permission/);
    expect(fake.fileDownloads()).toEqual([{ id: file.id, served: false }]); // Slack's sign-in page, not the file
    expect(model.calls).toEqual([]);
  });

  it("a mention in an app's thread refines once (its app_mention twin is left alone); elsewhere it gets a hint", async () => {
    await start();
    model.script({ files: APP('one'), title: 'One' }, { files: APP('two') });
    await mention('a counter');
    const root = fake.messages(CHANNEL)[0]!;
    const ts = fake.nextTs();
    const text = '<@U0BOT> make it blue';
    await send({ channel: CHANNEL, user: 'U0USER', text, thread_ts: root.ts, ts });
    await send(appMention({ channel: CHANNEL, text, thread_ts: root.ts, ts }));
    expect(model.calls.filter((c) => c.kind === 'refine').map((c) => c.input)).toEqual(['make it blue']);

    const other = fake.nextTs();
    await send({ channel: CHANNEL, user: 'U0USER', text: '<@U0BOT> hello', thread_ts: other, ts: fake.nextTs() });
    expect(told().at(-1)).toMatch(/Mention me in a channel to build an app/);
    expect(model.calls).toHaveLength(2);
  });
});

describe('Slack streamed progress', () => {
  it('streams the steps in order (status line, startStream, appends, stopStream), then the card lands', async () => {
    await start();
    model.script({ files: APP('one'), title: 'One' });
    await mention('a counter');
    const root = fake.messages(CHANNEL)[0]!;
    const order = fake.calls
      .map((c) => c.method)
      .filter((m) => /^(chat\.(startStream|appendStream|stopStream|update)|assistant\.threads\.setStatus)$/.test(m));
    const live = fake.calls.indexOf(liveCard()!);
    const stop = fake.calls.findIndex((c) => c.method === 'chat.stopStream');
    expect(stop).toBeGreaterThan(0);
    expect(stop).toBeLessThan(live);
    const streamCalls = order.filter((m) => m.startsWith('chat.') && m !== 'chat.update');
    expect(streamCalls[0]).toBe('chat.startStream');
    expect(streamCalls.at(-1)).toBe('chat.stopStream');
    expect(streamCalls.slice(1, -1).every((m) => m === 'chat.appendStream')).toBe(true);
    const [startCall] = fake.callsTo('chat.startStream');
    expect(startCall!.args).toMatchObject({
      channel: CHANNEL,
      thread_ts: root.ts,
      recipient_user_id: 'U0USER',
      recipient_team_id: 'T0FAKE',
      task_display_mode: 'timeline',
    });
    const streamTs = startCall && fake.messages(CHANNEL).find((m) => m.chunks)!.ts;
    for (const c of [...fake.callsTo('chat.appendStream'), ...fake.callsTo('chat.stopStream')])
      expect(c.args).toMatchObject({ channel: CHANNEL, ts: streamTs });
    expect(fake.calls.filter((c) => c.error)).toEqual([]);
    // The streamed message: finished, its steps as task updates ending complete.
    const streamed = fake.messages(CHANNEL).find((m) => m.chunks)!;
    expect(streamed.streaming).toBe(false);
    const last = new Map<string, string>();
    for (const c of streamed.chunks!) if (c.type === 'task_update') last.set(String(c.id), String(c.status));
    expect(last.get('code')).toBe('complete');
    expect(last.get('check-1')).toBe('complete');
    expect([...last.values()].every((s) => s === 'complete')).toBe(true);
    // The status line named the steps, and is cleared at the end.
    expect(fake.threadStatuses.map((s) => s.status)).toContain('is writing the code…');
    expect(fake.threadStatuses.at(-1)!.status).toBe('');
    expect(fake.threadStatus(CHANNEL, root.ts)).toBe('');
    // The status message said where the steps are, then became the app's card.
    expect(fake.messages(CHANNEL)[0]!.text).toContain('One');
  });

  it('a workspace that refuses streaming gets the edited status message instead', async () => {
    await start({ streaming: 'unknown_method', assistantStatus: 'unknown_method' });
    model.script({ files: APP('one'), title: 'One' });
    await mention('a counter');
    expect(fake.callsTo('chat.startStream').map((c) => c.error)).toEqual(['unknown_method']);
    expect(fake.callsTo('chat.appendStream')).toEqual([]);
    expect(fake.callsTo('assistant.threads.setStatus')).toHaveLength(1); // tried once, then left alone
    const root = fake.messages(CHANNEL)[0]!;
    const edits = fake.callsTo('chat.update').filter((c) => c.args.ts === root.ts);
    // The stage under way when the refusal came (this fake build is quick: often the last one) is shown.
    expect(
      edits.some((c) => /Writing code|Starting the sandbox|Checking the code|Opening it in a browser/.test(sent(c))),
    ).toBe(true);
    expect(liveCard()).toBeDefined();
    expect(fake.messages(CHANNEL).filter((m) => m.chunks)).toEqual([]);
  });
});

function jpeg(width: number, height: number): Promise<Uint8Array> {
  return sharp({ create: { width, height, channels: 3, background: '#0a7' } })
    .jpeg()
    .toBuffer()
    .then((b) => new Uint8Array(b));
}
