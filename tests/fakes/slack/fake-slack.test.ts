import { verifySlackRequest } from '@slack/bolt';
import { LogLevel as SocketLogLevel, SocketModeClient } from '@slack/socket-mode';
import { LogLevel, WebClient, WebClientEvent, retryPolicies, type WebAPIPlatformError } from '@slack/web-api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { makePng, readPng } from '../../support/png.ts';
import { signSlackRequest } from './requests.ts';
import { startFakeSlack, type FakeSlack } from './web-api.ts';

const BOT_TOKEN = 'xoxb-fake-bot-token';
const APP_TOKEN = 'xapp-1-A0FAKE-1-fake';
const TS = /^\d{10}\.\d{6}$/;

let fake: FakeSlack;
let client: WebClient;

beforeEach(async () => {
  fake = await startFakeSlack({
    users: [
      { id: 'U0ADMIN', name: 'ada', is_admin: true },
      { id: 'U0USER', name: 'alice' },
    ],
  });
  client = new WebClient(BOT_TOKEN, {
    slackApiUrl: fake.url,
    logLevel: LogLevel.ERROR,
    retryConfig: retryPolicies.rapidRetryPolicy,
  });
});
afterEach(async () => {
  await fake.close();
});

async function platformError(promise: Promise<unknown>): Promise<string> {
  const err = (await promise.then(
    () => undefined,
    (e: unknown) => e,
  )) as WebAPIPlatformError | undefined;
  expect(err, 'the call should have failed').toBeDefined();
  return err!.data.error;
}

describe('fake Slack Web API with the real WebClient', () => {
  it('answers auth.test with the bot identity and records the bearer token', async () => {
    const res = await client.auth.test();
    expect(res).toMatchObject({
      ok: true,
      team_id: 'T0FAKE',
      user_id: 'U0BOT',
      bot_id: 'B0BOT',
      url: 'https://fake-team.slack.com/',
    });
    expect(fake.callsTo('auth.test')[0]?.token).toBe(BOT_TOKEN);
  });

  it('posts, threads and updates messages, decoding blocks and keeping per-channel state', async () => {
    const blocks = [{ type: 'section', text: { type: 'mrkdwn', text: '*Building…*' } }];
    const root = await client.chat.postMessage({ channel: 'C1', text: 'Building…', blocks });
    expect(root.ts).toMatch(TS);
    expect(root.channel).toBe('C1');
    expect(root.message).toMatchObject({ text: 'Building…', user: 'U0BOT', bot_id: 'B0BOT', blocks });
    expect(fake.callsTo('chat.postMessage')[0]?.args.blocks).toEqual(blocks);

    const reply = await client.chat.postMessage({
      channel: 'C1',
      text: 'in thread',
      thread_ts: root.ts!,
      unfurl_links: false,
    });
    expect(fake.callsTo('chat.postMessage')[1]?.args).toMatchObject({ thread_ts: root.ts, unfurl_links: false });
    await client.chat.update({ channel: 'C1', ts: root.ts!, text: 'Live', blocks: [] });
    await client.chat.update({ channel: 'C1', ts: root.ts!, text: 'Live!' });

    expect(fake.messages('C1')).toEqual([
      { ts: root.ts, text: 'Live!', blocks: [], user: 'U0BOT', edits: 2 },
      { ts: reply.ts, thread_ts: root.ts, text: 'in thread', blocks: [], user: 'U0BOT', edits: 0 },
    ]);
    expect(fake.messages('C2')).toEqual([]);
  });

  it('hands out strictly increasing, real-looking ts values', async () => {
    const stamps: string[] = [];
    for (let i = 0; i < 25; i++) stamps.push((await client.chat.postMessage({ channel: 'C1', text: `m${i}` })).ts!);
    stamps.push(fake.nextTs());
    for (const ts of stamps) expect(ts).toMatch(TS);
    for (let i = 1; i < stamps.length; i++) expect(Number(stamps[i])).toBeGreaterThan(Number(stamps[i - 1]));
    expect(Math.abs(Number(stamps[0]) - Date.now() / 1000)).toBeLessThan(60);
  });

  it("answers Slack's error codes", async () => {
    expect(await platformError(client.chat.update({ channel: 'C1', ts: '1700000000.000100', text: 'x' }))).toBe(
      'message_not_found',
    );
    expect(await platformError(client.chat.postMessage({ channel: 'C1', text: '' }))).toBe('no_text');
    expect(await platformError(client.users.info({ user: 'U0NOBODY' }))).toBe('user_not_found');
    expect(await platformError(client.apiCall('chat.scheduleMessage', { channel: 'C1', text: 'x', post_at: 1 }))).toBe(
      'unknown_method',
    );
    const header = [{ type: 'header', text: { type: 'plain_text', text: 'x'.repeat(151) } }];
    expect(await platformError(client.chat.postMessage({ channel: 'C1', text: 'x', blocks: header }))).toBe(
      'invalid_blocks',
    );
    const bad = new WebClient('xoxq-nope', { slackApiUrl: fake.url, logLevel: LogLevel.ERROR });
    expect(await platformError(bad.auth.test())).toBe('invalid_auth');
    expect(await platformError(client.apps.connections.open({}))).toBe('not_allowed_token_type');
    expect(fake.callsTo('chat.scheduleMessage')).toHaveLength(1);
    expect(fake.calls.filter((c) => c.error).map((c) => c.error)).toEqual([
      'message_not_found',
      'no_text',
      'user_not_found',
      'unknown_method',
      'invalid_blocks',
      'invalid_auth',
      'not_allowed_token_type',
    ]);
  });

  it('channels are closed when configured', async () => {
    const strict = await startFakeSlack({ channels: [{ id: 'C1', name: 'general' }] });
    try {
      const c = new WebClient(BOT_TOKEN, { slackApiUrl: strict.url, logLevel: LogLevel.ERROR });
      expect((await c.conversations.info({ channel: 'C1' })).channel).toMatchObject({
        id: 'C1',
        name: 'general',
        is_member: true,
      });
      expect(await platformError(c.chat.postMessage({ channel: 'C9', text: 'x' }))).toBe('channel_not_found');
    } finally {
      await strict.close();
    }
  });

  it('posts ephemeral messages, looks up users and builds permalinks', async () => {
    const root = await client.chat.postMessage({ channel: 'C1', text: 'root' });
    const eph = await client.chat.postEphemeral({
      channel: 'C1',
      user: 'U0USER',
      text: 'only you',
      thread_ts: root.ts!,
    });
    expect(eph.message_ts).toMatch(TS);
    expect(fake.messages('C1')[1]).toMatchObject({
      ts: eph.message_ts,
      ephemeralFor: 'U0USER',
      thread_ts: root.ts,
      text: 'only you',
    });
    expect(await platformError(client.chat.postEphemeral({ channel: 'C1', user: 'U0STRANGER', text: 'x' }))).toBe(
      'user_not_in_channel',
    );
    // Slack cannot edit an ephemeral message through chat.update.
    expect(await platformError(client.chat.update({ channel: 'C1', ts: eph.message_ts!, text: 'x' }))).toBe(
      'message_not_found',
    );

    const admin = await client.users.info({ user: 'U0ADMIN' });
    expect(admin.user).toMatchObject({ id: 'U0ADMIN', name: 'ada', is_admin: true, is_owner: false, is_bot: false });

    const link = await client.chat.getPermalink({ channel: 'C1', message_ts: root.ts! });
    expect(link.permalink).toBe(`https://fake-team.slack.com/archives/C1/p${root.ts!.replace('.', '')}`);
  });

  it('fails on demand; the SDK retries a 429 ratelimited answer', async () => {
    let rateLimited = 0;
    client.on(WebClientEvent.RATE_LIMITED, () => rateLimited++);
    fake.failNext('chat.postMessage', 'ratelimited');
    const res = await client.chat.postMessage({ channel: 'C1', text: 'after retry' });
    expect(res.ok).toBe(true);
    expect(rateLimited).toBe(1);
    expect(fake.callsTo('chat.postMessage').map((c) => c.error ?? 'ok')).toEqual(['ratelimited', 'ok']);
    expect(fake.messages('C1')).toHaveLength(1);

    fake.failNext('chat.update', 'fatal_error', 2);
    const ts = res.ts!;
    expect(await platformError(client.chat.update({ channel: 'C1', ts, text: 'a' }))).toBe('fatal_error');
    expect(await platformError(client.chat.update({ channel: 'C1', ts, text: 'b' }))).toBe('fatal_error');
    await client.chat.update({ channel: 'C1', ts, text: 'c' });
    expect(fake.messages('C1')[0]).toMatchObject({ text: 'c', edits: 1 });
  });

  it('waitForCall resolves on a later call and rejects on timeout', async () => {
    const waiting = fake.waitForCall('chat.postMessage', (c) => c.args.text === 'second');
    await client.chat.postMessage({ channel: 'C1', text: 'first' });
    await client.chat.postMessage({ channel: 'C1', text: 'second' });
    expect((await waiting).args.channel).toBe('C1');
    await expect(fake.waitForCall('chat.delete', undefined, 50)).rejects.toThrow(
      /no matching chat.delete call within 50 ms/,
    );
  });

  it('records response_url posts and applies them to the target message', async () => {
    const root = await client.chat.postMessage({ channel: 'C1', text: 'card' });
    const plain = fake.responseUrl();
    const onCard = fake.responseUrl({ channel: 'C1', user: 'U0USER', messageTs: root.ts! });
    const post = (url: string, body: unknown) =>
      fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

    expect((await post(plain, { text: 'hello', response_type: 'ephemeral' })).status).toBe(200);
    expect(
      (await post(onCard, { replace_original: true, text: 'replaced', blocks: [{ type: 'divider' }] })).status,
    ).toBe(200);
    expect((await post(onCard, { text: 'just for alice' })).status).toBe(200);
    expect((await post(`${fake.origin}/respond/unknown`, { text: 'x' })).status).toBe(404);

    const responses = fake.callsTo('response_url');
    expect(responses.map((c) => c.args.text)).toEqual(['hello', 'replaced', 'just for alice', 'x']);
    expect(responses[0]?.id).toBe(plain.split('/').at(-1));
    expect(fake.messages('C1')).toMatchObject([
      { ts: root.ts, text: 'replaced', blocks: [{ type: 'divider' }], edits: 1 },
      { text: 'just for alice', ephemeralFor: 'U0USER' },
    ]);
    expect((await post(onCard, { delete_original: true })).status).toBe(200);
    expect(fake.messages('C1').map((m) => m.text)).toEqual(['just for alice']);
  });

  it("signs requests the way Bolt's verifySlackRequest checks them", () => {
    const body = 'command=%2Fvibe&text=hi';
    const headers = signSlackRequest('s3cret', body);
    const verify = (secret: string, raw: string) =>
      verifySlackRequest({
        signingSecret: secret,
        body: raw,
        headers: {
          'x-slack-signature': headers['x-slack-signature'],
          'x-slack-request-timestamp': Number(headers['x-slack-request-timestamp']),
        },
      });
    expect(() => verify('s3cret', body)).not.toThrow();
    expect(() => verify('other', body)).toThrow(/signature mismatch/);
    expect(() => verify('s3cret', `${body}&x=1`)).toThrow(/signature mismatch/);
    const stale = signSlackRequest('s3cret', body, Math.floor(Date.now() / 1000) - 600);
    expect(() =>
      verifySlackRequest({
        signingSecret: 's3cret',
        body,
        headers: {
          'x-slack-signature': stale['x-slack-signature'],
          'x-slack-request-timestamp': Number(stale['x-slack-request-timestamp']),
        },
      }),
    ).toThrow(/stale/);
  });
});

describe("fake Slack file uploads with the real WebClient's files.uploadV2", () => {
  it('takes getUploadURLExternal, the bytes at the upload URL, then completeUploadExternal into a thread', async () => {
    const png = Buffer.from(makePng(320, 200));
    const root = await client.chat.postMessage({ channel: 'C1', text: 'the app' });
    const res = await client.files.uploadV2({
      channel_id: 'C1',
      thread_ts: root.ts!,
      file: png,
      filename: 'screenshot.png',
      title: 'Timer: screenshot',
      alt_text: 'Screenshot of Timer, v1',
    });
    expect(res.ok).toBe(true);
    expect(fake.calls.map((c) => c.method)).toEqual([
      'chat.postMessage',
      'files.getUploadURLExternal',
      'upload_url',
      'files.completeUploadExternal',
    ]);
    const [url] = fake.callsTo('files.getUploadURLExternal');
    expect(url!.args).toMatchObject({ filename: 'screenshot.png', length: String(png.length) });
    expect(url!.token).toBe(BOT_TOKEN);
    expect(fake.callsTo('upload_url')[0]!.args.content_type).toMatch(/^multipart\/form-data/);
    const [complete] = fake.callsTo('files.completeUploadExternal');
    expect(complete!.args).toMatchObject({ channel_id: 'C1', thread_ts: root.ts });
    const [file] = fake.files();
    expect(complete!.args.files).toEqual([{ id: file!.id, title: 'Timer: screenshot' }]);
    expect(file).toMatchObject({
      filename: 'screenshot.png',
      title: 'Timer: screenshot',
      alt_text: 'Screenshot of Timer, v1',
      length: png.length,
      completed: true,
      channel: 'C1',
      thread_ts: root.ts,
    });
    expect(file!.bytes!.equals(png)).toBe(true);
    expect(readPng(file!.bytes!)).toEqual({ width: 320, height: 200 });
    // The share is a message in the thread that carries the file.
    expect(fake.messages('C1').at(-1)).toMatchObject({ thread_ts: root.ts, files: [file!.id], ts: file!.message_ts });
  });

  it('refuses what Slack refuses: missing arguments, a zero length, unknown or unfinished or reused file ids', async () => {
    const call = (method: string, args: Record<string, unknown>) => platformError(client.apiCall(method, args));
    expect(await call('files.getUploadURLExternal', { length: 10 })).toBe('invalid_arguments');
    expect(await call('files.getUploadURLExternal', { filename: 'a.png' })).toBe('invalid_arguments');
    expect(await call('files.getUploadURLExternal', { filename: 'a.png', length: 0 })).toBe('missing_argument');
    expect(await call('files.getUploadURLExternal', { filename: 'a.png', length: 1, alt_txt: 'x'.repeat(1001) })).toBe(
      'alt_txt_too_large',
    );
    expect(await call('files.completeUploadExternal', {})).toBe('invalid_arguments');
    expect(await call('files.completeUploadExternal', { files: [{ id: 'F0NOPE' }], channel_id: 'C1' })).toBe(
      'file_not_found',
    );

    const { upload_url, file_id } = await client.files.getUploadURLExternal({ filename: 'a.png', length: 4 });
    // Completing before the bytes arrived: the upload is not there yet.
    expect(await call('files.completeUploadExternal', { files: [{ id: file_id }], channel_id: 'C1' })).toBe(
      'file_not_found',
    );
    // The upload URL takes exactly the declared length, once.
    const post = (url: string, body: Buffer) => fetch(url, { method: 'POST', body: new Uint8Array(body) });
    expect((await post(upload_url!, Buffer.from('12345'))).status).toBe(400);
    expect((await post(`${fake.origin}/upload/v1/forged`, Buffer.from('1234'))).status).toBe(404);
    const ok = await post(upload_url!, Buffer.from('1234'));
    expect([ok.status, await ok.text()]).toEqual([200, 'OK - 4']);
    expect((await post(upload_url!, Buffer.from('1234'))).status).toBe(400);
    expect(fake.callsTo('upload_url').map((c) => c.error ?? 'ok')).toEqual([
      'length mismatch: declared 4, received 5',
      'upload URL not found',
      'ok',
      'already uploaded',
    ]);

    // A thread_ts must be a message of that channel that is not itself a reply.
    const root = await client.chat.postMessage({ channel: 'C1', text: 'root' });
    const reply = await client.chat.postMessage({ channel: 'C1', text: 'reply', thread_ts: root.ts! });
    expect(
      await call('files.completeUploadExternal', { files: [{ id: file_id }], channel_id: 'C1', thread_ts: reply.ts }),
    ).toBe('invalid_arguments');
    expect(await call('files.completeUploadExternal', { files: [{ id: file_id }], thread_ts: root.ts })).toBe(
      'invalid_arguments',
    );
    await client.files.completeUploadExternal({ files: [{ id: file_id! }], channel_id: 'C1', thread_ts: root.ts });
    // "This method can only be called once."
    expect(await call('files.completeUploadExternal', { files: [{ id: file_id }], channel_id: 'C1' })).toBe(
      'file_not_found',
    );
    expect(fake.files()[0]!.bytes!.toString()).toBe('1234');
  });

  it('models scopes and membership: missing_scope without files:write, not_in_channel where the bot was not invited', async () => {
    const strict = await startFakeSlack({
      scopes: ['chat:write', 'commands'],
      channels: [
        { id: 'C1', name: 'general' },
        { id: 'C2', name: 'elsewhere', is_member: false },
      ],
    });
    try {
      const c = new WebClient(BOT_TOKEN, { slackApiUrl: strict.url, logLevel: LogLevel.ERROR });
      await c.chat.postMessage({ channel: 'C1', text: 'fine' });
      const err = (await c.files
        .uploadV2({ channel_id: 'C1', file: Buffer.from('1234'), filename: 'a.png' })
        .catch((e: unknown) => e)) as WebAPIPlatformError;
      expect(err.data).toMatchObject({ ok: false, error: 'missing_scope', needed: 'files:write' });
      expect(err.data).toHaveProperty('provided', 'chat:write,commands');
      expect(strict.files()).toEqual([]);
      expect(await platformError(c.chat.postMessage({ channel: 'C2', text: 'x' }))).toBe('not_in_channel');
      expect((await c.conversations.info({ channel: 'C2' }).catch((e: WebAPIPlatformError) => e.data)).error).toBe(
        'missing_scope',
      );
    } finally {
      await strict.close();
    }
    const uninvited = await startFakeSlack({ channels: [{ id: 'C2', name: 'elsewhere', is_member: false }] });
    try {
      const c = new WebClient(BOT_TOKEN, { slackApiUrl: uninvited.url, logLevel: LogLevel.ERROR });
      expect(
        await platformError(c.files.uploadV2({ channel_id: 'C2', file: Buffer.from('1234'), filename: 'a.png' })),
      ).toBe('not_in_channel');
      expect((await c.conversations.info({ channel: 'C2' })).channel).toMatchObject({ is_member: false });
    } finally {
      await uninvited.close();
    }
  });
});

describe('fake Socket Mode with the real SocketModeClient', () => {
  let socketClient: SocketModeClient | undefined;
  afterEach(async () => {
    await socketClient?.disconnect();
    socketClient = undefined;
  });

  function connect(): SocketModeClient {
    // A short clientPingTimeout makes the client's reconnect delay (1 x timeout) short too.
    socketClient = new SocketModeClient({
      appToken: APP_TOKEN,
      clientPingTimeout: 400,
      logLevel: SocketLogLevel.ERROR,
      clientOptions: { slackApiUrl: fake.url },
    });
    return socketClient;
  }

  it('connects through apps.connections.open, delivers envelopes and returns acks', async () => {
    const sm = connect();
    const commands: unknown[] = [];
    sm.on('slash_commands', async ({ ack, body }: { ack: (r?: object) => Promise<void>; body: unknown }) => {
      commands.push(body);
      await ack({ text: 'on it' });
    });
    const messages: unknown[] = [];
    sm.on('message', async ({ ack, event }: { ack: () => Promise<void>; event: unknown }) => {
      messages.push(event);
      await ack();
    });
    await sm.start();
    expect(fake.callsTo('apps.connections.open')[0]?.token).toBe(APP_TOKEN);
    expect(fake.socket.connections).toBe(1);

    const payload = { command: '/vibe', text: 'a timer', user_id: 'U0USER', channel_id: 'C1' };
    const ack = await fake.socket.sendEnvelope({ type: 'slash_commands', payload });
    expect(ack.payload).toEqual({ text: 'on it' });
    expect(commands).toEqual([payload]);

    const event = {
      type: 'event_callback',
      event: { type: 'message', channel: 'C1', user: 'U0USER', text: 'hi', ts: fake.nextTs() },
    };
    const eventAck = await fake.socket.sendEnvelope({ type: 'events_api', payload: event });
    expect(eventAck.payload).toEqual({});
    expect(messages).toEqual([event.event]);
    expect(fake.socket.received).toHaveLength(2);
  });

  it('rejects an envelope nobody acks, after the timeout', async () => {
    const sm = connect();
    await sm.start();
    const started = Date.now();
    await expect(
      fake.socket.sendEnvelope({ type: 'interactive', payload: { type: 'block_actions' } }, 150),
    ).rejects.toThrow(/no ack/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });

  it.each(['message', 'close'] as const)('reconnects after a %s disconnect with a new ticket', async (how) => {
    const sm = connect();
    sm.on('slash_commands', async ({ ack }: { ack: (r?: object) => Promise<void> }) => ack({ text: 'again' }));
    await sm.start();
    fake.socket.disconnect(how);
    await fake.socket.waitForConnections(2, 5000);
    expect(fake.callsTo('apps.connections.open')).toHaveLength(2);
    const ack = await fake.socket.sendEnvelope({ type: 'slash_commands', payload: { command: '/vibe', text: 'x' } });
    expect(ack.payload).toEqual({ text: 'again' });
    expect(fake.socket.connections).toBe(1);
  });

  it('refuses a WebSocket without a valid ticket', async () => {
    const wsUrl = `${fake.origin.replace('http', 'ws')}/socket?ticket=forged`;
    const outcome = await new Promise<string>((resolve) => {
      const ws = new WebSocket(wsUrl);
      ws.on('open', () => {
        ws.terminate();
        resolve('open');
      });
      ws.on('error', (err) => resolve(err.message));
    });
    expect(outcome).toMatch(/401/);
    expect(fake.socket.totalConnections).toBe(0);
  });
});
