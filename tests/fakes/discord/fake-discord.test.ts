import { once } from 'node:events';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ActionRowBuilder,
  ButtonBuilder,
  ButtonStyle,
  ChannelType,
  Client,
  DiscordAPIError,
  Events,
  GatewayIntentBits,
  MessageFlags,
  REST,
  Routes,
  type ButtonInteraction,
  type ChatInputCommandInteraction,
  type Interaction,
  type Message,
  type TextChannel,
} from 'discord.js';
import { startFakeDiscord, type FakeDiscord } from './server.ts';
import { eventually } from '../../support/eventually.ts';
import { makePng, readPng } from '../../support/png.ts';

const INTENTS = [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessages, GatewayIntentBits.MessageContent];

let fake: FakeDiscord;
let client: Client;
/** @discordjs/rest must never throttle itself against the fake's headers. */
let restWaits: string[];

async function login(intents = INTENTS): Promise<Client> {
  client = new Client({ intents, rest: { api: fake.apiUrl } });
  client.rest.on('rateLimited', (info) => restWaits.push(`rateLimited ${info.route}`));
  client.rest.on('restDebug', (message) => {
    if (/Waiting|sleeping/i.test(message)) restWaits.push(message);
  });
  const ready = once(client, Events.ClientReady);
  await client.login(fake.token);
  await within(ready, 5000, 'clientReady');
  return client;
}

function textChannel(): TextChannel {
  const channel = client.channels.cache.get(fake.fixture.textChannel.id);
  if (!channel || channel.type !== ChannelType.GuildText) throw new Error('#general is not cached');
  return channel;
}

/** Fails fast instead of hanging until the test timeout when an awaited event never comes. */
function within<T>(promise: Promise<T>, ms = 5000, what = 'event'): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** The next interaction discord.js emits, handled by `handler` (its errors fail the test). */
function nextInteraction<T>(handler: (i: Interaction) => Promise<T>): Promise<T> {
  return within(
    new Promise((resolve, reject) => client.once(Events.InteractionCreate, (i) => handler(i).then(resolve, reject))),
    5000,
    'interactionCreate',
  );
}

beforeEach(async () => {
  restWaits = [];
  fake = await startFakeDiscord({ heartbeatIntervalMs: 250 });
});

afterEach(async () => {
  await client?.destroy();
  await fake?.close();
  expect(restWaits).toEqual([]);
});

describe('fake Discord with the real discord.js Client', () => {
  it('logs in: gateway/bot, IDENTIFY, READY and GUILD_CREATE fill the caches', async () => {
    await login();

    expect(client.user?.id).toBe(fake.fixture.bot.id);
    expect(client.application?.id).toBe(fake.fixture.applicationId);
    expect(client.guilds.cache.get(fake.fixture.guildId)?.name).toBe(fake.fixture.guildName);
    expect(textChannel().name).toBe('general');
    expect(client.guilds.cache.get(fake.fixture.guildId)?.members.me?.id).toBe(fake.fixture.bot.id);
    const gatewayBot = fake.requestsTo('GET', /\/api\/v10\/gateway\/bot$/);
    expect(gatewayBot).toHaveLength(1);
    expect(gatewayBot[0]!.headers.authorization).toBe(`Bot ${fake.token}`);
    expect(fake.gateway.identifies).toBe(1);
    expect(fake.gateway.connectionQueries).toEqual([{ v: '10', encoding: 'json' }]);
    const identify = fake.gateway.received.find((f) => f.op === 2);
    expect(identify?.d.intents).toBe(
      GatewayIntentBits.Guilds | GatewayIntentBits.GuildMessages | GatewayIntentBits.MessageContent,
    );
  });

  it('rejects a wrong token like Discord (401 on REST)', async () => {
    client = new Client({ intents: INTENTS, rest: { api: fake.apiUrl } });
    await expect(client.login('not-the-token')).rejects.toThrow(/invalid token/i);
    expect(fake.requestsTo('GET', /gateway\/bot$/)[0]?.status).toBe(401);
  });

  it('acks heartbeats', async () => {
    await login();
    await eventually(() => fake.gateway.heartbeatAcks >= 2, 3000);
    expect(fake.gateway.heartbeats).toBe(fake.gateway.heartbeatAcks);
    expect(client.ws.ping).toBeGreaterThanOrEqual(0);
  });

  it('delivers a slash command; deferReply + editReply + followUp hit the interaction webhook', async () => {
    await login();
    const handled = nextInteraction(async (i) => {
      const command = i as ChatInputCommandInteraction;
      expect(command.isChatInputCommand()).toBe(true);
      expect(command.commandName).toBe('vibe');
      expect(command.options.getSubcommand()).toBe('create');
      expect(command.options.getString('prompt')).toBe('a pomodoro timer');
      expect(command.channelId).toBe(fake.fixture.textChannel.id);
      expect(command.user.id).toBe(fake.fixture.user.id);
      await command.deferReply();
      const row = new ActionRowBuilder<ButtonBuilder>().addComponents(
        new ButtonBuilder().setStyle(ButtonStyle.Link).setURL('https://example.com/app').setLabel('Open app'),
        new ButtonBuilder().setStyle(ButtonStyle.Secondary).setCustomId('app:1:undo').setLabel('Undo'),
      );
      const edited = await command.editReply({
        content: 'Live',
        embeds: [{ title: 'Pomodoro', description: 'ready' }],
        components: [row],
      });
      const follow = await command.followUp({ content: 'only you', flags: MessageFlags.Ephemeral });
      return { edited, follow };
    });
    const sent = fake.sendCommand({ subcommand: 'create', options: { prompt: 'a pomodoro timer' } });
    const { edited, follow } = await handled;

    const callback = fake.requestsTo('POST', /\/interactions\/\d+\/[^/]+\/callback$/)[0]!;
    expect(callback.path).toBe(`/api/v10/interactions/${sent.id}/${sent.token}/callback`);
    expect(callback.body).toEqual({ type: 5, data: { flags: 0 } });
    expect(callback.query.with_response).toBe('false');
    expect(callback.headers.authorization).toBeUndefined();
    expect(callback.status).toBe(204);
    const patch = fake.requestsTo('PATCH', /\/webhooks\/\d+\/[^/]+\/messages\/@original$/)[0]!;
    expect(patch.path).toBe(`/api/v10/webhooks/${fake.fixture.applicationId}/${sent.token}/messages/@original`);

    const interaction = fake.interaction(sent.id)!;
    const original = fake.message(fake.fixture.textChannel.id, interaction.originalMessageId!);
    expect(edited.id).toBe(original.id);
    expect(original).toMatchObject({ content: 'Live', edits: 1, type: 20, webhook_id: fake.fixture.applicationId });
    expect(original.flags).toBe(0);
    expect(original.history[0]?.flags).toBe(MessageFlags.Loading);
    expect(original.embeds).toEqual([{ type: 'rich', title: 'Pomodoro', description: 'ready' }]);
    expect((original.components?.[0] as any).components.map((c: any) => c.style)).toEqual([
      ButtonStyle.Link,
      ButtonStyle.Secondary,
    ]);
    expect(edited.content).toBe('Live');
    expect(interaction.followUpIds).toEqual([follow.id]);
    expect(fake.requestsTo('POST', /\/webhooks\/\d+\/[^/]+$/)[0]!.query.wait).toBe('true');
    expect(fake.message(fake.fixture.textChannel.id, follow.id).flags).toBe(MessageFlags.Ephemeral);
  });

  it('answers with_response=true with the callback resource, and lets a follow-up be edited and deleted', async () => {
    await login();
    const handled = nextInteraction(async (i) => {
      const command = i as ChatInputCommandInteraction;
      const response = await command.reply({ content: 'hello', withResponse: true });
      const follow = await command.followUp('step 1');
      await command.webhook.editMessage(follow.id, { content: 'step 2' });
      await command.deleteReply();
      return { response, follow };
    });
    const sent = fake.sendCommand({ subcommand: 'create', options: { prompt: 'x' } });
    const { response, follow } = await handled;

    expect(response.resource?.message?.content).toBe('hello');
    expect(response.interaction.responseMessageId).toBe(fake.interaction(sent.id)?.originalMessageId);
    expect(fake.message(fake.fixture.textChannel.id, follow.id)).toMatchObject({ content: 'step 2', edits: 1 });
    expect(fake.messages(fake.fixture.textChannel.id).map((m) => m.content)).toEqual(['step 2']);
  });

  it('answers 50027 Invalid Webhook Token once the interaction token is 15 minutes old', async () => {
    await login();
    const handled = nextInteraction(async (i) => {
      const command = i as ChatInputCommandInteraction;
      await command.reply({ content: 'working' });
      fake.interactions.age(command.id, 15 * 60_000 + 1);
      return command.editReply({ content: 'too late' }).catch((error: unknown) => error);
    });
    const sent = fake.sendCommand({ subcommand: 'create', options: { prompt: 'x' } });
    const error = await handled;

    expect(error).toBeInstanceOf(DiscordAPIError);
    expect(error).toMatchObject({ code: 50027, status: 401 });
    // The reply itself stays, so a bot can fall back to editing it through the channel.
    const original = fake.interaction(sent.id)!.originalMessageId!;
    expect(fake.message(fake.fixture.textChannel.id, original)).toMatchObject({ content: 'working', edits: 0 });
    const fallback = await textChannel().messages.edit(original, { content: 'edited through the channel' });
    expect(fallback.content).toBe('edited through the channel');
  });

  it('forgets an interaction not answered within 3 s (10062 Unknown interaction)', async () => {
    await login();
    const handled = nextInteraction(async (i) => {
      fake.interactions.age(i.id, 3001);
      return (i as ChatInputCommandInteraction).deferReply().catch((error: unknown) => error);
    });
    fake.sendCommand({ subcommand: 'create', options: { prompt: 'x' } });
    expect(await handled).toMatchObject({ code: 10062, status: 404 });
  });

  it('delivers a button click; update() answers with callback type 7 and edits the message', async () => {
    await login();
    const row = new ActionRowBuilder<ButtonBuilder>().addComponents(
      new ButtonBuilder().setStyle(ButtonStyle.Primary).setCustomId('app:1:retry').setLabel('Retry'),
    );
    const posted = await textChannel().send({ content: 'failed', components: [row] });

    const handled = nextInteraction(async (i) => {
      const button = i as ButtonInteraction;
      expect(button.isButton()).toBe(true);
      expect(button.customId).toBe('app:1:retry');
      expect(button.message.id).toBe(posted.id);
      await button.update({ content: 'retrying', components: [] });
    });
    const sent = fake.clickButton({ customId: 'app:1:retry', messageId: posted.id });
    await handled;

    expect(fake.interaction(sent.id)?.callback?.type).toBe(7);
    expect(fake.message(fake.fixture.textChannel.id, posted.id)).toMatchObject({
      content: 'retrying',
      components: [],
      edits: 1,
    });
  });

  it('posts, starts a thread from the message, and delivers a reply in the thread as messageCreate', async () => {
    await login();
    const posted = await textChannel().send({ content: 'Building your app' });
    const thread = await posted.startThread({ name: 'pomodoro timer' });
    expect(thread.id).toBe(posted.id);
    expect(thread.parentId).toBe(fake.fixture.textChannel.id);
    expect(fake.channel(thread.id)).toMatchObject({
      type: ChannelType.PublicThread,
      name: 'pomodoro timer',
      parent_id: fake.fixture.textChannel.id,
    });
    expect(fake.message(fake.fixture.textChannel.id, posted.id).thread?.id).toBe(thread.id);

    const received = new Promise<Message>((resolve) => {
      client.on(Events.MessageCreate, (m) => {
        if (!m.author.bot) resolve(m);
      });
    });
    fake.messageCreate({ channelId: thread.id, content: 'make it dark' });
    const message = await within(received, 5000, 'messageCreate in the thread');
    expect(message.channel.isThread()).toBe(true);
    expect(message.channelId).toBe(thread.id);
    expect(message.content).toBe('make it dark');
    expect(message.author.id).toBe(fake.fixture.user.id);
    expect(message.member?.id).toBe(fake.fixture.user.id);

    const reply = await thread.send('on it');
    expect(fake.messages(thread.id).map((m) => m.content)).toEqual(['make it dark', 'on it']);
    expect(reply.channelId).toBe(thread.id);
  });

  it("echoes the bot's own messages on the gateway and blanks content without the MessageContent intent", async () => {
    await login([GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessages]);
    const seen: Message[] = [];
    client.on(Events.MessageCreate, (m) => void seen.push(m));
    await textChannel().send('from the bot');
    fake.messageCreate({ channelId: fake.fixture.textChannel.id, content: 'secret' });
    fake.messageCreate({ channelId: fake.fixture.textChannel.id, content: `<@${fake.fixture.bot.id}> hi` });
    await eventually(() => seen.length === 3, 5000);
    expect(seen).toHaveLength(3);
    expect(seen.map((m) => [m.author.bot, m.content])).toEqual([
      [true, 'from the bot'],
      [false, ''],
      [false, `<@${fake.fixture.bot.id}> hi`],
    ]);
  });

  it('refuses what Discord refuses: over-long content is 50035 Invalid Form Body', async () => {
    await login();
    const error = await textChannel()
      .send('x'.repeat(2001))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DiscordAPIError);
    expect(error).toMatchObject({ code: 50035, status: 400 });
    expect((error as DiscordAPIError).rawError).toMatchObject({
      errors: { content: { _errors: [{ code: 'BASE_TYPE_MAX_LENGTH' }] } },
    });
  });

  it('sends rate-limit headers @discordjs/rest accepts without ever waiting, even for a burst of edits', async () => {
    await login();
    const status = await textChannel().send('step 0');
    const started = performance.now();
    for (let step = 1; step <= 20; step++) await status.edit(`step ${step}`);
    const elapsed = performance.now() - started;

    expect(fake.message(fake.fixture.textChannel.id, status.id)).toMatchObject({ content: 'step 20', edits: 20 });
    const res = await fetch(`${fake.apiUrl}/v10/users/@me`, { headers: { authorization: `Bot ${fake.token}` } });
    expect(res.headers.get('x-ratelimit-limit')).toBe('50');
    expect(res.headers.get('x-ratelimit-remaining')).toBe('49');
    expect(Number(res.headers.get('x-ratelimit-reset-after'))).toBeGreaterThan(0);
    expect(restWaits).toEqual([]);
    expect(elapsed).toBeLessThan(1000);
  });

  it('decodes multipart uploads (payload_json + files) into the request log and attachments', async () => {
    await login();
    const png = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');
    const sent = await textChannel().send({ content: 'screenshot', files: [{ attachment: png, name: 'shot.png' }] });
    const request = fake.requestsTo('POST', /\/channels\/\d+\/messages$/)[0]!;
    expect(request.headers['content-type']).toMatch(/^multipart\/form-data/);
    expect(request.body).toMatchObject({ content: 'screenshot', attachments: [{ id: '0' }] });
    expect(request.files).toEqual([
      { field: 'files[0]', filename: 'shot.png', contentType: 'image/png', size: png.length, data: png },
    ]);
    expect(sent.attachments.first()?.name).toBe('shot.png');
  });

  it('keeps uploads on the message: ids, names, sizes, bytes, served at their URL; attachment:// in embeds resolved', async () => {
    await login();
    const png = Buffer.from(makePng(640, 400));
    const sent = await textChannel().send({
      embeds: [{ title: 'Timer', image: { url: 'attachment://screenshot.png' } }],
      files: [{ attachment: png, name: 'screenshot.png', description: 'Screenshot of Timer, v1' }],
    });
    const request = fake.requestsTo('POST', /\/channels\/\d+\/messages$/)[0]!;
    expect(request.body.attachments).toEqual([{ id: '0', description: 'Screenshot of Timer, v1' }]);
    const stored = fake.message(fake.fixture.textChannel.id, sent.id);
    const [attachment] = stored.attachments;
    expect(attachment).toMatchObject({
      id: expect.stringMatching(/^\d{17,20}$/),
      filename: 'screenshot.png',
      size: png.length,
      content_type: 'image/png',
      description: 'Screenshot of Timer, v1',
      width: 640,
      height: 400,
    });
    // Discord shows the upload in the embed: attachment:// becomes the attachment's URL.
    expect(stored.embeds[0]?.image).toMatchObject({ url: attachment!.url, width: 640, height: 400 });
    expect(sent.embeds[0]?.image?.url).toBe(attachment!.url);
    expect(stored.files).toMatchObject([{ id: attachment!.id, filename: 'screenshot.png', size: png.length }]);
    expect(stored.files[0]!.data.equals(png)).toBe(true);
    const served = await fetch(attachment!.url);
    expect(served.headers.get('content-type')).toBe('image/png');
    expect(readPng(new Uint8Array(await served.arrayBuffer()))).toEqual({ width: 640, height: 400 });
    expect((await fetch(`${fake.url}/attachments/1/2/nothing.png`)).status).toBe(404);

    // An edit with `attachments: []` and a new file replaces the picture; one without files keeps it.
    const next = Buffer.from(makePng(320, 200));
    const edited = await sent.edit({
      embeds: [{ title: 'Timer v2', image: { url: 'attachment://screenshot.png' } }],
      attachments: [],
      files: [{ attachment: next, name: 'screenshot.png' }],
    });
    const after = fake.message(fake.fixture.textChannel.id, sent.id);
    expect(after.attachments).toHaveLength(1);
    expect(after.attachments[0]!.id).not.toBe(attachment!.id);
    expect(after.files[0]!.data.equals(next)).toBe(true);
    expect(edited.embeds[0]?.image?.url).toBe(after.attachments[0]!.url);
    await edited.edit({ content: 'text only' });
    expect(fake.message(fake.fixture.textChannel.id, sent.id).attachments.map((a) => a.id)).toEqual([
      after.attachments[0]!.id,
    ]);
    await edited.edit({ attachments: [] });
    expect(fake.message(fake.fixture.textChannel.id, sent.id).attachments).toEqual([]);
  });

  it("refuses uploads Discord's limits refuse, and an attachment:// that names no upload", async () => {
    await fake.close();
    fake = await startFakeDiscord({ heartbeatIntervalMs: 250, uploadLimit: 1000 });
    await login();
    const channel = textChannel();
    const failure = (p: Promise<unknown>) =>
      p.then(
        () => undefined,
        (e: unknown) => e as DiscordAPIError,
      );
    const big = await failure(channel.send({ files: [{ attachment: Buffer.alloc(1001), name: 'big.bin' }] }));
    expect(big).toMatchObject({ status: 413, code: 40005 });
    const many = Array.from({ length: 11 }, (_, i) => ({ attachment: Buffer.from('x'), name: `f${i}.txt` }));
    expect(await failure(channel.send({ files: many }))).toMatchObject({
      status: 400,
      code: 50035,
      rawError: { errors: { files: { _errors: [{ code: 'BASE_TYPE_MAX_LENGTH' }] } } },
    });
    const orphan = await failure(
      channel.send({
        embeds: [{ title: 'x', image: { url: 'attachment://other.png' } }],
        files: [{ attachment: Buffer.from('png'), name: 'screenshot.png' }],
      }),
    );
    expect(orphan).toMatchObject({ status: 400, code: 50035 });
    expect((orphan as DiscordAPIError).rawError).toMatchObject({
      errors: { embeds: { '0': { image: { url: { _errors: [{ code: 'ATTACHMENT_NOT_FOUND' }] } } } } },
    });
    // Ten is fine; a file alone is a message.
    const ten = await channel.send({ files: many.slice(0, 10) });
    expect(fake.message(channel.id, ten.id).attachments).toHaveLength(10);
    expect(fake.messages(channel.id)).toHaveLength(1);
  });

  it('registers commands with a bulk PUT through REST from discord.js', async () => {
    const rest = new REST({ api: fake.apiUrl }).setToken(fake.token);
    try {
      const body = [
        {
          name: 'vibe',
          description: 'Make an app',
          options: [
            {
              type: 1,
              name: 'create',
              description: 'New app',
              options: [{ type: 3, name: 'prompt', description: 'What to build', required: true }],
            },
          ],
        },
      ];
      const route = Routes.applicationGuildCommands(fake.fixture.applicationId, fake.fixture.guildId);
      const created = (await rest.put(route, { body })) as { id: string; name: string }[];
      expect(created.map((c) => c.name)).toEqual(['vibe']);
      expect(fake.requestsTo('PUT', /\/applications\/\d+\/guilds\/\d+\/commands$/)[0]!.body).toEqual(body);
      expect(fake.commands(fake.fixture.guildId)[0]?.id).toBe(created[0]!.id);
      // Overwriting keeps the id of a command whose name stays.
      const again = (await rest.put(route, { body })) as { id: string }[];
      expect(again[0]!.id).toBe(created[0]!.id);
      expect(await rest.get(route)).toHaveLength(1);
      expect(fake.sendCommand({ subcommand: 'create', options: { prompt: 'x' } }).payload.data).toMatchObject({
        id: created[0]!.id,
      });
    } finally {
      rest.clearHashSweeper();
      rest.clearHandlerSweeper();
    }
  });

  it('RESUMEs after a dropped connection and replays what it missed', async () => {
    await login();
    const resumed = once(client, Events.ShardResume);
    const seen: string[] = [];
    client.on(Events.MessageCreate, (m) => void seen.push(m.content));

    fake.dropConnection();
    // Sent while the client is away: Discord keeps it for the resumed session.
    fake.messageCreate({ channelId: fake.fixture.textChannel.id, content: 'while away' });
    const [, replayed] = await within(resumed, 5000, 'shardResume');
    // discord.js counts RESUMED's own sequence number too: 1 missed event + RESUMED.
    expect(replayed).toBe(2);
    fake.messageCreate({ channelId: fake.fixture.textChannel.id, content: 'after resume' });
    await eventually(() => seen.length >= 2, 5000);
    expect(seen).toEqual(['while away', 'after resume']);
    expect(fake.gateway.identifies).toBe(1);
    expect(fake.gateway.resumes).toBe(1);
    expect(fake.gateway.received.find((f) => f.op === 6)?.d).toMatchObject({
      token: fake.token,
      session_id: expect.any(String),
      seq: expect.any(Number),
    });
  });

  it('RESUMEs after a cut TCP link too', async () => {
    await login();
    const resumed = once(client, Events.ShardResume);
    fake.dropConnection('terminate');
    await within(resumed, 5000, 'shardResume');
    expect(fake.gateway.identifies).toBe(1);
    expect(fake.gateway.resumes).toBe(1);
  });
});
