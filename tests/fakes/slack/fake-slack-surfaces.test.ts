import { LogLevel, WebClient, retryPolicies, type WebAPIPlatformError } from '@slack/web-api';
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeSlack, type FakeSlack, type FakeSlackOptions } from './web-api.ts';

// The fake's threads, unfurls, App Home and people's channels, driven by the real WebClient.

let fake: FakeSlack | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

async function start(options: FakeSlackOptions = {}): Promise<{ fake: FakeSlack; client: WebClient }> {
  fake = await startFakeSlack({
    users: [
      { id: 'U0ANA', name: 'ana' },
      { id: 'U0BOB', name: 'bob' },
    ],
    ...options,
  });
  const client = new WebClient('xoxb-test', {
    slackApiUrl: fake.url,
    logLevel: LogLevel.ERROR,
    retryConfig: retryPolicies.rapidRetryPolicy,
  });
  return { fake, client };
}

async function platformError(promise: Promise<unknown>): Promise<string> {
  const err = (await promise.then(
    () => undefined,
    (e: unknown) => e,
  )) as WebAPIPlatformError | undefined;
  expect(err, 'the call should have failed').toBeDefined();
  return err!.data.error;
}

const blocks = [{ type: 'section', text: { type: 'mrkdwn', text: 'An app' } }];

describe('conversations.replies', () => {
  it("returns a thread oldest first, people's and bots' messages alike, bounded by oldest and paged", async () => {
    const { fake, client } = await start();
    const root = fake.postAsPerson({ channel: 'C1', user: 'U0ANA', text: 'shall we build a timer?' });
    const bob = fake.postAsPerson({ channel: 'C1', user: 'U0BOB', text: 'yes, 25 minutes', thread_ts: root.ts });
    await client.chat.postMessage({ channel: 'C1', thread_ts: root.ts, text: 'bot says hi' });
    fake.postAsPerson({ channel: 'C1', user: 'U0OTHER', text: 'another app', thread_ts: root.ts, bot_id: 'B0X' });
    fake.postAsPerson({ channel: 'C1', user: 'U0ANA', text: 'elsewhere' });

    const all = await client.conversations.replies({ channel: 'C1', ts: bob.ts });
    expect(all.messages?.map((m) => m.text)).toEqual([
      'shall we build a timer?',
      'yes, 25 minutes',
      'bot says hi',
      'another app',
    ]);
    expect(all.messages?.[0]).toMatchObject({ user: 'U0ANA', reply_count: 3, thread_ts: root.ts });
    expect(all.messages?.[2]).toMatchObject({ bot_id: fake.botId });
    expect(all.messages?.[3]).toMatchObject({ bot_id: 'B0X', subtype: 'bot_message' });

    const later = await client.conversations.replies({ channel: 'C1', ts: root.ts, oldest: bob.ts });
    expect(later.messages?.map((m) => m.text)).toEqual(['shall we build a timer?', 'bot says hi', 'another app']);

    const first = await client.conversations.replies({ channel: 'C1', ts: root.ts, limit: 3 });
    expect(first.messages).toHaveLength(3);
    expect(first.has_more).toBe(true);
    const rest = await client.conversations.replies({
      channel: 'C1',
      ts: root.ts,
      limit: 3,
      cursor: first.response_metadata!.next_cursor!,
    });
    expect(rest.messages?.map((m) => m.text)).toEqual(['another app']);
    expect(rest.response_metadata?.next_cursor).toBe('');

    expect(await platformError(client.conversations.replies({ channel: 'C1', ts: '1.000001' }))).toBe(
      'thread_not_found',
    );
    expect(await platformError(client.conversations.replies({ channel: 'C1', ts: root.ts, cursor: 'junk' }))).toBe(
      'invalid_cursor',
    );
  });

  it('needs a history scope', async () => {
    const { fake, client } = await start({ scopes: ['chat:write'] });
    const root = fake.postAsPerson({ channel: 'C1', user: 'U0ANA', text: 'hi' });
    expect(await platformError(client.conversations.replies({ channel: 'C1', ts: root.ts }))).toBe('missing_scope');
  });
});

describe('chat.unfurl', () => {
  it("attaches blocks to the URLs of a person's message, and refuses URLs the message does not carry", async () => {
    const { fake, client } = await start();
    const url = 'https://abc123.apps.example.com/';
    const message = fake.postAsPerson({ channel: 'C1', user: 'U0ANA', text: `look <${url}>` });
    await client.chat.unfurl({ channel: 'C1', ts: message.ts, unfurls: { [url]: { blocks } } });
    expect(fake.messages('C1').find((m) => m.ts === message.ts)?.unfurls).toEqual({ [url]: { blocks } });

    expect(
      await platformError(
        client.chat.unfurl({ channel: 'C1', ts: message.ts, unfurls: { 'https://other.example.com/': { blocks } } }),
      ),
    ).toBe('cannot_unfurl_url');
    expect(
      await platformError(client.chat.unfurl({ channel: 'C1', ts: '1.000001', unfurls: { [url]: { blocks } } })),
    ).toBe('cannot_find_message');
    const tooMany = Array.from({ length: 51 }, () => blocks[0]!);
    expect(
      await platformError(
        client.chat.unfurl({ channel: 'C1', ts: message.ts, unfurls: { [url]: { blocks: tooMany } } }),
      ),
    ).toBe('invalid_unfurls_format');
  });

  it('unfurls a link still in the composer by unfurl_id and source', async () => {
    const { fake, client } = await start();
    const url = 'https://abc123.apps.example.com/';
    await client.chat.unfurl({ unfurl_id: 'C1.123.abc', source: 'composer', unfurls: { [url]: { blocks } } });
    expect(fake.composerUnfurls('C1.123.abc')).toEqual({ [url]: { blocks } });
  });

  it('needs links:write', async () => {
    const { fake, client } = await start({ scopes: ['chat:write'] });
    const message = fake.postAsPerson({ channel: 'C1', user: 'U0ANA', text: 'https://x.example.com/' });
    expect(
      await platformError(
        client.chat.unfurl({ channel: 'C1', ts: message.ts, unfurls: { 'https://x.example.com/': { blocks } } }),
      ),
    ).toBe('missing_scope');
  });
});

describe('views.publish', () => {
  it('keeps the latest home view of each user, up to 100 blocks', async () => {
    const { fake, client } = await start();
    const res = await client.views.publish({ user_id: 'U0ANA', view: { type: 'home', blocks, private_metadata: 'x' } });
    expect(res.view?.id).toMatch(/^V0/);
    expect(fake.homeView('U0ANA')).toMatchObject({ type: 'home', blocks, private_metadata: 'x' });
    const hundred = Array.from({ length: 100 }, () => blocks[0]!);
    await client.views.publish({ user_id: 'U0ANA', view: { type: 'home', blocks: hundred } });
    expect(fake.homeView('U0ANA')?.blocks).toHaveLength(100);
    expect(
      await platformError(
        client.views.publish({ user_id: 'U0ANA', view: { type: 'home', blocks: [...hundred, blocks[0]!] } }),
      ),
    ).toBe('invalid_arguments');
    expect(
      await platformError(client.views.publish({ user_id: 'U0ANA', view: { type: 'modal', blocks } as never })),
    ).toBe('invalid_arguments');
    expect(
      await platformError(client.views.publish({ user_id: 'U0ANA', hash: 'stale', view: { type: 'home', blocks } })),
    ).toBe('hash_conflict');
  });
});

describe('users.conversations', () => {
  it("lists a person's channels of the types asked, private ones only where the bot is too", async () => {
    const { client } = await start({
      channels: [
        { id: 'C1', name: 'general', members: ['U0ANA', 'U0BOB'] },
        { id: 'C2', name: 'design', members: ['U0BOB'] },
        { id: 'G1', name: 'secret', is_private: true, members: ['U0ANA'] },
        { id: 'G2', name: 'hidden', is_private: true, is_member: false, members: ['U0ANA'] },
      ],
    });
    const ids = async (types?: string) =>
      (await client.users.conversations({ user: 'U0ANA', ...(types ? { types } : {}) })).channels?.map((c) => c.id);
    expect(await ids()).toEqual(['C1']);
    expect(await ids('public_channel,private_channel')).toEqual(['C1', 'G1']);
    expect(await platformError(client.users.conversations({ user: 'U0ANA', types: 'everything' }))).toBe(
      'invalid_types',
    );
  });
});
