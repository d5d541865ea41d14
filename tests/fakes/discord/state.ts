import {
  ChannelType,
  MessageFlags,
  MessageType,
  type APIChannel,
  type APIMessage,
  type APIThreadChannel,
  type APIUser,
  type GatewayMessageCreateDispatchData,
} from 'discord.js';
import { threadAlreadyCreated, unknownChannel, unknownMessage } from './api-error.ts';
import type { DiscordFixture } from './fixture.ts';
import type { SnowflakeGenerator } from './snowflakes.ts';

/** Sends a dispatch (MESSAGE_CREATE, THREAD_CREATE, …) to the gateway's sessions. */
export type Publish = (event: string, data: unknown) => void;

/** A message as it stands now, with how many times it was edited and its earlier versions. */
export type FakeMessage = APIMessage & { edits: number; history: APIMessage[] };

interface StoredMessage {
  data: APIMessage;
  edits: number;
  history: APIMessage[];
  deleted: boolean;
}

export interface CreateMessageOptions {
  author?: APIUser;
  /** Extra fields Discord sets for some messages (webhook_id, interaction_metadata, …). */
  extra?: Partial<APIMessage>;
}

/**
 * The fake's channels and messages. Every change is also published as the gateway event Discord
 * would send (MESSAGE_CREATE / MESSAGE_UPDATE / MESSAGE_DELETE / THREAD_CREATE), so a bot sees its
 * own messages come back, as it does on Discord. Ephemeral messages are stored but not published.
 */
export class DiscordState {
  private readonly channelsById = new Map<string, APIChannel>();
  private readonly messagesByChannel = new Map<string, StoredMessage[]>();

  constructor(
    readonly fixture: DiscordFixture,
    private readonly ids: SnowflakeGenerator,
    private readonly publish: Publish,
  ) {
    this.channelsById.set(fixture.textChannel.id, fixture.textChannel);
  }

  get channels(): APIChannel[] {
    return [...this.channelsById.values()];
  }

  channel(id: string): APIChannel | undefined {
    return this.channelsById.get(id);
  }

  requireChannel(id: string): APIChannel {
    const channel = this.channelsById.get(id);
    if (!channel) throw unknownChannel();
    return channel;
  }

  threads(): APIThreadChannel[] {
    return this.channels.filter(
      (c): c is APIThreadChannel => c.type === ChannelType.PublicThread || c.type === ChannelType.PrivateThread,
    );
  }

  /** Messages in a channel, oldest first, as they stand after edits (deleted ones left out). */
  messages(channelId: string): FakeMessage[] {
    return (this.messagesByChannel.get(channelId) ?? []).filter((m) => !m.deleted).map(view);
  }

  message(channelId: string, messageId: string): FakeMessage {
    return view(this.stored(channelId, messageId));
  }

  createMessage(channelId: string, body: Record<string, any>, options: CreateMessageOptions = {}): APIMessage {
    const channel = this.requireChannel(channelId);
    const now = new Date().toISOString();
    const reply = body.message_reference?.message_id !== undefined;
    const data: APIMessage = {
      id: this.ids.next(),
      channel_id: channelId,
      author: options.author ?? this.fixture.bot,
      content: body.content ?? '',
      timestamp: now,
      edited_timestamp: null,
      tts: Boolean(body.tts),
      mention_everyone: false,
      mentions: this.mentionsIn(body.content),
      mention_roles: [],
      attachments: Array.isArray(body.attachments) && body.attachments.every((a: any) => a.url) ? body.attachments : [],
      embeds: normalizeEmbeds(body.embeds),
      pinned: false,
      type: reply ? MessageType.Reply : MessageType.Default,
      flags: (body.flags ?? 0) as MessageFlags,
      components: body.components ?? [],
      ...(reply
        ? {
            message_reference: {
              type: 0,
              channel_id: channelId,
              message_id: body.message_reference.message_id,
              guild_id: this.fixture.guildId,
            },
          }
        : {}),
      ...(body.nonce !== undefined ? { nonce: body.nonce } : {}),
      ...options.extra,
    };
    const list = this.messagesByChannel.get(channelId) ?? [];
    list.push({ data, edits: 0, history: [], deleted: false });
    this.messagesByChannel.set(channelId, list);
    if ('last_message_id' in channel) channel.last_message_id = data.id;
    if (channel.type === ChannelType.PublicThread || channel.type === ChannelType.PrivateThread) {
      channel.message_count = (channel.message_count ?? 0) + 1;
      channel.total_message_sent = (channel.total_message_sent ?? 0) + 1;
    }
    if (!isEphemeral(data)) this.publish('MESSAGE_CREATE', this.gatewayMessage(data));
    return structuredClone(data);
  }

  /** PATCH semantics: absent fields stay, `null` clears. */
  editMessage(channelId: string, messageId: string, body: Record<string, any>): APIMessage {
    const stored = this.stored(channelId, messageId);
    const before = structuredClone(stored.data);
    const data = stored.data;
    if ('content' in body) {
      data.content = body.content ?? '';
      data.mentions = this.mentionsIn(data.content);
    }
    if ('embeds' in body) data.embeds = normalizeEmbeds(body.embeds);
    if ('components' in body) data.components = body.components ?? [];
    // An edit lists the attachments to keep (by id); the rest are removed.
    if ('attachments' in body)
      data.attachments = data.attachments.filter((a) =>
        (body.attachments ?? []).some((k: { id?: unknown }) => String(k.id) === a.id),
      );
    // Only SUPPRESS_EMBEDS can be changed by an edit; editing a deferred reply ends its loading state.
    const suppress = (body.flags ?? 0) & MessageFlags.SuppressEmbeds;
    data.flags = (((data.flags ?? 0) & ~MessageFlags.SuppressEmbeds & ~MessageFlags.Loading) |
      suppress) as MessageFlags;
    data.edited_timestamp = new Date().toISOString();
    stored.history.push(before);
    stored.edits += 1;
    if (!isEphemeral(data)) this.publish('MESSAGE_UPDATE', this.gatewayMessage(data));
    return structuredClone(data);
  }

  deleteMessage(channelId: string, messageId: string): void {
    const stored = this.stored(channelId, messageId);
    stored.deleted = true;
    if (!isEphemeral(stored.data))
      this.publish('MESSAGE_DELETE', { id: messageId, channel_id: channelId, guild_id: this.fixture.guildId });
  }

  getMessage(channelId: string, messageId: string): APIMessage {
    return structuredClone(this.stored(channelId, messageId).data);
  }

  /**
   * Starts a public thread from a message, as `POST /channels/{id}/messages/{mid}/threads` does:
   * the thread's id is the message's id, and the message gains `thread` and HAS_THREAD.
   */
  startThreadFromMessage(
    channelId: string,
    messageId: string,
    body: Record<string, any>,
    owner = this.fixture.bot,
  ): APIThreadChannel {
    const parent = this.requireChannel(channelId);
    const stored = this.stored(channelId, messageId);
    if (this.channelsById.has(messageId)) throw threadAlreadyCreated();
    const now = new Date().toISOString();
    const thread: APIThreadChannel = {
      id: messageId,
      type: parent.type === ChannelType.GuildAnnouncement ? ChannelType.AnnouncementThread : ChannelType.PublicThread,
      guild_id: this.fixture.guildId,
      parent_id: channelId,
      owner_id: owner.id,
      name: String(body.name ?? 'thread'),
      last_message_id: null,
      rate_limit_per_user: body.rate_limit_per_user ?? 0,
      message_count: 0,
      member_count: 1,
      total_message_sent: 0,
      flags: 0 as APIThreadChannel['flags'],
      thread_metadata: {
        archived: false,
        auto_archive_duration: body.auto_archive_duration ?? 1440,
        archive_timestamp: now,
        locked: false,
        create_timestamp: now,
      },
      member: { id: messageId, user_id: owner.id, join_timestamp: now, flags: 0 as any },
    };
    this.channelsById.set(thread.id, thread);
    stored.data.thread = thread;
    stored.data.flags = ((stored.data.flags ?? 0) | MessageFlags.HasThread) as MessageFlags;
    this.publish('THREAD_CREATE', { ...thread, newly_created: true });
    return structuredClone(thread);
  }

  /** MESSAGE_CREATE / MESSAGE_UPDATE carry guild_id and the author's member (without user). */
  gatewayMessage(data: APIMessage): GatewayMessageCreateDispatchData {
    const memberOf = (userId: string): Record<string, unknown> | undefined => {
      const member = this.fixture.members.get(userId);
      if (!member) return undefined;
      const { user: _user, ...noUser } = member;
      return noUser;
    };
    const author = data.webhook_id ? undefined : memberOf(data.author.id);
    return {
      ...structuredClone(data),
      guild_id: this.fixture.guildId,
      ...(author ? { member: author } : {}),
      mentions: data.mentions.map((u) => {
        const member = memberOf(u.id);
        return member ? { ...u, member } : u;
      }),
    } as GatewayMessageCreateDispatchData;
  }

  private stored(channelId: string, messageId: string): StoredMessage {
    this.requireChannel(channelId);
    const stored = this.messagesByChannel.get(channelId)?.find((m) => m.data.id === messageId && !m.deleted);
    if (!stored) throw unknownMessage();
    return stored;
  }

  /** `<@id>` / `<@!id>` mentions of known members become `mentions`, as Discord resolves them. */
  private mentionsIn(content: unknown): APIUser[] {
    if (typeof content !== 'string') return [];
    const ids = new Set([...content.matchAll(/<@!?(\d+)>/g)].map((m) => m[1]!));
    return [...ids].flatMap((id) => {
      const user = this.fixture.members.get(id)?.user;
      return user ? [user] : [];
    });
  }
}

export function isEphemeral(message: APIMessage): boolean {
  return ((message.flags ?? 0) & MessageFlags.Ephemeral) !== 0;
}

/** Discord returns every embed with `type: 'rich'` filled in. */
function normalizeEmbeds(embeds: unknown): APIMessage['embeds'] {
  if (!Array.isArray(embeds)) return [];
  return embeds.map((e) => ({ type: 'rich', ...e }));
}

function view(stored: StoredMessage): FakeMessage {
  return { ...structuredClone(stored.data), edits: stored.edits, history: structuredClone(stored.history) };
}
