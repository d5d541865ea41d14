import { DiscordAPIError, MessageFlags, REST, Routes, type APIMessage } from 'discord.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startFakeDiscord, type FakeDiscord } from './server.ts';

// A channel's history as @discordjs/rest reads it, replies, and the flags an author sets.

let fake: FakeDiscord;
let rest: REST;

beforeEach(async () => {
  fake = await startFakeDiscord();
  rest = new REST({ api: fake.apiUrl }).setToken(fake.token);
});
afterEach(async () => {
  await fake.close();
});

const general = () => fake.fixture.textChannel.id;

describe('message history and replies', () => {
  it("lists a channel's messages newest first, up to `limit`, without ephemeral ones", async () => {
    for (const content of ['one', 'two', 'three']) fake.messageCreate({ channelId: general(), content });
    fake.state.createMessage(general(), { content: 'only for one person', flags: MessageFlags.Ephemeral });
    const all = (await rest.get(Routes.channelMessages(general()))) as APIMessage[];
    expect(all.map((m) => m.content)).toEqual(['three', 'two', 'one']);
    const two = (await rest.get(Routes.channelMessages(general()), {
      query: new URLSearchParams({ limit: '2' }),
    })) as APIMessage[];
    expect(two.map((m) => m.content)).toEqual(['three', 'two']);
  });

  it('a thread started from a message has the message id; the starter is read from the parent', async () => {
    const starter = fake.messageCreate({ channelId: general(), content: 'shall we build a timer?' });
    const thread = fake.state.startThreadFromMessage(general(), starter.id, { name: 'timer' });
    fake.messageCreate({ channelId: thread.id, content: 'yes' });
    const inThread = (await rest.get(Routes.channelMessages(thread.id))) as APIMessage[];
    expect(inThread.map((m) => m.content)).toEqual(['yes']);
    const first = (await rest.get(Routes.channelMessage(general(), thread.id))) as APIMessage;
    expect(first.content).toBe('shall we build a timer?');
  });

  it('replies reference their message; a reply to an unknown one is refused unless told not to mind', async () => {
    const asked = fake.messageCreate({ channelId: general(), content: 'https://abc123.apps.example.com/' });
    const reply = (await rest.post(Routes.channelMessages(general()), {
      body: { content: 'a card', message_reference: { message_id: asked.id }, allowed_mentions: { parse: [] } },
    })) as APIMessage;
    expect(reply.message_reference?.message_id).toBe(asked.id);
    const refused = await rest
      .post(Routes.channelMessages(general()), { body: { content: 'x', message_reference: { message_id: '1' } } })
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(DiscordAPIError);
    expect((refused as DiscordAPIError).code).toBe(50035);
    await rest.post(Routes.channelMessages(general()), {
      body: { content: 'x', message_reference: { message_id: '1', fail_if_not_exists: false } },
    });
  });

  it('keeps the flags an author sets, such as SUPPRESS_EMBEDS', () => {
    const m = fake.messageCreate({
      channelId: general(),
      content: 'https://x.example.com/',
      flags: MessageFlags.SuppressEmbeds,
    });
    expect(fake.message(general(), m.id).flags).toBe(MessageFlags.SuppressEmbeds);
  });
});
