import { WebClient } from '@slack/web-api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startFakeSlack, type FakeSlack } from './web-api.ts';

// The fake's streaming methods, status line and people's files, driven by the real WebClient
// (and its ChatStreamer) as the bot drives them.

let fake: FakeSlack;
let client: WebClient;
beforeEach(async () => {
  fake = await startFakeSlack({ scopes: ['chat:write', 'files:read'] });
  client = new WebClient('xoxb-test', { slackApiUrl: fake.url, retryConfig: { retries: 0 } });
});
afterEach(async () => {
  await fake.close();
});

const code = (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (e: { data?: { error?: string } }) => e.data?.error,
  );

async function root(): Promise<string> {
  const res = await client.chat.postMessage({ channel: 'C1', text: 'root' });
  return res.ts!;
}

describe('fake chat streaming', () => {
  it('ChatStreamer: start with chunks, append, stop; the message holds what was streamed, in order', async () => {
    const thread = await root();
    const s = client.chatStream({
      channel: 'C1',
      thread_ts: thread,
      recipient_team_id: 'T0FAKE',
      recipient_user_id: 'U0USER',
      task_display_mode: 'timeline',
    });
    await s.append({ chunks: [{ type: 'task_update', id: 'a', title: 'Step A', status: 'in_progress' }] });
    await s.append({ chunks: [{ type: 'markdown_text', text: 'hello ' }] });
    await s.stop({ chunks: [{ type: 'task_update', id: 'a', title: 'Step A', status: 'complete' }] });
    expect(fake.calls.map((c) => c.method).slice(1)).toEqual([
      'chat.startStream',
      'chat.appendStream',
      'chat.stopStream',
    ]);
    const m = fake.messages('C1').find((x) => x.chunks)!;
    expect(m).toMatchObject({ thread_ts: thread, text: 'hello ', streaming: false });
    expect(m.chunks!.map((c) => [c.type, c.status ?? c.text])).toEqual([
      ['task_update', 'in_progress'],
      ['markdown_text', 'hello '],
      ['task_update', 'complete'],
    ]);
  });

  it('answers Slack errors: recipients in a channel, no thread, another message, a stopped stream, no text', async () => {
    const thread = await root();
    expect(await code(client.chat.startStream({ channel: 'C1', thread_ts: thread }))).toBe('missing_recipient_user_id');
    expect(await code(client.chat.startStream({ channel: 'C1', thread_ts: thread, recipient_user_id: 'U0USER' }))).toBe(
      'missing_recipient_team_id',
    );
    const start = { recipient_user_id: 'U0USER', recipient_team_id: 'T0FAKE', channel: 'C1' };
    expect(await code(client.chat.startStream({ ...start, thread_ts: '' } as never))).toBe('invalid_arguments');
    expect(await code(client.chat.appendStream({ channel: 'C1', ts: thread, markdown_text: 'x' }))).toBe(
      'message_not_in_streaming_state', // the root was posted, not streamed
    );
    expect(await code(client.chat.appendStream({ channel: 'C1', ts: '1.000001', markdown_text: 'x' }))).toBe(
      'message_not_found',
    );
    const { ts } = await client.chat.startStream({ ...start, thread_ts: thread, markdown_text: 'a' });
    expect(await code(client.chat.appendStream({ channel: 'C1', ts: ts! } as never))).toBe('no_text');
    expect(
      await code(
        client.chat.appendStream({
          channel: 'C1',
          ts: ts!,
          chunks: [{ type: 'task_update', id: 'x', title: 'X', status: 'done' as never }],
        }),
      ),
    ).toBe('invalid_arguments');
    await client.chat.stopStream({ channel: 'C1', ts: ts! });
    expect(await code(client.chat.appendStream({ channel: 'C1', ts: ts!, markdown_text: 'late' }))).toBe(
      'message_not_in_streaming_state',
    );
    expect(await code(client.chat.stopStream({ channel: 'C1', ts: ts! }))).toBe('message_not_in_streaming_state');
  });

  it('a workspace without streaming answers the error it is given, for every call', async () => {
    await fake.close();
    fake = await startFakeSlack({ streaming: 'unknown_method' });
    client = new WebClient('xoxb-test', { slackApiUrl: fake.url, retryConfig: { retries: 0 } });
    const thread = await root();
    const s = client.chatStream({ channel: 'C1', thread_ts: thread, recipient_team_id: 'T', recipient_user_id: 'U' });
    expect(await code(s.append({ chunks: [{ type: 'markdown_text', text: 'x' }] }))).toBe('unknown_method');
  });
});

describe('fake assistant status line', () => {
  it('sets and clears the status; a bot reply in the thread clears it; a thread that is no message is refused', async () => {
    const thread = await root();
    await client.assistant.threads.setStatus({ channel_id: 'C1', thread_ts: thread, status: 'is working…' });
    expect(fake.threadStatus('C1', thread)).toBe('is working…');
    await client.chat.postMessage({ channel: 'C1', thread_ts: thread, text: 'reply' });
    expect(fake.threadStatus('C1', thread)).toBe('');
    expect(await code(client.assistant.threads.setStatus({ channel_id: 'C1', thread_ts: '9.9', status: 'x' }))).toBe(
      'invalid_thread_ts',
    );
  });
});

describe("fake people's files", () => {
  it('serves url_private_download to a token with files:read; anyone else gets the sign-in page', async () => {
    const file = fake.userFile({ name: 'a b.png', bytes: new Uint8Array([1, 2, 3]) });
    const url = String(file.url_private_download);
    const good = await fetch(url, { headers: { authorization: 'Bearer xoxb-test' } });
    expect([good.status, good.headers.get('content-type')]).toEqual([200, 'image/png']);
    expect([...new Uint8Array(await good.arrayBuffer())]).toEqual([1, 2, 3]);
    const anonymous = await fetch(url);
    expect([anonymous.status, anonymous.headers.get('content-type')]).toEqual([200, 'text/html; charset=utf-8']);
    expect(fake.fileDownloads().map((d) => d.served)).toEqual([true, false]);
    expect((await client.files.info({ file: String(file.id) })).file?.name).toBe('a b.png');
    expect(await code(client.files.info({ file: 'F404' }))).toBe('file_not_found');
  });

  it('files.info and downloads need files:read', async () => {
    await fake.close();
    fake = await startFakeSlack({ scopes: ['chat:write'] });
    client = new WebClient('xoxb-test', { slackApiUrl: fake.url, retryConfig: { retries: 0 } });
    const file = fake.userFile({ name: 'a.png', bytes: new Uint8Array([1]), checkFileInfo: true });
    expect(file).toEqual({ id: file.id, mode: 'hidden_by_limit', file_access: 'check_file_info' });
    expect(await code(client.files.info({ file: String(file.id) }))).toBe('missing_scope');
  });
});
