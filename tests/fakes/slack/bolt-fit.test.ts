import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { App, LogLevel, SocketModeReceiver } from '@slack/bolt';
import { retryPolicies } from '@slack/web-api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  blockActions,
  commandRequest,
  eventCallback,
  eventRequest,
  interactiveRequest,
  postToBolt,
  slashCommand,
  urlVerification,
} from './requests.ts';
import { startFakeSlack, type FakeSlack } from './web-api.ts';

/**
 * Proves the fakes speak Slack well enough for the real Bolt app: the payload builders reach
 * Bolt's listeners over signed HTTP and over Socket Mode, and Bolt's calls land in the fake.
 */

const BOT_TOKEN = 'xoxb-fake-bot-token';
const APP_TOKEN = 'xapp-1-A0FAKE-1-fake';
const SECRET = 'fake-signing-secret';

let fake: FakeSlack;
let app: App | undefined;

beforeEach(async () => {
  fake = await startFakeSlack({ botToken: BOT_TOKEN, appToken: APP_TOKEN });
});
afterEach(async () => {
  await app?.stop();
  app = undefined;
  await fake.close();
});

/** The listeners a vibe-style bot registers; the same for both transports. */
function register(target: App): void {
  target.command('/vibe', async ({ command, ack, respond }) => {
    if (command.text === 'help') return void (await ack('usage: /vibe <prompt>'));
    await ack();
    await respond({ text: `building ${command.text}` });
  });
  target.action('open_app', async ({ ack, action, respond }) => {
    await ack();
    await respond({ replace_original: true, text: `clicked ${'value' in action ? action.value : '?'}` });
  });
  target.message(async ({ message, client }) => {
    if (message.subtype !== undefined || !('thread_ts' in message) || !message.thread_ts) return;
    await client.chat.postMessage({
      channel: message.channel,
      thread_ts: message.thread_ts,
      text: `echo ${message.text ?? ''}`,
    });
  });
}

describe('Bolt over signed HTTP', () => {
  let endpoint: string;
  beforeEach(async () => {
    app = new App({
      token: BOT_TOKEN,
      signingSecret: SECRET,
      logLevel: LogLevel.ERROR,
      clientOptions: { slackApiUrl: fake.url, retryConfig: retryPolicies.rapidRetryPolicy },
    });
    register(app);
    const server = (await app.start({ port: 0, host: '127.0.0.1' })) as Server;
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/slack/events`;
  });

  it('runs a slash command: ack body, then respond() to the response URL', async () => {
    const help = await postToBolt(
      endpoint,
      SECRET,
      commandRequest(slashCommand({ text: 'help', response_url: fake.responseUrl() })),
    );
    expect(help).toMatchObject({ status: 200, text: 'usage: /vibe <prompt>' });

    const responseUrl = fake.responseUrl({ channel: 'C0FAKE', user: 'U0USER' });
    const res = await postToBolt(
      endpoint,
      SECRET,
      commandRequest(slashCommand({ text: 'a timer', response_url: responseUrl })),
    );
    expect(res.status).toBe(200);
    expect(res.ms).toBeLessThan(3000);
    const call = await fake.waitForCall('response_url', (c) => c.args.text === 'building a timer');
    expect(responseUrl.endsWith(call.id!)).toBe(true);
    expect(fake.messages('C0FAKE')).toMatchObject([{ text: 'building a timer', ephemeralFor: 'U0USER' }]);
  });

  it('rejects forged and stale signatures', async () => {
    const body = commandRequest(slashCommand({ text: 'x', response_url: fake.responseUrl() }));
    expect((await postToBolt(endpoint, 'wrong-secret', body)).status).toBe(401);
    const stale = { ...body, timestamp: Math.floor(Date.now() / 1000) - 600 };
    expect((await postToBolt(endpoint, SECRET, stale)).status).toBe(401);
    expect(fake.callsTo('response_url')).toHaveLength(0);
  });

  it('answers url_verification', async () => {
    const res = await postToBolt(endpoint, SECRET, eventRequest(urlVerification('chal-123')));
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text)).toEqual({ challenge: 'chal-123' });
  });

  it('delivers a button click with the real block_actions shape', async () => {
    const card = await app!.client.chat.postMessage({ channel: 'C0FAKE', text: 'card' });
    const payload = blockActions({
      actions: [{ action_id: 'open_app', value: 'app-1', text: 'Open' }],
      message_ts: card.ts!,
      message: { text: 'card', user: fake.botUserId },
      response_url: fake.responseUrl({ channel: 'C0FAKE', user: 'U0USER', messageTs: card.ts! }),
    });
    expect((await postToBolt(endpoint, SECRET, interactiveRequest(payload))).status).toBe(200);
    await fake.waitForCall('response_url');
    expect(fake.messages('C0FAKE')).toMatchObject([{ ts: card.ts, text: 'clicked app-1', edits: 1 }]);
  });

  it('delivers thread messages and Bolt ignores the bot’s own', async () => {
    const root = fake.nextTs();
    const own = eventCallback({
      event: {
        channel: 'C0FAKE',
        user: fake.botUserId,
        bot_id: fake.botId,
        text: 'mine',
        thread_ts: root,
        ts: fake.nextTs(),
      },
    });
    expect((await postToBolt(endpoint, SECRET, eventRequest(own))).status).toBe(200);
    const theirs = eventCallback({
      event: { channel: 'C0FAKE', user: 'U0USER', text: 'make it blue', thread_ts: root, ts: fake.nextTs() },
    });
    expect((await postToBolt(endpoint, SECRET, eventRequest(theirs))).status).toBe(200);

    const echo = await fake.waitForCall('chat.postMessage');
    expect(echo.args).toMatchObject({ channel: 'C0FAKE', thread_ts: root, text: 'echo make it blue' });
    expect(echo.token).toBe(BOT_TOKEN);
    expect(fake.callsTo('auth.test').length).toBeGreaterThanOrEqual(1);
    expect(fake.callsTo('chat.postMessage')).toHaveLength(1);
  });
});

describe('Bolt over Socket Mode', () => {
  beforeEach(async () => {
    const receiver = new SocketModeReceiver({
      appToken: APP_TOKEN,
      clientPingTimeout: 400,
      logLevel: LogLevel.ERROR,
      installerOptions: { clientOptions: { slackApiUrl: fake.url } },
    });
    app = new App({ token: BOT_TOKEN, receiver, logLevel: LogLevel.ERROR, clientOptions: { slackApiUrl: fake.url } });
    register(app);
    await app.start();
  });

  it('acks a slash command with its response payload, then responds', async () => {
    const help = await fake.socket.sendEnvelope({
      type: 'slash_commands',
      payload: slashCommand({ text: 'help', response_url: fake.responseUrl() }),
    });
    expect(help.payload).toEqual({ text: 'usage: /vibe <prompt>' });

    const ack = await fake.socket.sendEnvelope({
      type: 'slash_commands',
      payload: slashCommand({ text: 'a timer', response_url: fake.responseUrl({ channel: 'C0FAKE', user: 'U0USER' }) }),
    });
    expect(ack.payload).toEqual({});
    await fake.waitForCall('response_url', (c) => c.args.text === 'building a timer');
  });

  it('delivers interactive and events_api envelopes, and survives a reconnect', async () => {
    const card = await app!.client.chat.postMessage({ channel: 'C0FAKE', text: 'card' });
    const click = blockActions({
      actions: [{ action_id: 'open_app', value: 'app-2' }],
      message_ts: card.ts!,
      response_url: fake.responseUrl({ channel: 'C0FAKE', messageTs: card.ts! }),
    });
    await fake.socket.sendEnvelope({ type: 'interactive', payload: click });
    await fake.waitForCall('response_url');
    expect(fake.messages('C0FAKE')[0]).toMatchObject({ text: 'clicked app-2', edits: 1 });

    fake.socket.disconnect();
    await fake.socket.waitForConnections(2, 5000);
    const root = card.ts!;
    const event = eventCallback({
      event: { channel: 'C0FAKE', user: 'U0USER', text: 'again', thread_ts: root, ts: fake.nextTs() },
    });
    await fake.socket.sendEnvelope({ type: 'events_api', payload: event });
    const echo = await fake.waitForCall('chat.postMessage', (c) => c.args.text === 'echo again');
    expect(echo.args.thread_ts).toBe(root);
  });
});
