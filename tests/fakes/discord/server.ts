import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIApplicationCommand, APIChannel, APIInteraction, APIMessage, APIThreadChannel } from 'discord.js';
import { ApplicationCommands } from './commands.ts';
import {
  addMember,
  createFixture,
  guildCreateData,
  memberPermissions,
  type DiscordFixture,
  type FixtureOptions,
} from './fixture.ts';
import { FakeGateway } from './gateway.ts';
import { InteractionBook, type FakeInteraction } from './interactions.ts';
import {
  buttonInteraction,
  chatInputInteraction,
  type CommandOptionValues,
  type InteractionContext,
} from './payloads.ts';
import { RequestLog, type RecordedRequest } from './request-log.ts';
import { FakeDiscordRest, type InjectedFailure } from './rest.ts';
import { SnowflakeGenerator } from './snowflakes.ts';
import { DiscordState, type FakeMessage } from './state.ts';

/**
 * A fake Discord on loopback for the real discord.js `Client`: REST under `/api/v10` and the
 * gateway (WebSocket) on the same port. Point a client at it with
 * `new Client({ intents, rest: { api: fake.apiUrl } })` and `client.login(fake.token)`.
 */

export interface FakeDiscordOptions extends FixtureOptions {
  /** HELLO's heartbeat_interval. Default 41250 (Discord's); tests lower it to see heartbeats. */
  heartbeatIntervalMs?: number;
  /** How long an interaction token works for webhook calls. Default 15 min (Discord's). */
  interactionTokenTtlMs?: number;
  /** How long Discord waits for the interaction callback. Default 3000. */
  interactionCallbackDeadlineMs?: number;
  /** Per-bucket REST rate limit. Default 50 requests per 1000 ms window. */
  rateLimit?: { limit: number; windowMs: number };
  /** Bytes of files one request may carry. Default 25 MiB (Discord's default for bots); beyond, 413. */
  uploadLimit?: number;
}

/** An interaction the fake dispatched; find its callback with `fake.interaction(id)`. */
export interface SentInteraction {
  id: string;
  token: string;
  payload: APIInteraction;
}

export interface CommandInput {
  /** Default `vibe`. */
  name?: string;
  subcommand?: string;
  options?: CommandOptionValues;
  /** Default: #general. A thread id works too. */
  channelId?: string;
  /** Default: the fixture's human user. */
  userId?: string;
  /** Attachment options by name (e.g. `/vibe create image:`): uploaded, then passed as `resolved.attachments`. */
  attachments?: Record<string, UserFile>;
}

/** A file a person attaches. */
export interface UserFile {
  name: string;
  data: Uint8Array;
  /** What the person's client declared; Discord passes it on as `content_type`. */
  contentType?: string;
}

export interface ButtonInput {
  customId: string;
  /** The message the button is on. */
  messageId: string;
  /** Default: #general. */
  channelId?: string;
  userId?: string;
}

export interface UserMessageInput {
  /** A channel or thread id. */
  channelId: string;
  content: string;
  /** Default: the fixture's human user. */
  userId?: string;
  /** Replies to this message (MESSAGE type 19). */
  replyTo?: string;
  /** Message flags the author set, e.g. `MessageFlags.SuppressEmbeds` (the embeds of its links removed). */
  flags?: number;
  /** Files attached to the message. */
  files?: UserFile[];
}

export class FakeDiscord {
  readonly fixture: DiscordFixture;
  readonly gateway: FakeGateway;
  readonly interactions: InteractionBook;
  readonly state: DiscordState;
  private readonly log = new RequestLog();
  private readonly rest: FakeDiscordRest;
  private readonly commandStore: ApplicationCommands;
  private readonly ids = new SnowflakeGenerator();
  private readonly server: Server;

  constructor(options: FakeDiscordOptions = {}) {
    this.fixture = createFixture(this.ids, options);
    this.state = new DiscordState(
      this.fixture,
      this.ids,
      (t, d) => this.gateway.dispatch(t, d),
      () => this.url,
    );
    this.interactions = new InteractionBook(this.state, {
      callbackDeadlineMs: options.interactionCallbackDeadlineMs ?? 3000,
      tokenTtlMs: options.interactionTokenTtlMs ?? 15 * 60_000,
    });
    this.commandStore = new ApplicationCommands(this.ids, this.fixture.applicationId);
    this.gateway = new FakeGateway({
      token: this.fixture.token,
      botUserId: this.fixture.bot.id,
      heartbeatIntervalMs: options.heartbeatIntervalMs ?? 41_250,
      url: () => this.gatewayUrl,
      readyData: () => ({
        user: { ...this.fixture.bot, verified: true, mfa_enabled: false },
        guilds: [{ id: this.fixture.guildId, unavailable: true }],
        application: { id: this.fixture.applicationId, flags: 0 },
        private_channels: [],
        relationships: [],
        presences: [],
        guild_join_requests: [],
        geo_ordered_rtc_regions: [],
        user_settings: {},
      }),
      afterReady: () => [{ t: 'GUILD_CREATE', d: guildCreateData(this.fixture, this.state.threads() as any) }],
    });
    this.rest = new FakeDiscordRest({
      token: this.fixture.token,
      log: this.log,
      ...(options.rateLimit ? { rateLimit: options.rateLimit } : {}),
      ...(options.uploadLimit !== undefined ? { uploadLimit: options.uploadLimit } : {}),
      state: () => this.state,
      context: () => ({
        state: this.state,
        interactions: this.interactions,
        commands: this.commandStore,
        gatewayUrl: this.gatewayUrl,
      }),
    });
    this.server = createServer((req, res) => {
      this.rest.handle(req, res).catch((error: unknown) => {
        res
          .writeHead(500, { 'content-type': 'application/json' })
          .end(JSON.stringify({ message: String(error), code: 0 }));
      });
    });
    this.server.on('upgrade', (req, socket, head) => this.gateway.handleUpgrade(req, socket, head));
  }

  async listen(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return this;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** What to pass as discord.js `rest.api` (@discordjs/rest appends `/v10`). */
  get apiUrl(): string {
    return `${this.url}/api`;
  }

  get gatewayUrl(): string {
    return this.url.replace(/^http/, 'ws');
  }

  get token(): string {
    return this.fixture.token;
  }

  // ------------------------------------------------------------------ what the bot did

  get requests(): RecordedRequest[] {
    return this.log.requests;
  }

  requestsTo(method: string, path: RegExp): RecordedRequest[] {
    return this.log.requestsTo(method, path);
  }

  waitForRequest(
    method: string,
    path: RegExp,
    predicate?: (r: RecordedRequest) => boolean,
    timeoutMs?: number,
  ): Promise<RecordedRequest> {
    return this.log.waitForRequest(method, path, predicate, timeoutMs);
  }

  messages(channelId: string): FakeMessage[] {
    return this.state.messages(channelId);
  }

  message(channelId: string, messageId: string): FakeMessage {
    return this.state.message(channelId, messageId);
  }

  get channels(): APIChannel[] {
    return this.state.channels;
  }

  channel(id: string): APIChannel | undefined {
    return this.state.channel(id);
  }

  threads(): APIThreadChannel[] {
    return this.state.threads();
  }

  interaction(id: string): FakeInteraction | undefined {
    return this.interactions.get(id);
  }

  /** Registered commands of a guild, or the global ones. */
  commands(guildId?: string): APIApplicationCommand[] {
    return this.commandStore.list(guildId);
  }

  failNext(failure: InjectedFailure): void {
    this.rest.failNext(failure);
  }

  // ------------------------------------------------------------------ what users do

  dispatch(t: string, d: unknown): void {
    this.gateway.dispatch(t, d);
  }

  dropConnection(code?: number | 'terminate'): void {
    this.gateway.dropConnection(code);
  }

  /** Dispatches INTERACTION_CREATE with any interaction payload and tracks its callback and webhook. */
  sendInteraction(payload: APIInteraction): SentInteraction {
    const userId = payload.member?.user.id ?? payload.user?.id ?? this.fixture.user.id;
    this.interactions.add({
      id: payload.id,
      token: payload.token,
      applicationId: payload.application_id,
      type: payload.type,
      channelId: payload.channel?.id ?? this.fixture.textChannel.id,
      guildId: payload.guild_id ?? this.fixture.guildId,
      userId,
      ...(payload.message ? { componentMessageId: payload.message.id } : {}),
      createdAt: Date.now(),
    });
    this.gateway.dispatch('INTERACTION_CREATE', payload);
    return { id: payload.id, token: payload.token, payload };
  }

  /** Another human member (call before the client logs in); `permissions` adds a role granting them. */
  addMember(name: string, permissions?: bigint): string {
    return addMember(this.fixture, this.ids, name, permissions);
  }

  /** A user runs a slash command, e.g. `/vibe create prompt:…`. */
  sendCommand(input: CommandInput = {}): SentInteraction {
    const name = input.name ?? 'vibe';
    const registered = [...this.commandStore.list(this.fixture.guildId), ...this.commandStore.list()].find(
      (c) => c.name === name,
    );
    const ctx = this.interactionContext(input.channelId, input.userId);
    const attachments = Object.fromEntries(
      Object.entries(input.attachments ?? {}).map(([option, file]) => [
        option,
        this.state.uploadAttachment(ctx.channel.id, file),
      ]),
    );
    return this.sendInteraction(
      chatInputInteraction(ctx, {
        commandId: registered?.id ?? this.ids.next(),
        name,
        ...(input.subcommand ? { subcommand: input.subcommand } : {}),
        ...(input.options ? { options: input.options } : {}),
        ...(input.attachments ? { attachments } : {}),
      }),
    );
  }

  /** A user clicks a button (custom_id) on a message the bot posted. */
  clickButton(input: ButtonInput): SentInteraction {
    const ctx = this.interactionContext(input.channelId, input.userId);
    const message = this.state.getMessage(ctx.channel.id, input.messageId);
    return this.sendInteraction(buttonInteraction(ctx, input.customId, message));
  }

  /** A user writes in a channel or thread: stored, and dispatched as MESSAGE_CREATE. */
  messageCreate(input: UserMessageInput): APIMessage {
    const userId = input.userId ?? this.fixture.user.id;
    const author = this.fixture.members.get(userId)?.user;
    if (!author) throw new Error(`fake discord: ${userId} is not a member`);
    const files = (input.files ?? []).map((f, i) => ({
      field: `files[${i}]`,
      filename: f.name,
      contentType: f.contentType ?? '',
      size: f.data.length,
      data: Buffer.from(f.data),
    }));
    return this.state.createMessage(
      input.channelId,
      {
        content: input.content,
        ...(input.replyTo ? { message_reference: { message_id: input.replyTo } } : {}),
        ...(input.flags !== undefined ? { flags: input.flags } : {}),
      },
      { author, files },
    );
  }

  async close(): Promise<void> {
    await this.gateway.close();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private interactionContext(
    channelId = this.fixture.textChannel.id,
    userId = this.fixture.user.id,
  ): InteractionContext {
    const member = this.fixture.members.get(userId);
    if (!member?.user) throw new Error(`fake discord: ${userId} is not a member`);
    return {
      id: this.ids.next(),
      // Real tokens are long opaque strings; only their identity matters.
      token: `aW50ZXJhY3Rpb24.${randomBytes(48).toString('base64url')}`,
      applicationId: this.fixture.applicationId,
      guildId: this.fixture.guildId,
      channel: structuredClone(this.state.requireChannel(channelId)),
      member: { ...structuredClone(member), user: member.user, permissions: memberPermissions(this.fixture, userId) },
      appPermissions: memberPermissions(this.fixture, this.fixture.bot.id),
    };
  }
}

/** Starts a fake Discord on 127.0.0.1 (random port). Close it with `fake.close()`. */
export function startFakeDiscord(options: FakeDiscordOptions = {}): Promise<FakeDiscord> {
  return new FakeDiscord(options).listen();
}
